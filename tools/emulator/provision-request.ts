/**
 * Reading a provision request payload the way ThingsBoard's MQTT transport does
 * (MqttTransportHandler.processProvisionSessionMsg → JsonConverter.convertToProvisionRequestMsg, falling back to
 * ProtoConverter when the JSON parser rejects the text).
 *
 * JSON (Gson) rules reproduced:
 * - the payload is decoded as UTF-8 (bad bytes become U+FFFD); an empty payload is an error, not a fallback;
 * - text that is not JSON, or JSON that is not an object, falls back to protobuf (and the reply is protobuf too);
 * - only key and secret are required; every other field defaults to "" and credentialsType to ACCESS_TOKEN;
 * - a field is read with getAsString: strings as is, numbers and booleans as their text, a one-element array as
 *   its element; JSON null, an object or any other array makes the request malformed;
 * - credentialsType must name a CredentialsType constant exactly (LWM2M_CREDENTIALS included);
 * - fields the server does not read are ignored, whatever their value.
 * Known differences (Gson is lenient, JSON.parse is not): single quotes, unquoted names, comments and the like are
 * accepted by ThingsBoard as JSON but go to the protobuf fallback here; a number's text is JavaScript's
 * (`1.0` reads as "1") where Gson keeps the original digits.
 */
import {
  decodeProvisionDeviceRequest,
  ProtobufDecodeError,
  PROTO_CREDENTIALS_TYPES,
  type ProtoCredentialsType,
} from "./protobuf.js";

/** A provision request after transport decoding: ThingsBoard's ProvisionDeviceRequestMsg. */
export interface ProvisionRequest {
  deviceName: string;
  credentialsType: ProtoCredentialsType;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  token: string;
  clientId: string;
  username: string;
  password: string;
  /** X509: despite the name, the PEM certificate. */
  hash: string;
  gateway: boolean;
}

export type PayloadFormat = "json" | "protobuf";

export type ParsedProvisionRequest =
  | { ok: true; format: PayloadFormat; request: ProvisionRequest }
  /** `reason` names the problem, never the payload's content (it may carry secrets). */
  | { ok: false; reason: string };

/** Thrown inside the JSON reader for what Gson would throw on (not a JsonParseException: no fallback). */
class MalformedJson extends Error {}

/** Gson's JsonElement.getAsString. */
function gsonAsString(v: unknown, field: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v) && v.length === 1) return gsonAsString(v[0], field);
  if (v === null) throw new MalformedJson(`field "${field}" is JSON null`);
  throw new MalformedJson(`field "${field}" is ${Array.isArray(v) ? "an array" : "an object"}, not a string`);
}

/** Gson's JsonElement.getAsBoolean: a boolean, or the text parsed like Boolean.parseBoolean. */
function gsonAsBoolean(v: unknown, field: string): boolean {
  if (typeof v === "boolean") return v;
  if (Array.isArray(v) && v.length === 1) return gsonAsBoolean(v[0], field);
  return gsonAsString(v, field).toLowerCase() === "true";
}

function readJsonObject(o: Record<string, unknown>): ProvisionRequest {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const optional = (k: string) => (has(k) ? gsonAsString(o[k], k) : "");
  const required = (k: string) => {
    if (!has(k)) throw new MalformedJson(`required field "${k}" is missing`);
    return gsonAsString(o[k], k);
  };
  let credentialsType: ProtoCredentialsType = "ACCESS_TOKEN";
  if (has("credentialsType")) {
    const t = gsonAsString(o.credentialsType, "credentialsType");
    if (!(PROTO_CREDENTIALS_TYPES as readonly string[]).includes(t)) {
      throw new MalformedJson("credentialsType is not one of ACCESS_TOKEN, MQTT_BASIC, X509_CERTIFICATE, LWM2M_CREDENTIALS");
    }
    credentialsType = t as ProtoCredentialsType;
  }
  return {
    deviceName: optional("deviceName"),
    credentialsType,
    token: optional("token"),
    clientId: optional("clientId"),
    username: optional("username"),
    password: optional("password"),
    hash: optional("hash"),
    provisionDeviceKey: required("provisionDeviceKey"),
    provisionDeviceSecret: required("provisionDeviceSecret"),
    gateway: has("gateway") ? gsonAsBoolean(o.gateway, "gateway") : false,
  };
}

const utf8Lenient = new TextDecoder("utf-8"); // replaces bad bytes, drops a leading BOM (Gson skips one too)

export function parseProvisionPayload(payload: Uint8Array, protobufFallback = true): ParsedProvisionRequest {
  const text = utf8Lenient.decode(payload);
  if (text.length === 0) return { ok: false, reason: "payload is empty" };
  let json: unknown;
  let isJson = true;
  try {
    json = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (isJson && typeof json === "object" && json !== null && !Array.isArray(json)) {
    try {
      return { ok: true, format: "json", request: readJsonObject(json as Record<string, unknown>) };
    } catch (e) {
      if (e instanceof MalformedJson) return { ok: false, reason: e.message };
      throw e;
    }
  }
  if (!protobufFallback) return { ok: false, reason: isJson ? "JSON body is not an object" : "body is not valid JSON" };
  return parseProtobuf(payload);
}

function parseProtobuf(payload: Uint8Array): ParsedProvisionRequest {
  let m;
  try {
    m = decodeProvisionDeviceRequest(payload);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) return { ok: false, reason: `neither JSON nor protobuf: ${e.message}` };
    throw e;
  }
  const credentialsType = PROTO_CREDENTIALS_TYPES[m.credentialsType];
  // Java sees UNRECOGNIZED, which DeviceCredentialsType.valueOf rejects: the request fails without a response.
  if (credentialsType === undefined) return { ok: false, reason: `unknown credentialsType number ${m.credentialsType}` };
  return {
    ok: true,
    format: "protobuf",
    request: {
      deviceName: m.deviceName,
      credentialsType,
      provisionDeviceKey: m.provisionDeviceKey,
      provisionDeviceSecret: m.provisionDeviceSecret,
      token: m.token,
      clientId: m.clientId,
      username: m.userName,
      password: m.password,
      hash: m.hash,
      gateway: m.gateway,
    },
  };
}
