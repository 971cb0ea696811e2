/**
 * The state file's format (version 1) and a strict reader for it: a file that is not exactly this shape is
 * rejected with the path of the first bad field, never half-loaded.
 */
import {
  isAttributeScope,
  isCredentialsType,
  isProvisionType,
  type AttributeScope,
  type Device,
  type DeviceCredentials,
  type DeviceProfile,
  type KvValue,
} from "./model.js";
import { ValidationError } from "./errors.js";

export interface StateSnapshot {
  format: "tb-emulator-state";
  version: 1;
  tenantId: string;
  profiles: DeviceProfile[];
  devices: Device[];
  credentials: DeviceCredentials[];
  attributes: { deviceId: string; scope: AttributeScope; key: string; value: KvValue; lastUpdateTs: number }[];
  /** Points oldest first, as `[ts, value]` pairs to keep the file small. */
  timeseries: { deviceId: string; key: string; points: [number, KvValue][] }[];
}

type Obj = Record<string, unknown>;

function fail(where: string, problem: string): never {
  throw new ValidationError(`${where}: ${problem}`);
}
function obj(v: unknown, where: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, "expected an object");
  return v as Obj;
}
function arr(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, "expected an array");
  return v;
}
function str(v: unknown, where: string): string {
  if (typeof v !== "string") fail(where, "expected a string");
  return v;
}
function strOrNull(v: unknown, where: string): string | null {
  return v === null ? null : str(v, where);
}
function num(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(where, "expected a number");
  return v;
}
function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") fail(where, "expected a boolean");
  return v;
}
function kvValue(v: unknown, where: string): KvValue {
  if (v === null || v === undefined) fail(where, "expected a value");
  return v as KvValue;
}
function entityId<T extends string>(v: unknown, type: T, where: string): { entityType: T; id: string } {
  const o = obj(v, where);
  if (o.entityType !== type) fail(`${where}.entityType`, `expected "${type}"`);
  return { entityType: type, id: str(o.id, `${where}.id`) };
}

function profile(v: unknown, w: string): DeviceProfile {
  const o = obj(v, w);
  if (!isProvisionType(o.provisionType)) fail(`${w}.provisionType`, "unknown provision type");
  return {
    id: entityId(o.id, "DEVICE_PROFILE", `${w}.id`),
    createdTime: num(o.createdTime, `${w}.createdTime`),
    tenantId: entityId(o.tenantId, "TENANT", `${w}.tenantId`),
    name: str(o.name, `${w}.name`),
    description: strOrNull(o.description, `${w}.description`),
    default: bool(o.default, `${w}.default`),
    provisionType: o.provisionType,
    provisionDeviceKey: strOrNull(o.provisionDeviceKey, `${w}.provisionDeviceKey`),
    provisionDeviceSecret: strOrNull(o.provisionDeviceSecret, `${w}.provisionDeviceSecret`),
  };
}

function device(v: unknown, w: string): Device {
  const o = obj(v, w);
  return {
    id: entityId(o.id, "DEVICE", `${w}.id`),
    createdTime: num(o.createdTime, `${w}.createdTime`),
    tenantId: entityId(o.tenantId, "TENANT", `${w}.tenantId`),
    name: str(o.name, `${w}.name`),
    type: str(o.type, `${w}.type`),
    label: strOrNull(o.label, `${w}.label`),
    deviceProfileId: entityId(o.deviceProfileId, "DEVICE_PROFILE", `${w}.deviceProfileId`),
    additionalInfo: o.additionalInfo === null ? null : obj(o.additionalInfo, `${w}.additionalInfo`),
  };
}

function credentials(v: unknown, w: string): DeviceCredentials {
  const o = obj(v, w);
  if (!isCredentialsType(o.credentialsType)) fail(`${w}.credentialsType`, "unknown credentials type");
  return {
    id: { id: str(obj(o.id, `${w}.id`).id, `${w}.id.id`) },
    createdTime: num(o.createdTime, `${w}.createdTime`),
    deviceId: entityId(o.deviceId, "DEVICE", `${w}.deviceId`),
    credentialsType: o.credentialsType,
    credentialsId: str(o.credentialsId, `${w}.credentialsId`),
    credentialsValue: strOrNull(o.credentialsValue, `${w}.credentialsValue`),
  };
}

/** Parses and checks a state file's text; throws SyntaxError (not JSON) or ValidationError (wrong shape). */
export function parseSnapshot(text: string): StateSnapshot {
  const root = obj(JSON.parse(text), "state");
  if (root.format !== "tb-emulator-state") fail("state.format", 'expected "tb-emulator-state"');
  if (root.version !== 1) fail("state.version", `unsupported version ${String(root.version)} (this emulator reads 1)`);
  return {
    format: "tb-emulator-state",
    version: 1,
    tenantId: str(root.tenantId, "state.tenantId"),
    profiles: arr(root.profiles, "state.profiles").map((p, i) => profile(p, `state.profiles[${i}]`)),
    devices: arr(root.devices, "state.devices").map((d, i) => device(d, `state.devices[${i}]`)),
    credentials: arr(root.credentials, "state.credentials").map((c, i) => credentials(c, `state.credentials[${i}]`)),
    attributes: arr(root.attributes, "state.attributes").map((a, i) => {
      const w = `state.attributes[${i}]`;
      const o = obj(a, w);
      if (!isAttributeScope(o.scope)) fail(`${w}.scope`, "unknown attribute scope");
      return {
        deviceId: str(o.deviceId, `${w}.deviceId`),
        scope: o.scope,
        key: str(o.key, `${w}.key`),
        value: kvValue(o.value, `${w}.value`),
        lastUpdateTs: num(o.lastUpdateTs, `${w}.lastUpdateTs`),
      };
    }),
    timeseries: arr(root.timeseries, "state.timeseries").map((t, i) => {
      const w = `state.timeseries[${i}]`;
      const o = obj(t, w);
      return {
        deviceId: str(o.deviceId, `${w}.deviceId`),
        key: str(o.key, `${w}.key`),
        points: arr(o.points, `${w}.points`).map((p, j): [number, KvValue] => {
          const pair = arr(p, `${w}.points[${j}]`);
          if (pair.length !== 2) fail(`${w}.points[${j}]`, "expected [ts, value]");
          return [num(pair[0], `${w}.points[${j}][0]`), kvValue(pair[1], `${w}.points[${j}][1]`)];
        }),
      };
    }),
  };
}
