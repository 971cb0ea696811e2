/**
 * Seeding the store from a config object (the `--config FILE` JSON). Shape:
 *
 *   {
 *     "profiles": [
 *       { "name": "esp32",                                   // required, unique
 *         "provisionType": "ALLOW_CREATE_NEW_DEVICES",       // | "CHECK_PRE_PROVISIONED_DEVICES" | "DISABLED" (default)
 *         "provisionDeviceKey": "k", "provisionDeviceSecret": "s",  // required unless DISABLED; keys unique
 *         "default": false,                                  // optional: make it the tenant's default profile
 *         "description": "…" }                               // optional
 *     ],
 *     "devices": [
 *       { "name": "esp32-0001",                              // required, unique
 *         "profile": "esp32",                                // optional profile name; default: the default profile
 *         "label": "…",                                      // optional
 *         "gateway": true,                                   // optional: additionalInfo.gateway
 *         "credentials":                                     // optional; default: a random 20-character token
 *           { "type": "ACCESS_TOKEN", "token": "…" }
 *           | { "type": "MQTT_BASIC", "clientId": "…", "username": "…", "password": "…" }   // each optional
 *           | { "type": "X509_CERTIFICATE", "pem": "-----BEGIN CERTIFICATE-----…" },
 *         "attributes": { "SERVER_SCOPE": { "mac": "…" }, "SHARED_SCOPE": { … }, "CLIENT_SCOPE": { … } } }
 *     ]
 *   }
 *
 * Both lists are optional. A profile or device whose name already exists is left untouched, so the same config can
 * be passed on every start together with `--data`. Unknown fields are errors (a typo must not be silently ignored).
 * Seeding is all-or-nothing: it is tried on a copy first, and the store changes only if every entry applies.
 */
import {
  isAttributeScope,
  isProvisionType,
  type AttributeScope,
  type KvValue,
  type ProvisionType,
} from "./model.js";
import {
  accessTokenCredentials,
  InvalidCredentialsError,
  mqttBasicCredentials,
  x509Credentials,
  type CredentialsSpec,
} from "./credentials.js";
import { ConflictError, InvalidSeedConfigError, NotFoundError, ValidationError } from "./errors.js";
import { EmulatorStore } from "./store.js";

export interface SeedProfile {
  name: string;
  provisionType?: ProvisionType;
  provisionDeviceKey?: string;
  provisionDeviceSecret?: string;
  default?: boolean;
  description?: string;
}

export type SeedCredentials =
  | { type: "ACCESS_TOKEN"; token: string }
  | { type: "MQTT_BASIC"; clientId?: string; username?: string; password?: string }
  | { type: "X509_CERTIFICATE"; pem: string };

export interface SeedDevice {
  name: string;
  profile?: string;
  label?: string;
  gateway?: boolean;
  credentials?: SeedCredentials;
  attributes?: Partial<Record<AttributeScope, Record<string, KvValue>>>;
}

export interface SeedConfig {
  profiles?: SeedProfile[];
  devices?: SeedDevice[];
}

export interface SeedReport {
  createdProfiles: string[];
  createdDevices: string[];
  /** Names that already existed and were left as they are. */
  skipped: string[];
}

type Obj = Record<string, unknown>;

function object(v: unknown, where: string, allowed: readonly string[]): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidSeedConfigError(where, "expected an object");
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new InvalidSeedConfigError(`${where}.${k}`, `unknown field (allowed: ${allowed.join(", ")})`);
  }
  return v as Obj;
}
function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v !== undefined && typeof v !== "string") throw new InvalidSeedConfigError(`${where}.${key}`, "expected a string");
  return v;
}
function reqString(o: Obj, key: string, where: string): string {
  const v = optString(o, key, where);
  if (v === undefined || v.trim() === "") throw new InvalidSeedConfigError(`${where}.${key}`, "required, non-empty string");
  return v;
}
function optBool(o: Obj, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v !== undefined && typeof v !== "boolean") throw new InvalidSeedConfigError(`${where}.${key}`, "expected true or false");
  return v;
}
function optList(o: Obj, key: string, where: string): unknown[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new InvalidSeedConfigError(`${where}.${key}`, "expected an array");
  return v;
}

function readProfile(v: unknown, w: string): SeedProfile {
  const o = object(v, w, ["name", "provisionType", "provisionDeviceKey", "provisionDeviceSecret", "default", "description"]);
  const provisionType = o.provisionType ?? "DISABLED";
  if (!isProvisionType(provisionType)) {
    throw new InvalidSeedConfigError(`${w}.provisionType`, "expected ALLOW_CREATE_NEW_DEVICES, CHECK_PRE_PROVISIONED_DEVICES or DISABLED");
  }
  const p: SeedProfile = { name: reqString(o, "name", w), provisionType };
  if (provisionType !== "DISABLED") {
    p.provisionDeviceKey = reqString(o, "provisionDeviceKey", w);
    p.provisionDeviceSecret = reqString(o, "provisionDeviceSecret", w);
  }
  const def = optBool(o, "default", w);
  if (def !== undefined) p.default = def;
  const description = optString(o, "description", w);
  if (description !== undefined) p.description = description;
  return p;
}

