/**
 * `POST /api/device/bulk_import`, as ThingsBoard's AbstractBulkImportService and DeviceBulkImportService do it:
 * - the CSV's columns are mapped by position to `mapping.columns`; empty cells are ignored;
 * - a row whose NAME exists updates that device (it is never rejected); otherwise a device is created;
 * - attributes and telemetry of an updated device are written only when `mapping.update` is true;
 * - a failing row becomes "Line N: <ExceptionClass>: <message>" (the header, when present, is line 1);
 * - credentials come from X509, else the MQTT_* columns, else ACCESS_TOKEN; without any, an existing device keeps
 *   its credentials and a new one gets a random token;
 * - cells of attribute and telemetry columns are typed like TypeCastUtil.castValue (long, double, boolean, text).
 */
import {
  accessTokenCredentials,
  InvalidCredentialsError,
  mqttBasicCredentials,
  x509Credentials,
  type CredentialsSpec,
} from "./credentials.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import type { Device, DeviceAdditionalInfo, KvValue } from "./model.js";
import { objectBody, type ApiContext, type Obj } from "./http-context.js";
import { findOrCreateProfile } from "./http-devices.js";
import { CsvSyntaxError, parseCsv } from "./http-csv.js";
import { badRequest, jsonReply, ReplyError } from "./http-reply.js";
import type { Router } from "./http-router.js";

export const COLUMN_TYPES = [
  "NAME",
  "TYPE",
  "LABEL",
  "DESCRIPTION",
  "IS_GATEWAY",
  "ACCESS_TOKEN",
  "X509",
  "MQTT_CLIENT_ID",
  "MQTT_USER_NAME",
  "MQTT_PASSWORD",
  "SHARED_ATTRIBUTE",
  "SERVER_ATTRIBUTE",
  "TIMESERIES",
] as const;
type ColumnType = (typeof COLUMN_TYPES)[number];
const KV_TYPES: readonly ColumnType[] = ["SHARED_ATTRIBUTE", "SERVER_ATTRIBUTE", "TIMESERIES"];

interface Column {
  type: ColumnType;
  key: string | undefined;
}

interface Row {
  line: number;
  fields: Partial<Record<ColumnType, string>>;
  kvs: { column: Column; value: KvValue }[];
}

export interface BulkImportResult {
  created: number;
  updated: number;
  errors: number;
  errorsList: string[];
}

export function addBulkImportRoutes(router: Router, ctx: ApiContext): void {
  router.post("/api/device/bulk_import", async (r) => jsonReply(bulkImport(ctx, objectBody(await r.jsonBody()))));
}

export function bulkImport(ctx: ApiContext, body: Obj): BulkImportResult {
  const mapping = objectBody(body.mapping ?? null);
  if (typeof body.file !== "string") throw badRequest("Bulk import request should contain a file");
  const columns = readColumns(mapping.columns);
  const delimiter = typeof mapping.delimiter === "string" && mapping.delimiter !== "" ? mapping.delimiter : ",";
  const rows = readRows(body.file, delimiter, mapping.header === true, columns);
  const update = mapping.update === true;

  const result: BulkImportResult = { created: 0, updated: 0, errors: 0, errorsList: [] };
  for (const row of rows) {
    try {
      const { device, updated } = saveRow(ctx, row);
      if (update || !updated) saveKvs(ctx, device, row);
      if (updated) result.updated++;
      else result.created++;
    } catch (e) {
      result.errors++;
      result.errorsList.push(`Line ${row.line}: ${rootCauseMessage(e)}`);
    }
  }
  return result;
}

function readColumns(v: unknown): Column[] {
  if (!Array.isArray(v) || v.length === 0) throw badRequest("Bulk import mapping should contain columns");
  return v.map((c, i) => {
    const o = objectBody(c);
    if (typeof o.type !== "string" || !(COLUMN_TYPES as readonly string[]).includes(o.type)) {
      throw badRequest(`Unsupported column type at position ${i}: ${String(o.type)}`);
    }
    return { type: o.type as ColumnType, key: typeof o.key === "string" && o.key !== "" ? o.key : undefined };
  });
}

function readRows(file: string, delimiter: string, header: boolean, columns: Column[]): Row[] {
  let records: string[][];
  try {
    records = parseCsv(file, delimiter);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw badRequest(`Invalid CSV: ${e.message}`);
    throw e;
  }
  if (header) records.shift();
  let line = header ? 1 : 0;
  return records.map((record) => {
    line++;
    if (record.length > columns.length) {
      throw badRequest(`Line ${line} has ${record.length} values but the mapping has ${columns.length} columns`);
    }
    const row: Row = { line, fields: {}, kvs: [] };
    record.forEach((cell, i) => {
      if (cell === "") return;
      const column = columns[i]!;
      if (KV_TYPES.includes(column.type)) {
        if (column.key !== undefined) row.kvs.push({ column, value: castValue(cell) });
      } else row.fields[column.type] = cell;
    });
    return row;
  });
}

/** TypeCastUtil.castValue: numbers (a comma may be the decimal mark) as long or double, true/false, else text. */
export function castValue(text: string): KvValue {
  const normalised = text.replace(",", ".");
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(normalised)) {
    const n = Number(normalised);
    if (Number.isFinite(n)) {
      const integral = /^[+-]?\d+$/.test(normalised);
      if (!integral || Number.isSafeInteger(n)) return n;
    }
  }
  const lower = text.toLowerCase();
  if (lower === "true" || lower === "false") return lower === "true";
  return text;
}

