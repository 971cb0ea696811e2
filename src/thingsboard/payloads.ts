/**
 * Payloads a device publishes after provisioning (../shared/thingsboard-device-api.md §3), validated so that
 * what ThingsBoard would refuse or silently misread never leaves the device:
 *
 * - telemetry (`v1/devices/me/telemetry`): `{"k":v}`, `{"ts":ms,"values":{…}}`, or an array of either;
 * - client attributes (`v1/devices/me/attributes`): `{"k":v}`;
 * - attribute request (`v1/devices/me/attributes/request/{id}`): `{"clientKeys":"a,b","sharedKeys":"c"}`.
 *
 * A value is a finite number, a string, a boolean, or a JSON object/array (ThingsBoard stores those as JSON).
 * Refused with PayloadError: NaN and ±Infinity (JSON.stringify would send null), undefined, functions, symbols,
 * bigints, objects that are not plain (Date, Map, typed arrays: they would not serialise as they look), null as a
 * top-level value (ThingsBoard drops the key silently), numbers of magnitude 2^63 or more (ThingsBoard closes the session:
 * "Big integer values are not supported!"), nesting deeper than MAX_VALUE_DEPTH (also catches cycles), and lone
 * surrogates. Inside a nested value, null is plain JSON and allowed. Keys are non-empty strings of at most
 * MAX_KEY_LENGTH characters.
 *
 * An object with both `ts` and `values` is the timestamped form for ThingsBoard whatever else it holds, so such
 * an object must be exactly `{ts, values}`; a values object never has both keys.
 */

import { PayloadError } from "./errors.js";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A telemetry or attribute value: anything JSON but null at the top level. */
export type KvValue = string | number | boolean | JsonValue[] | { [key: string]: JsonValue };
export type KvValues = { [key: string]: KvValue };
export interface TimestampedValues {
  /** Milliseconds since the Unix epoch (an integer). */
  ts: number;
  values: KvValues;
}
export type Telemetry = KvValues | TimestampedValues | ReadonlyArray<KvValues | TimestampedValues>;

/** ThingsBoard keeps keys in a varchar(255) dictionary. */
export const MAX_KEY_LENGTH = 255;
/** Deepest nesting inside one value (objects and arrays). */
export const MAX_VALUE_DEPTH = 8;
/** Largest telemetry array (items). */
export const MAX_TELEMETRY_ITEMS = 1000;

const LONG_LIMIT = 2 ** 63;
const MAX_TS = 8.64e15; // the largest ECMAScript time value

const hasOwn = Object.prototype.hasOwnProperty;
const objectProto = Object.prototype;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === objectProto || proto === null;
}

function checkKey(key: string, where: string): void {
  if (key.length === 0) throw new PayloadError("invalid-key", `${where}: a key is empty`);
  if (key.length > MAX_KEY_LENGTH) throw new PayloadError("invalid-key", `${where}: a key is longer than ${MAX_KEY_LENGTH} characters`);
}

/** Keys are reported (they are names, not secrets) but shortened. */
function name(key: string): string {
  return JSON.stringify(key.length > 40 ? key.slice(0, 40) + "…" : key);
}

function checkValue(v: unknown, path: string, depth: number, top: boolean): void {
  switch (typeof v) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (v !== v || v === Infinity || v === -Infinity) throw new PayloadError("invalid-value", `${path} is ${v}: only finite numbers can be sent`);
      // ±2^63 itself too: JavaScript prints it as ±9223372036854776000, outside Java's long.
      if ((v >= LONG_LIMIT || v <= -LONG_LIMIT) && top) {
        throw new PayloadError("invalid-value", `${path} has a magnitude of 2^63 or more: ThingsBoard refuses such numbers (send it as a string)`);
      }
      return;
    case "object": {
      if (v === null) {
        if (top) throw new PayloadError("invalid-value", `${path} is null: ThingsBoard would drop it (leave the key out)`);
        return;
      }
      if (depth >= MAX_VALUE_DEPTH) throw new PayloadError("too-deep", `${path} nests deeper than ${MAX_VALUE_DEPTH} levels (or is cyclic)`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkValue(v[i], `${path}[${i}]`, depth + 1, false);
        return;
      }
      if (!isPlainObject(v)) throw new PayloadError("invalid-value", `${path} is not a plain object or array`);
      for (const k in v) {
        if (!hasOwn.call(v, k)) continue;
        checkValue(v[k], `${path}.${name(k)}`, depth + 1, false);
      }
      return;
    }
    default:
      throw new PayloadError("invalid-value", `${path} is ${typeof v}: only numbers, strings, booleans and JSON objects/arrays can be sent`);
  }
}

