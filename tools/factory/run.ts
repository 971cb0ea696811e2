/**
 * `tbsdk factory run`: one NVS image per device from a device list and common settings, a manifest, and — for the
 * pre-provisioned strategy — the devices' server registration (a bulk-import CSV, or REST).
 *
 * Strategies (the device profile's provisioning strategy on the server):
 * - `provision` (ALLOW_CREATE_NEW_DEVICES): the images carry prov_key/prov_secret and the device creates itself
 *   on first boot. Nothing is registered; registering would even make provisioning fail (the name would exist).
 * - `preprovisioned` (CHECK_PRE_PROVISIONED_DEVICES): every device must exist on the server, in the device profile
 *   whose provision key the image carries, before it boots. The factory chooses its credentials:
 *   - token / server: a 20-character access token (ThingsBoard's alphabet), registered on the server; the device
 *     receives it in its provision response;
 *   - mqtt-basic: client id and user name (mqtt_client / mqtt_user, default the device name) and a password
 *     (mqtt_pass, default 24 random hex digits), registered AND written into the image, so a device whose provision
 *     response is lost can still connect with what it stored (the agent's recovery);
 *   - x509: the device's own certificate (dev_cert, given per device), registered as X509.
 *
 * Determinism: generated credentials are random (node:crypto) and PERSISTED in `DIR/credentials.json` (mode 0600),
 * keyed by device name; a re-run reuses them, so images, bulk CSV and server state come out identical. Delete a
 * device's entry to rotate its credentials. That file, the images and the bulk CSV hold secrets (0600); the manifest
 * and everything printed do not.
 *
 * Every input is checked before anything is written: per device, the firmware's resolveSettings must accept the
 * image's settings (errors name the file, line, device and key, never a secret value).
 */
import { createHash, randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CREDENTIAL_MODES, FACTORY_NAMESPACE, SETTINGS, type CredentialMode } from "../../src/settings/keys.js";
import { buildNvsImage, NvsImageError } from "./nvs-image.js";
import { parseDevicesCsv, type DeviceRow } from "./devices-csv.js";
import { bulkImportRequest, RestError, ThingsBoardRest, type RegisteredCredentials, type RegisteredDevice } from "./registry.js";
import { factoryEntries, FactoryError, secretValues, settingsFromKeys, type FactorySettings } from "./sdk-settings.js";

export type FactoryStrategy = "preprovisioned" | "provision";

export interface FactoryRunOptions {
  devicesFile: string;
  settingsFile: string;
  outDir: string;
  /** Partition size in bytes (default 0x6000). */
  size?: number;
  nvsVersion?: 1 | 2;
  strategy?: FactoryStrategy;
  /** cred_type for every device without its own cred_type cell (wins over the settings file). */
  credentials?: CredentialMode;
  /** Device profile (ThingsBoard device type) to register devices in; with `register`, found by prov_key when absent. */
  profile?: string;
  /** Write a ThingsBoard bulk-import CSV here, and its column mapping next to it (`<name>.mapping.json`). */
  bulkCsv?: string;
  register?: { url: string; username: string; password: string; mode?: "bulk" | "device" };
  /** Progress lines (no secrets are ever passed to it). */
  out?: (line: string) => void;
  /** Collects every secret seen, so a caller can redact whatever it prints (error messages included). */
  secrets?: Set<string>;
}

export interface ManifestDevice {
  name: string;
  mac?: string;
  serial?: string;
  file: string;
  sha256: string;
  credentials: CredentialMode;
}

export interface FactoryManifest {
  tool: "tbsdk factory";
  format: 1;
  strategy: FactoryStrategy;
  namespace: string;
  size: number;
  nvsVersion: 1 | 2;
  devices: ManifestDevice[];
}

export interface FactoryRunResult {
  manifest: FactoryManifest;
  manifestFile: string;
  credentialsFile?: string;
  bulkCsv?: string;
  mappingFile?: string;
  registered?: { created: number; updated: number; unchanged: number; ids: Record<string, string> };
}

/** Persisted generated credentials: name → credentials. */
interface CredentialsFile {
  format: 1;
  devices: Record<string, RegisteredCredentials>;
}

