/**
 * Getting pre-provisioned devices onto the server before they boot (CHECK_PRE_PROVISIONED_DEVICES): a ThingsBoard
 * bulk-import CSV with its column mapping, and a small REST client that imports it (`POST /api/device/bulk_import`)
 * or creates devices one by one after looking each up by name. Both are idempotent: bulk import updates the rows
 * whose NAME exists, and the per-device path creates only missing devices and fixes credentials that differ.
 */

/** The credentials a device is registered with (ThingsBoard's types and field names). */
export type RegisteredCredentials =
  | { type: "ACCESS_TOKEN"; token: string }
  | { type: "MQTT_BASIC"; clientId: string; userName: string; password: string }
  | { type: "X509_CERTIFICATE"; certificatePem: string };

export interface RegisteredDevice {
  name: string;
  /** Device profile name (ThingsBoard's device `type`). */
  profile: string;
  credentials: RegisteredCredentials;
  /** Server attributes, e.g. mac and serial. */
  attributes: Record<string, string>;
}

export interface BulkImportColumn {
  type: string;
  key?: string;
}

export interface BulkImportMapping {
  columns: BulkImportColumn[];
  delimiter: string;
  update: boolean;
  header: boolean;
}

export interface BulkImportRequest {
  file: string;
  mapping: BulkImportMapping;
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The bulk-import CSV (header line, then one row per device) and its mapping: NAME, TYPE, then only the credential
 * columns some device uses (X509, MQTT_CLIENT_ID/MQTT_USER_NAME/MQTT_PASSWORD, ACCESS_TOKEN), then one
 * SERVER_ATTRIBUTE column per attribute key. Columns are matched by position; a device leaves the others empty.
 */
export function bulkImportRequest(devices: readonly RegisteredDevice[]): BulkImportRequest {
  const used = new Set(devices.map((d) => d.credentials.type));
  const columns: { header: string; column: BulkImportColumn; cell: (d: RegisteredDevice) => string }[] = [
    { header: "name", column: { type: "NAME" }, cell: (d) => d.name },
    { header: "type", column: { type: "TYPE" }, cell: (d) => d.profile },
  ];
  if (used.has("ACCESS_TOKEN")) {
    columns.push({ header: "access_token", column: { type: "ACCESS_TOKEN" }, cell: (d) => (d.credentials.type === "ACCESS_TOKEN" ? d.credentials.token : "") });
  }
  if (used.has("MQTT_BASIC")) {
    const basic = (d: RegisteredDevice, f: "clientId" | "userName" | "password") => (d.credentials.type === "MQTT_BASIC" ? d.credentials[f] : "");
    columns.push(
      { header: "mqtt_client_id", column: { type: "MQTT_CLIENT_ID" }, cell: (d) => basic(d, "clientId") },
      { header: "mqtt_user_name", column: { type: "MQTT_USER_NAME" }, cell: (d) => basic(d, "userName") },
      { header: "mqtt_password", column: { type: "MQTT_PASSWORD" }, cell: (d) => basic(d, "password") },
    );
  }
  if (used.has("X509_CERTIFICATE")) {
    columns.push({ header: "x509", column: { type: "X509" }, cell: (d) => (d.credentials.type === "X509_CERTIFICATE" ? d.credentials.certificatePem : "") });
  }
  const attributeKeys = [...new Set(devices.flatMap((d) => Object.keys(d.attributes)))].sort();
  for (const key of attributeKeys) columns.push({ header: key, column: { type: "SERVER_ATTRIBUTE", key }, cell: (d) => d.attributes[key] ?? "" });
  const lines = [columns.map((c) => c.header).join(","), ...devices.map((d) => columns.map((c) => csvCell(c.cell(d))).join(","))];
  return { file: lines.join("\n") + "\n", mapping: { columns: columns.map((c) => c.column), delimiter: ",", update: true, header: true } };
}

export class RestError extends Error {
  override readonly name = "RestError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface BulkImportResult {
  created: number;
  updated: number;
  errors: number;
  errorsList: string[];
}

export interface RegisterResult {
  created: number;
  updated: number;
  unchanged: number;
  /** name → device id */
  ids: Record<string, string>;
}

/** A ThingsBoard REST session (X-Authorization: Bearer). Error messages carry the server's message, never a request body. */
export class ThingsBoardRest {
  private token = "";
  constructor(private readonly base: string) {
    this.base = base.replace(/\/+$/, "");
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.call<{ token: string }>("POST", "/api/auth/login", { username, password }, false);
    this.token = r.token;
  }

