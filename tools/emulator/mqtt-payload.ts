/**
 * Device payloads read the way ThingsBoard's JsonMqttAdaptor / JsonConverter reads them. Anything ThingsBoard
 * would reject (JsonSyntaxException, IllegalStateException, NumberFormatException) throws PayloadConversionError;
 * the MQTT layer then closes the session, as ThingsBoard does on a conversion error.
 *
 * Known difference: JSON.parse is strict where Gson is lenient, and it drops a number's original text, so
 * `1.0` is stored as 1 (ThingsBoard keeps a double) and integers beyond 2^53 lose precision.
 */
import type { KvValue } from "./model.js";

/** The payload cannot be converted; `message` names the problem, never the payload. */
export class PayloadConversionError extends Error {
  override readonly name = "PayloadConversionError";
}

export interface TelemetryRecord {
  ts: number;
  values: Record<string, KvValue>;
}

const utf8 = new TextDecoder("utf-8");

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(payload));
  } catch {
    throw new PayloadConversionError("payload is not valid JSON");
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const LONG_LIMIT = 9.223372036854776e18;

/** Commons Lang's NumberUtils.isParsable (ASCII digits): optional "-", digits with at most one ".", not ending in ".". */
const PARSABLE_NUMBER = /^-?(?:[0-9]+|[0-9]*\.[0-9]+)$/;

/**
 * ThingsBoard's json.type_cast_enabled (default true): a string that reads as a number is stored as one
 * (double if it has a ".", else long); a long out of range stays a string.
 */
function typeCast(s: string): KvValue {
  if (!PARSABLE_NUMBER.test(s)) return s;
  const n = Number(s);
  if (!s.includes(".") && Math.abs(n) >= LONG_LIMIT && BigInt(s) !== BigInt.asIntN(64, BigInt(s))) return s;
  return n;
}

/** JsonConverter.parseProtoValues: primitives and JSON objects/arrays are kept, JSON null is skipped. */
function parseValues(o: Record<string, unknown>): Record<string, KvValue> {
  const values: Record<string, KvValue> = {};
  for (const [key, value] of Object.entries(o)) {
    if (value === null) continue;
    if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > LONG_LIMIT) {
      throw new PayloadConversionError("Big integer values are not supported!");
    }
    values[key] = typeof value === "string" ? typeCast(value) : (value as KvValue);
  }
  return values;
}

/** Gson's getAsLong for the `ts` field: a number (truncated) or a decimal string. */
function parseTs(v: unknown): number {
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "string" && /^[+-]?[0-9]+$/.test(v)) return Number(v);
  throw new PayloadConversionError("ts is not a number");
}

function parseTelemetryObject(o: Record<string, unknown>, now: number): TelemetryRecord {
  // Only an object with both fields is the ts/values form; `{"ts":1}` alone is a value named "ts".
  if ("ts" in o && "values" in o) {
    if (!isObject(o.values)) throw new PayloadConversionError("values is not a JSON object");
    return { ts: parseTs(o.ts), values: parseValues(o.values) };
  }
  return { ts: now, values: parseValues(o) };
}

/** `{"k":v}`, `{"ts":ms,"values":{…}}`, or an array of either. Records with no values are dropped. */
export function parseTelemetry(payload: Uint8Array, now: number): TelemetryRecord[] {
  const json = parseJson(payload);
  let records: TelemetryRecord[];
  if (isObject(json)) records = [parseTelemetryObject(json, now)];
  else if (Array.isArray(json)) {
    records = json.map((item) => {
      if (!isObject(item)) throw new PayloadConversionError("telemetry array item is not a JSON object");
      return parseTelemetryObject(item, now);
    });
  } else throw new PayloadConversionError("telemetry is neither a JSON object nor an array");
  return records.filter((r) => Object.keys(r.values).length > 0);
}

/** Client attributes: a JSON object only. */
export function parseAttributes(payload: Uint8Array): Record<string, KvValue> {
  const json = parseJson(payload);
  if (!isObject(json)) throw new PayloadConversionError("attributes payload is not a JSON object");
  return parseValues(json);
}

export interface AttributeRequest {
  /** undefined when the field is absent (not the same as an empty list: see the MQTT layer). */
  clientKeys?: string[];
  sharedKeys?: string[];
}

/** Gson's getAsString on a request field: strings, numbers, booleans, or a one-element array of those. */
function asString(v: unknown, field: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.length === 1) return asString(v[0], field);
  throw new PayloadConversionError(`${field} is not a string`);
}

/** Java's String.split(","): trailing empty strings are removed. */
function javaSplitComma(s: string): string[] {
  const parts = s.split(",");
  while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 1 && parts[0] === "" && s.length > 0) return [];
  return parts;
}

/** `{"clientKeys":"a,b","sharedKeys":"c"}`; both fields optional. */
export function parseAttributeRequest(payload: Uint8Array): AttributeRequest {
  const json = parseJson(payload);
  if (!isObject(json)) throw new PayloadConversionError("attribute request is not a JSON object");
  const request: AttributeRequest = {};
  // A JSON null is not "absent": Gson's getAsString throws on it.
  if (json.clientKeys !== undefined) {
    request.clientKeys = [...new Set(javaSplitComma(asString(json.clientKeys, "clientKeys")))];
  }
  if (json.sharedKeys !== undefined) {
    request.sharedKeys = [...new Set(javaSplitComma(asString(json.sharedKeys, "sharedKeys")))];
  }
  return request;
}

export interface ClientRpcRequest {
  method: string;
  params: unknown;
}

/** `{"method":"m","params":…}` published by the device on v1/devices/me/rpc/request/{id}. */
export function parseClientRpcRequest(payload: Uint8Array): ClientRpcRequest {
  const json = parseJson(payload);
  if (!isObject(json)) throw new PayloadConversionError("RPC request is not a JSON object");
  if (json.method === undefined || json.method === null) throw new PayloadConversionError("RPC request has no method");
  return { method: asString(json.method, "method"), params: json.params ?? null };
}

/** A device's reply to a server-side RPC: its JSON, or the text itself when it is not JSON. */
export function parseRpcReply(payload: Uint8Array): unknown {
  const text = utf8.decode(payload);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