const PEM_KEYS = new Set<string>([SETTINGS.caCert.key, SETTINGS.deviceCert.key, SETTINGS.deviceKey.key]);
const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export async function runFactory(o: FactoryRunOptions): Promise<FactoryRunResult> {
  const out = o.out ?? (() => undefined);
  const secrets = o.secrets ?? new Set<string>();
  const size = o.size ?? 0x6000;
  const nvsVersion = o.nvsVersion ?? 2;
  const strategy = o.strategy ?? "preprovisioned";
  if (strategy === "provision" && (o.bulkCsv || o.register)) {
    throw new FactoryError("--strategy provision registers nothing (the device creates itself; a pre-registered name would make provisioning fail): drop --bulk-csv/--register");
  }
  if (strategy === "preprovisioned" && !o.bulkCsv && !o.register) {
    throw new FactoryError("--strategy preprovisioned: the devices must exist on the server before they boot: give --bulk-csv FILE or --register URL");
  }
  if (strategy === "preprovisioned" && !o.register && !o.profile) {
    throw new FactoryError("--profile NAME is needed for the bulk-import CSV: the device profile (CHECK_PRE_PROVISIONED_DEVICES) the devices belong to");
  }
  if (o.register) secrets.add(o.register.password);

  const common = readCommonSettings(o.settingsFile);
  for (const s of secretValues(common)) secrets.add(s);
  const rows = parseDevicesCsv(readText(o.devicesFile, "--devices"), path.basename(o.devicesFile));
  const credentialsFile = path.join(o.outDir, "credentials.json");
  const stored = strategy === "preprovisioned" ? readCredentialsFile(credentialsFile) : { format: 1 as const, devices: {} };
  let storedChanged = false;

  // 1. Every device checked and built in memory first: nothing is written unless all are good.
  const built: { row: DeviceRow; image: Uint8Array; mode: CredentialMode; registered?: RegisteredCredentials }[] = [];
  for (const row of rows) {
    const where = `${path.basename(o.devicesFile)} line ${row.line} (${row.name})`;
    const overrides = settingsFromKeys(resolvePemFiles(row.overrides, path.dirname(o.devicesFile), where), where);
    const settings: FactorySettings = { ...common, ...(o.credentials ? { credentials: o.credentials } : {}), ...overrides, deviceName: row.name };
    const modeValue = settings.credentials ?? "token";
    if (typeof modeValue !== "string" || !(CREDENTIAL_MODES as readonly string[]).includes(modeValue)) {
      throw new FactoryError(`${where}: ${SETTINGS.credentials.key}: expected one of ${CREDENTIAL_MODES.join(", ")}`, SETTINGS.credentials.key);
    }
    const mode = modeValue as CredentialMode;
    let registered: RegisteredCredentials | undefined;
    if (strategy === "preprovisioned") {
      const previous = stored.devices[row.name];
      if (mode === "token" || mode === "server") {
        const token = previous?.type === "ACCESS_TOKEN" ? previous.token : generateToken();
        registered = { type: "ACCESS_TOKEN", token };
      } else if (mode === "mqtt-basic") {
        const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
        const password = str(settings.mqttPassword) ?? (previous?.type === "MQTT_BASIC" ? previous.password : randomBytes(12).toString("hex"));
        registered = { type: "MQTT_BASIC", clientId: str(settings.mqttClientId) ?? row.name, userName: str(settings.mqttUsername) ?? row.name, password };
        // The image carries exactly what is registered, so the device's stored pending credentials match the server's.
        settings.mqttClientId = registered.clientId;
        settings.mqttUsername = registered.userName;
        settings.mqttPassword = password;
      } else if (typeof settings.deviceCert === "string") {
        registered = { type: "X509_CERTIFICATE", certificatePem: settings.deviceCert };
      }
      if (registered && registered.type !== "X509_CERTIFICATE" && JSON.stringify(previous) !== JSON.stringify(registered)) {
        stored.devices[row.name] = registered;
        storedChanged = true;
      }
      if (registered?.type === "ACCESS_TOKEN") secrets.add(registered.token);
      if (registered?.type === "MQTT_BASIC") secrets.add(registered.password);
    }
    for (const s of secretValues(settings)) secrets.add(s);
    const entries = factoryEntries(settings, where); // the firmware's own validation
    let image: Uint8Array;
    try {
      image = buildNvsImage(entries, size, { version: nvsVersion });
    } catch (e) {
      if (e instanceof NvsImageError) throw new FactoryError(`${where}: ${e.message}`);
      throw e;
    }
    built.push({ row, image, mode, ...(registered ? { registered } : {}) });
  }

  // 2. The server, when registering: logged in and the profile checked before anything is written.
  let rest: ThingsBoardRest | undefined;
  let profileName = o.profile;
  if (strategy === "preprovisioned" && o.register) {
    rest = new ThingsBoardRest(o.register.url);
    await rest.login(o.register.username, o.register.password);
    profileName = await checkProfile(rest, o.profile, common);
  }

  // 3. Files: credentials first (so nothing registered is ever lost), then images, manifest, bulk CSV.
  fs.mkdirSync(o.outDir, { recursive: true });
  const result: Partial<FactoryRunResult> = {};
  if (strategy === "preprovisioned" && (storedChanged || fs.existsSync(credentialsFile))) {
    if (storedChanged) writeAtomic(credentialsFile, JSON.stringify(stored, null, 2) + "\n", 0o600);
    result.credentialsFile = credentialsFile;
  }
  const manifest: FactoryManifest = { tool: "tbsdk factory", format: 1, strategy, namespace: FACTORY_NAMESPACE, size, nvsVersion, devices: [] };
  for (const b of built) {
    const file = `${b.row.name}.bin`;
    writeAtomic(path.join(o.outDir, file), b.image, 0o600);
    manifest.devices.push({
      name: b.row.name,
      ...(b.row.mac ? { mac: b.row.mac } : {}),
      ...(b.row.serial ? { serial: b.row.serial } : {}),
      file,
      sha256: createHash("sha256").update(b.image).digest("hex"),
      credentials: b.mode,
    });
  }
  const manifestFile = path.join(o.outDir, "manifest.json");
  writeAtomic(manifestFile, JSON.stringify(manifest, null, 2) + "\n", 0o644);
  out(`factory: ${built.length} NVS images (0x${size.toString(16)} bytes, namespace ${FACTORY_NAMESPACE}) and ${manifestFile}`);

  if (strategy === "preprovisioned") {
    const devices: RegisteredDevice[] = built.map((b) => {
      if (!b.registered) throw new FactoryError(`${b.row.name}: no credentials to register`);
      const attributes: Record<string, string> = {};
      if (b.row.mac) attributes.mac = b.row.mac;
      if (b.row.serial) attributes.serial = b.row.serial;
      return { name: b.row.name, profile: profileName!, credentials: b.registered, attributes };
    });
    const request = bulkImportRequest(devices);
    if (o.bulkCsv) {
      const mappingFile = o.bulkCsv.replace(/\.csv$/i, "") + ".mapping.json";
      writeAtomic(o.bulkCsv, request.file, 0o600);
      writeAtomic(mappingFile, JSON.stringify(request.mapping, null, 2) + "\n", 0o644);
      result.bulkCsv = o.bulkCsv;
      result.mappingFile = mappingFile;
      out(`factory: bulk-import CSV ${o.bulkCsv} (${devices.length} devices, profile ${profileName}) with its mapping ${mappingFile}`);
    }
    if (rest && o.register) {
      if ((o.register.mode ?? "bulk") === "bulk") {
        const r = await rest.bulkImport(request);
        if (r.errors > 0) throw new FactoryError(`bulk import: ${r.errors} rows refused: ${r.errorsList.slice(0, 5).join("; ")}`);
        const ids: Record<string, string> = {};
        for (const d of devices) {
          const found = await rest.findDevice(d.name);
          if (!found) throw new FactoryError(`bulk import reported success but ${d.name} is not on the server`);
          ids[d.name] = found.id.id;
        }
        result.registered = { created: r.created, updated: r.updated, unchanged: 0, ids };
      } else {
        result.registered = await rest.registerEach(devices);
      }
      const g = result.registered;
      out(`factory: registered ${devices.length} devices in ${profileName} at ${o.register.url} (created ${g.created}, updated ${g.updated}${g.unchanged ? `, unchanged ${g.unchanged}` : ""})`);
    }
  }
  return { ...result, manifest, manifestFile } as FactoryRunResult;
}