  async call<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (auth) headers["X-Authorization"] = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RestError(0, `${method} ${this.base}${pathOnly(path)}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 200);
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (typeof m === "string") message = m;
      } catch {
        // plain-text error body
      }
      throw new RestError(res.status, `${method} ${pathOnly(path)}: HTTP ${res.status} ${message}`);
    }
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /** The device with that name, or undefined (ThingsBoard answers 404). */
  async findDevice(name: string): Promise<{ id: { id: string }; name: string; type: string } | undefined> {
    try {
      return await this.call("GET", `/api/tenant/devices?deviceName=${encodeURIComponent(name)}`);
    } catch (e) {
      if (e instanceof RestError && e.status === 404) return undefined;
      throw e;
    }
  }

  async bulkImport(request: BulkImportRequest): Promise<BulkImportResult> {
    return this.call<BulkImportResult>("POST", "/api/device/bulk_import", request);
  }

  /** Names of the tenant's device profiles. */
  async profileNames(): Promise<string[]> {
    const names: string[] = [];
    for (let page = 0; page < 1000; page++) {
      const r = await this.call<{ data: { name: string }[]; hasNext: boolean }>("GET", `/api/deviceProfiles?pageSize=100&page=${page}`);
      names.push(...r.data.map((p) => p.name));
      if (!r.hasNext) break;
    }
    return names;
  }

  /**
   * Per device: look it up by name; create it with its credentials when missing; otherwise update its credentials
   * only if they differ. Server attributes are (re)written either way.
   */
  async registerEach(devices: readonly RegisteredDevice[]): Promise<RegisterResult> {
    const result: RegisterResult = { created: 0, updated: 0, unchanged: 0, ids: {} };
    for (const d of devices) {
      const wanted = restCredentials(d.credentials);
      let id: string;
      const existing = await this.findDevice(d.name);
      if (!existing) {
        const created = await this.call<{ id: { id: string } }>("POST", "/api/device-with-credentials", { device: { name: d.name, type: d.profile }, credentials: wanted });
        id = created.id.id;
        result.created++;
      } else {
        id = existing.id.id;
        const current = await this.call<{ id: { id: string }; credentialsType: string; credentialsId: string; credentialsValue: string | null }>(
          "GET",
          `/api/device/${id}/credentials`,
        );
        if (sameCredentials(current, wanted)) result.unchanged++;
        else {
          await this.call("POST", "/api/device/credentials", { id: current.id, deviceId: { entityType: "DEVICE", id }, ...wanted });
          result.updated++;
        }
      }
      if (Object.keys(d.attributes).length > 0) await this.call("POST", `/api/plugins/telemetry/DEVICE/${id}/attributes/SERVER_SCOPE`, d.attributes);
      result.ids[d.name] = id;
    }
    return result;
  }
}

function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}

/** A DeviceCredentials body for the REST API (MQTT_BASIC's value is a JSON string). */
export function restCredentials(c: RegisteredCredentials): { credentialsType: string; credentialsId: string | null; credentialsValue: string | null } {
  switch (c.type) {
    case "ACCESS_TOKEN":
      return { credentialsType: "ACCESS_TOKEN", credentialsId: c.token, credentialsValue: null };
    case "MQTT_BASIC":
      return { credentialsType: "MQTT_BASIC", credentialsId: null, credentialsValue: JSON.stringify({ clientId: c.clientId, userName: c.userName, password: c.password }) };
    case "X509_CERTIFICATE":
      return { credentialsType: "X509_CERTIFICATE", credentialsId: null, credentialsValue: c.certificatePem };
  }
}

function stripPem(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/[\r\n]/g, "");
}

function sameCredentials(current: { credentialsType: string; credentialsId: string; credentialsValue: string | null }, wanted: ReturnType<typeof restCredentials>): boolean {
  if (current.credentialsType !== wanted.credentialsType) return false;
  switch (wanted.credentialsType) {
    case "ACCESS_TOKEN":
      return current.credentialsId === wanted.credentialsId;
    case "MQTT_BASIC": {
      try {
        const a = JSON.parse(current.credentialsValue ?? "") as Record<string, unknown>;
        const b = JSON.parse(wanted.credentialsValue!) as Record<string, unknown>;
        return (a.clientId ?? "") === b.clientId && (a.userName ?? "") === b.userName && (a.password ?? "") === b.password;
      } catch {
        return false;
      }
    }
    default:
      return stripPem(current.credentialsValue ?? "") === stripPem(wanted.credentialsValue ?? "");
  }
}