/** DeviceBulkImportService.saveEntity: find by name or create, set fields, save with credentials if any. */
function saveRow(ctx: ApiContext, row: Row): { device: Device; updated: boolean } {
  const f = row.fields;
  const name = f.NAME;
  if (name === undefined || name.trim() === "") throw new ValidationError("Device name should be specified!");
  const credentials = credentialsOf(f);
  const existing = ctx.store.findDeviceByName(name);
  const profileId = f.TYPE !== undefined ? findOrCreateProfile(ctx, f.TYPE) : undefined;
  const additionalInfo = additionalInfoOf(existing?.additionalInfo ?? null, f);
  if (existing) {
    // Checked before anything changes, so a refused row leaves the device as it was.
    const holder = credentials && ctx.store.findByCredentialsId(credentials.credentialsId);
    if (holder && holder.device.id.id !== existing.id.id) {
      throw new ConflictError("CREDENTIALS_IN_USE", "Specified credentials are already registered!");
    }
    const device = ctx.store.updateDevice(existing.id.id, {
      ...(f.LABEL !== undefined ? { label: f.LABEL } : {}),
      ...(profileId !== undefined ? { deviceProfileId: profileId } : {}),
      additionalInfo,
    });
    if (credentials) ctx.store.updateCredentials(device.id.id, credentials);
    return { device, updated: true };
  }
  const { device } = ctx.store.createDevice({
    name,
    label: f.LABEL ?? null,
    additionalInfo,
    ...(profileId !== undefined ? { deviceProfileId: profileId } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return { device, updated: false };
}

function additionalInfoOf(current: DeviceAdditionalInfo | null, f: Row["fields"]): DeviceAdditionalInfo | null {
  if (f.DESCRIPTION === undefined && f.IS_GATEWAY === undefined) return current;
  const info: DeviceAdditionalInfo = { ...(current ?? {}) };
  if (f.DESCRIPTION !== undefined) info.description = f.DESCRIPTION;
  if (f.IS_GATEWAY !== undefined) info.gateway = f.IS_GATEWAY.toLowerCase() === "true";
  return info;
}

/**
 * Which credentials a row carries, in DeviceBulkImportService's order: an X.509 PEM, else MQTT basic parts, else an
 * access token; none → an existing device keeps its credentials, a new one gets a random token.
 */
function credentialsOf(f: Row["fields"]): CredentialsSpec | undefined {
  try {
    if (f.X509 !== undefined) return x509Credentials(f.X509);
    if (f.MQTT_CLIENT_ID !== undefined || f.MQTT_USER_NAME !== undefined || f.MQTT_PASSWORD !== undefined) {
      return mqttBasicCredentials({
        clientId: f.MQTT_CLIENT_ID ?? "",
        userName: f.MQTT_USER_NAME ?? "",
        password: f.MQTT_PASSWORD ?? "",
      });
    }
    if (f.ACCESS_TOKEN !== undefined) return accessTokenCredentials(f.ACCESS_TOKEN);
    return undefined;
  } catch (e) {
    if (e instanceof InvalidCredentialsError) {
      throw new RowError("DeviceCredentialsValidationException", `Invalid device credentials: ${e.message}`);
    }
    throw e;
  }
}

/** A row refused with a specific ThingsBoard exception class (for the "Line N: Class: message" text). */
class RowError extends Error {
  constructor(
    readonly javaClass: string,
    message: string,
  ) {
    super(message);
  }
}

function saveKvs(ctx: ApiContext, device: Device, row: Row): void {
  const byType = (type: ColumnType) =>
    Object.fromEntries(row.kvs.filter((kv) => kv.column.type === type).map((kv) => [kv.column.key!, kv.value]));
  const shared = byType("SHARED_ATTRIBUTE");
  const server = byType("SERVER_ATTRIBUTE");
  const telemetry = byType("TIMESERIES");
  const now = ctx.now();
  if (Object.keys(server).length > 0) ctx.store.setAttributes(device.id.id, "SERVER_SCOPE", server, now);
  if (Object.keys(shared).length > 0) {
    ctx.store.setAttributes(device.id.id, "SHARED_SCOPE", shared, now);
    ctx.sessions.pushSharedAttributes(device.id.id, shared);
  }
  if (Object.keys(telemetry).length > 0) ctx.store.appendTimeseries(device.id.id, now, telemetry);
}

/** ExceptionUtils.getRootCauseMessage: "<short class name>: <message>", with ThingsBoard's class names. */
function rootCauseMessage(e: unknown): string {
  if (e instanceof RowError) return `${e.javaClass}: ${e.message}`;
  if (e instanceof ConflictError || e instanceof ValidationError || e instanceof InvalidCredentialsError) {
    return `DataValidationException: ${e.message}`;
  }
  if (e instanceof NotFoundError) return `DataValidationException: ${e.message}`;
  if (e instanceof ReplyError) return `ThingsboardException: ${e.message}`;
  throw e; // a bug, not a bad row: let the server answer 500
}