/**
 * The profile to register in: the one named (it must exist, use CHECK_PRE_PROVISIONED_DEVICES and have the image's
 * provision key), or the one whose provision key is the image's prov_key. Never prints the key.
 */
async function checkProfile(rest: ThingsBoardRest, name: string | undefined, common: FactorySettings): Promise<string> {
  const profiles: { name: string; provisionType?: string; provisionDeviceKey?: string | null }[] = [];
  for (let page = 0; page < 1000; page++) {
    const r = await rest.call<{ data: typeof profiles; hasNext: boolean }>("GET", `/api/deviceProfiles?pageSize=100&page=${page}`);
    profiles.push(...r.data);
    if (!r.hasNext) break;
  }
  const key = common.provisionKey;
  const p = name !== undefined ? profiles.find((x) => x.name === name) : profiles.find((x) => key !== undefined && x.provisionDeviceKey === key);
  if (!p) {
    throw new FactoryError(name !== undefined ? `device profile "${name}" does not exist on the server` : `no device profile on the server has the settings' prov_key: give --profile NAME`);
  }
  if (p.provisionType !== "CHECK_PRE_PROVISIONED_DEVICES") {
    throw new FactoryError(`device profile "${p.name}" provisions with ${p.provisionType ?? "?"}, not CHECK_PRE_PROVISIONED_DEVICES (use --strategy provision for ALLOW_CREATE_NEW_DEVICES)`);
  }
  if (key !== undefined && p.provisionDeviceKey !== key) throw new FactoryError(`device profile "${p.name}" has a different provision key than the settings' prov_key`);
  return p.name;
}