function readCredentials(v: unknown, w: string): CredentialsSpec {
  const base = object(v, w, ["type", "token", "clientId", "username", "password", "pem"]);
  try {
    switch (base.type) {
      case "ACCESS_TOKEN":
        object(v, w, ["type", "token"]);
        return accessTokenCredentials(reqString(base, "token", w));
      case "MQTT_BASIC":
        object(v, w, ["type", "clientId", "username", "password"]);
        return mqttBasicCredentials({
          clientId: optString(base, "clientId", w) ?? "",
          userName: optString(base, "username", w) ?? "",
          password: optString(base, "password", w) ?? "",
        });
      case "X509_CERTIFICATE":
        object(v, w, ["type", "pem"]);
        return x509Credentials(reqString(base, "pem", w));
      default:
        throw new InvalidSeedConfigError(`${w}.type`, "expected ACCESS_TOKEN, MQTT_BASIC or X509_CERTIFICATE");
    }
  } catch (e) {
    if (e instanceof InvalidCredentialsError) throw new InvalidSeedConfigError(w, e.message);
    throw e;
  }
}

function readAttributes(v: unknown, w: string): Partial<Record<AttributeScope, Record<string, KvValue>>> {
  const o = object(v, w, ["SERVER_SCOPE", "SHARED_SCOPE", "CLIENT_SCOPE"]);
  const out: Partial<Record<AttributeScope, Record<string, KvValue>>> = {};
  for (const [scope, values] of Object.entries(o)) {
    if (!isAttributeScope(scope)) continue; // unreachable: object() allowed only scopes
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      throw new InvalidSeedConfigError(`${w}.${scope}`, "expected an object of key: value");
    }
    const kv = values as Obj;
    for (const [k, val] of Object.entries(kv)) {
      if (val === null) throw new InvalidSeedConfigError(`${w}.${scope}.${k}`, "null is not a storable value");
    }
    out[scope] = kv as Record<string, KvValue>;
  }
  return out;
}

interface CheckedDevice {
  name: string;
  profile?: string;
  label?: string;
  gateway?: boolean;
  credentials?: CredentialsSpec;
  attributes: Partial<Record<AttributeScope, Record<string, KvValue>>>;
}

function readDevice(v: unknown, w: string): CheckedDevice {
  const o = object(v, w, ["name", "profile", "label", "gateway", "credentials", "attributes"]);
  const d: CheckedDevice = { name: reqString(o, "name", w), attributes: {} };
  const profile = optString(o, "profile", w);
  if (profile !== undefined) d.profile = profile;
  const label = optString(o, "label", w);
  if (label !== undefined) d.label = label;
  const gateway = optBool(o, "gateway", w);
  if (gateway !== undefined) d.gateway = gateway;
  if (o.credentials !== undefined) d.credentials = readCredentials(o.credentials, `${w}.credentials`);
  if (o.attributes !== undefined) d.attributes = readAttributes(o.attributes, `${w}.attributes`);
  return d;
}

function apply(store: EmulatorStore, profiles: SeedProfile[], devices: CheckedDevice[]): SeedReport {
  const report: SeedReport = { createdProfiles: [], createdDevices: [], skipped: [] };
  profiles.forEach((p, i) => {
    if (store.findProfileByName(p.name)) return void report.skipped.push(p.name);
    wrap(`profiles[${i}]`, () => store.createProfile(p));
    report.createdProfiles.push(p.name);
  });
  devices.forEach((d, i) => {
    const w = `devices[${i}]`;
    if (store.findDeviceByName(d.name)) return void report.skipped.push(d.name);
    const profile = d.profile === undefined ? undefined : store.findProfileByName(d.profile);
    if (d.profile !== undefined && !profile) throw new InvalidSeedConfigError(`${w}.profile`, `no profile named "${d.profile}"`);
    const { device } = wrap(w, () =>
      store.createDevice({
        name: d.name,
        ...(profile ? { deviceProfileId: profile.id.id } : {}),
        label: d.label ?? null,
        additionalInfo: d.gateway ? { gateway: true } : null,
        ...(d.credentials ? { credentials: d.credentials } : {}),
      }),
    );
    for (const [scope, values] of Object.entries(d.attributes) as [AttributeScope, Record<string, KvValue>][]) {
      store.setAttributes(device.id.id, scope, values);
    }
    report.createdDevices.push(d.name);
  });
  return report;
}

function wrap<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConflictError || e instanceof ValidationError || e instanceof NotFoundError) {
      throw new InvalidSeedConfigError(where, e.message);
    }
    throw e;
  }
}

/** Checks `config` against the documented shape and adds what is missing to `store`, all or nothing. */
export function seedStore(store: EmulatorStore, config: unknown): SeedReport {
  const root = object(config, "config", ["profiles", "devices"]);
  const profiles = optList(root, "profiles", "config").map((p, i) => readProfile(p, `profiles[${i}]`));
  const devices = optList(root, "devices", "config").map((d, i) => readDevice(d, `devices[${i}]`));
  apply(EmulatorStore.fromSnapshot(store.toSnapshot({ timeseries: false })), profiles, devices); // dry run
  return apply(store, profiles, devices);
}