function checkValues(values: unknown, where: string): void {
  if (!isPlainObject(values)) throw new PayloadError("invalid-value", `${where} must be a plain object of key → value`);
  let count = 0;
  for (const k in values) {
    if (!hasOwn.call(values, k)) continue;
    checkKey(k, where);
    checkValue(values[k], `${where} ${name(k)}`, 0, true);
    count++;
  }
  if (count === 0) throw new PayloadError("empty", `${where} has no values`);
  if (hasOwn.call(values, "ts") && hasOwn.call(values, "values")) {
    throw new PayloadError("invalid-key", `${where} has both "ts" and "values" keys: ThingsBoard would read it as {ts, values}`);
  }
}

/** JSON.stringify escapes a lone surrogate as the text `\udXXX` (an odd number of backslashes before `u`). */
const ESCAPED_LONE_SURROGATE = /(?:^|[^\\])(?:\\\\)*\\ud[89abcdef]/i;

function stringify(v: unknown): string {
  const json = JSON.stringify(v);
  if (json.indexOf("\\u") >= 0 && ESCAPED_LONE_SURROGATE.test(json)) {
    throw new PayloadError("invalid-value", "a key or string contains a lone surrogate (not valid UTF-8)");
  }
  return json;
}

function isTimestamped(o: Record<string, unknown>): boolean {
  return hasOwn.call(o, "ts") && hasOwn.call(o, "values");
}

function checkTelemetryItem(item: unknown, where: string): void {
  if (!isPlainObject(item)) throw new PayloadError("invalid-value", `${where} must be a values object or {ts, values}`);
  if (!isTimestamped(item)) {
    checkValues(item, where);
    return;
  }
  for (const k in item) {
    if (hasOwn.call(item, k) && k !== "ts" && k !== "values") {
      throw new PayloadError("invalid-key", `${where}: {ts, values} may hold nothing else (found ${name(k)})`);
    }
  }
  const ts = item.ts;
  if (typeof ts !== "number" || !Number.isInteger(ts) || ts < 0 || ts > MAX_TS) {
    throw new PayloadError("invalid-timestamp", `${where}: ts must be integer milliseconds since 1970`);
  }
  checkValues(item.values, `${where} values`);
}

/**
 * The JSON for `v1/devices/me/telemetry`: `sendTelemetry(values)`, `sendTelemetry({ts, values})`, or an array of
 * either (at most MAX_TELEMETRY_ITEMS, not empty). Throws PayloadError.
 */
export function telemetryPayload(telemetry: Telemetry): string {
  if (Array.isArray(telemetry)) {
    if (telemetry.length === 0) throw new PayloadError("empty", "telemetry array is empty");
    if (telemetry.length > MAX_TELEMETRY_ITEMS) throw new PayloadError("invalid-value", `telemetry array has more than ${MAX_TELEMETRY_ITEMS} items`);
    for (let i = 0; i < telemetry.length; i++) checkTelemetryItem(telemetry[i], `telemetry[${i}]`);
  } else checkTelemetryItem(telemetry, "telemetry");
  return stringify(telemetry);
}

/** The JSON for client attributes on `v1/devices/me/attributes`. Throws PayloadError. */
export function attributesPayload(attributes: KvValues): string {
  checkValues(attributes, "attributes");
  return stringify(attributes);
}

export interface AttributeRequest {
  /** Client-scope keys to read. */
  clientKeys?: readonly string[];
  /** Shared-scope keys to read. */
  sharedKeys?: readonly string[];
}

function keyList(keys: readonly string[] | undefined, field: string): string | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys)) throw new PayloadError("invalid-key", `${field} must be an array of keys`);
  if (keys.length === 0) return undefined;
  for (const k of keys) {
    if (typeof k !== "string") throw new PayloadError("invalid-key", `${field}: every key must be a string`);
    checkKey(k, field);
    if (k.indexOf(",") >= 0) throw new PayloadError("invalid-key", `${field}: key ${name(k)} contains a comma (the list separator)`);
  }
  return keys.join(",");
}

/**
 * The JSON for an attribute request, `{"clientKeys":"a,b","sharedKeys":"c"}`. An empty or absent list is left
 * out; with both left out (`{}`) ThingsBoard answers with every client and shared attribute. Throws PayloadError.
 */
export function attributeRequestPayload(request: AttributeRequest = {}): string {
  const clientKeys = keyList(request.clientKeys, "clientKeys");
  const sharedKeys = keyList(request.sharedKeys, "sharedKeys");
  const out: { clientKeys?: string; sharedKeys?: string } = {};
  if (clientKeys !== undefined) out.clientKeys = clientKeys;
  if (sharedKeys !== undefined) out.sharedKeys = sharedKeys;
  return stringify(out);
}