/** The settings file: a JSON object of setting keys (tb_host, prov_key…). PEM keys may name a file instead. */
function readCommonSettings(file: string): FactorySettings {
  let obj: unknown;
  try {
    obj = JSON.parse(readText(file, "--settings"));
  } catch (e) {
    if (e instanceof FactoryError) throw e;
    throw new FactoryError(`--settings ${file}: not JSON (${(e as Error).message.replace(/ in JSON at.*/, "")})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new FactoryError(`--settings ${file}: expected a JSON object of setting keys`);
  const where = path.basename(file);
  if (SETTINGS.deviceName.key in obj) throw new FactoryError(`${where}: ${SETTINGS.deviceName.key} is per device: it comes from devices.csv's name column`, SETTINGS.deviceName.key);
  return settingsFromKeys(resolvePemFiles(obj as Record<string, unknown>, path.dirname(file), where), where);
}

/**
 * tb_ca, dev_cert and dev_key take PEM text, or a file name (relative to the file that names it) when the value has
 * no "-----BEGIN": a PEM file is read as text, a tb_ca file without PEM armour as DER bytes.
 */
function resolvePemFiles(values: Record<string, unknown>, baseDir: string, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const key of PEM_KEYS) {
    const v = out[key];
    if (typeof v !== "string" || v === "" || v.includes("-----BEGIN")) continue;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.resolve(baseDir, v.trim()));
    } catch (e) {
      const secret = key === SETTINGS.deviceKey.key;
      throw new FactoryError(`${where}: ${key}: ${secret ? "not PEM text, and not a readable file" : `cannot read "${v.trim()}"`} (${(e as NodeJS.ErrnoException).code ?? "error"})`, key);
    }
    const text = bytes.toString("latin1");
    out[key] = text.includes("-----BEGIN") ? bytes.toString("utf8") : key === SETTINGS.caCert.key ? new Uint8Array(bytes) : bytes.toString("utf8");
  }
  return out;
}

function readText(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new FactoryError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readCredentialsFile(file: string): CredentialsFile {
  if (!fs.existsSync(file)) return { format: 1, devices: {} };
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as CredentialsFile;
    if (o.format !== 1 || typeof o.devices !== "object" || o.devices === null) throw new Error("unknown format");
    return o;
  } catch (e) {
    throw new FactoryError(`${file}: not a factory credentials file (${(e as Error).message.slice(0, 60)}); it holds the credentials already registered, so it is not overwritten`);
  }
}

function generateToken(): string {
  let s = "";
  for (let i = 0; i < 20; i++) s += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return s;
}

/** temp file, fsync, rename: a crash leaves the old file or the new one. */
function writeAtomic(file: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w", mode);
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

export { RestError };
