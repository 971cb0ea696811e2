/**
 * The provision response on `/provision/response`, validated completely before anything in it is used
 * (../shared/thingsboard-device-api.md §1). ThingsBoard sends exactly one of:
 *
 *   {"credentialsValue":"<token>","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}
 *   {"credentialsValue":"MIIB…AQAB","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}
 *   {"credentialsValue":{"clientId":"c","userName":"u","password":"p"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}
 *   {"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}
 *   {"errorMsg":"Failed to provision device!","status":"FAILURE"}
 *
 * parseProvisionResponse returns the credentials for SUCCESS and throws otherwise, only ever one of:
 * ProvisionNotFoundError, ProvisionFailedError, ProvisionResponseError (malformed or hostile, with a `code`).
 *
 * Checks, in order, each cheap before the next: payload size (before decoding), strict UTF-8, nesting depth
 * (before JSON.parse, so a deep payload cannot exhaust the device's native stack), JSON, an object, `status`,
 * then for SUCCESS `credentialsType` equal to the one asked for (or listed in alsoAccept) and the value's shape
 * and size. Fields are read
 * as own properties only, so `__proto__` keys or a polluted Object.prototype change nothing. Unknown extra fields
 * are ignored (newer servers may add some).
 *
 * Leniency, on purpose: inside an MQTT_BASIC value a field that is absent or JSON null counts as "" (a device
 * created through the REST API or UI may have stored it so), but clientId or userName must be non-empty.
 */

import { MqttProtocolError } from "../mqtt/errors.js";
import { readUtf8, utf8Length } from "../mqtt/utf8.js";
import { ProvisionFailedError, ProvisionNotFoundError, ProvisionResponseError } from "./errors.js";
import { MAX_CREDENTIAL_BYTES, type CredentialsType } from "./provision-request.js";

/** Largest response accepted; larger ones are refused before decoding. A real one is under 4.2 KB. */
export const MAX_PROVISION_RESPONSE_BYTES = 8192;
/** Deepest `{`/`[` nesting accepted; real responses nest 2 deep. */
const MAX_DEPTH = 4;

export type ProvisionedCredentials =
  | { credentialsType: "ACCESS_TOKEN"; token: string }
  /** Note ThingsBoard's spelling `userName`; absent fields are "". Connect with exactly these. */
  | { credentialsType: "MQTT_BASIC"; clientId: string; userName: string; password: string }
  /** The certificate body the server stored (PEM without header lines and line breaks). */
  | { credentialsType: "X509_CERTIFICATE"; certificate: string };

export interface ProvisionExpectation {
  /** What the request asked for (expectedCredentialsType(request)). A response of another type is refused. */
  credentialsType: CredentialsType;
  /**
   * Other types the device can use as well. Under CHECK_PRE_PROVISIONED_DEVICES the server ignores the
   * credentials in the request and answers with the device's existing ones, whatever their type (and value: a
   * device-chosen token may come back different; store what the response says). A device that can connect
   * with them lists them here: ACCESS_TOKEN and MQTT_BASIC need nothing on board, X509_CERTIFICATE needs the
   * matching private key. Default: none.
   */
  alsoAccept?: readonly CredentialsType[];
  /** Largest credential in bytes (default MAX_CREDENTIAL_BYTES); a store with a record header passes less. */
  maxCredentialBytes?: number;
}

const hasOwn = Object.prototype.hasOwnProperty;

function own(o: object, key: string): unknown {
  return hasOwn.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

function fail(code: ConstructorParameters<typeof ProvisionResponseError>[0], message: string): never {
  throw new ProvisionResponseError(code, message);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Nesting depth of JSON text, ignoring brackets inside strings; stops as soon as `limit` is exceeded. */
function exceedsDepth(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > limit) return true;
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
  return false;
}

/** UTF-8 size of a credential string from the response; refuses what MQTT could not carry. */
function credentialBytes(value: string, field: string): number {
  try {
    return utf8Length(value);
  } catch (e) {
    if (e instanceof MqttProtocolError) fail("invalid-field", `${field} contains U+0000 or a lone surrogate`);
    throw e;
  }
}

function checkSize(bytes: number, max: number, what: string): void {
  if (bytes > max) {
    fail("credential-too-large", `${what} is ${bytes} bytes; at most ${max} fit the credential store`);
  }
}

/** The server's errorMsg: absent → ""; present, it must be a string. */
function errorMsgOf(o: object): string {
  const m = own(o, "errorMsg");
  if (m === undefined) return "";
  if (typeof m !== "string") fail("invalid-field", `errorMsg is ${typeName(m)}, not a string`);
  return m;
}

/** An MQTT_BASIC field: absent or null → "", else a string. */
function basicField(v: object, field: string): string {
  const s = own(v, field);
  if (s === undefined || s === null) return "";
  if (typeof s !== "string") fail("invalid-field", `credentialsValue.${field} is ${typeName(s)}, not a string`);
  return s;
}

/**
 * Parses and validates a provision response payload. Returns the credentials (SUCCESS) or throws
 * ProvisionNotFoundError, ProvisionFailedError or ProvisionResponseError, and nothing else. No message
 * contains a credential.
 */
export function parseProvisionResponse(payload: Uint8Array, expected: ProvisionExpectation): ProvisionedCredentials {
  const max = expected.maxCredentialBytes ?? MAX_CREDENTIAL_BYTES;
  if (!(payload instanceof Uint8Array)) fail("invalid-json", "the provision response payload is not bytes");
  if (payload.length > MAX_PROVISION_RESPONSE_BYTES) {
    fail("payload-too-large", `the provision response is ${payload.length} bytes; at most ${MAX_PROVISION_RESPONSE_BYTES} are accepted`);
  }
  let text: string;
  try {
    text = readUtf8(payload, 0, payload.length);
  } catch (e) {
    if (e instanceof MqttProtocolError) fail("invalid-utf8", "the provision response is not valid UTF-8");
    throw e;
  }
  if (exceedsDepth(payload, MAX_DEPTH)) fail("too-deep", `the provision response nests deeper than ${MAX_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail("invalid-json", "the provision response is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail("not-an-object", `the provision response is ${typeName(json)}, not a JSON object`);
  }

  const status = own(json, "status");
  if (status === undefined) fail("missing-field", "the provision response has no status");
  if (typeof status !== "string") fail("invalid-field", `status is ${typeName(status)}, not a string`);
  if (status === "NOT_FOUND") throw new ProvisionNotFoundError(errorMsgOf(json));
  if (status === "FAILURE") throw new ProvisionFailedError(errorMsgOf(json));
  if (status !== "SUCCESS") {
    // The value itself is not shown: a response's text never reaches a message.
    fail("unknown-status", "status is not SUCCESS, NOT_FOUND or FAILURE");
  }

  const type = own(json, "credentialsType");
  if (type === undefined) fail("missing-field", "a SUCCESS response has no credentialsType");
  if (typeof type !== "string") fail("invalid-field", `credentialsType is ${typeName(type)}, not a string`);
  const known = type === "ACCESS_TOKEN" || type === "MQTT_BASIC" || type === "X509_CERTIFICATE";
  if (!known || (type !== expected.credentialsType && !(expected.alsoAccept ?? []).includes(type))) {
    fail(
      "credentials-type-mismatch",
      `asked for ${expected.credentialsType} credentials but the response carries ` +
        (known || type === "LWM2M_CREDENTIALS" ? type : "an unknown type"),
    );
  }
  const value = own(json, "credentialsValue");
  if (value === undefined) fail("missing-field", "a SUCCESS response has no credentialsValue");

  switch (type) {
    case "ACCESS_TOKEN":
    case "X509_CERTIFICATE": {
      if (typeof value !== "string") fail("invalid-field", `credentialsValue is ${typeName(value)}, not a string`);
      if (value.length === 0) fail("invalid-field", "credentialsValue is empty");
      checkSize(credentialBytes(value, "credentialsValue"), max, "credentialsValue");
      return type === "ACCESS_TOKEN"
        ? { credentialsType: "ACCESS_TOKEN", token: value }
        : { credentialsType: "X509_CERTIFICATE", certificate: value };
    }
    case "MQTT_BASIC": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail("invalid-field", `credentialsValue is ${typeName(value)}, not an object`);
      }
      const clientId = basicField(value, "clientId");
      const userName = basicField(value, "userName");
      const password = basicField(value, "password");
      if (clientId.length === 0 && userName.length === 0) {
        fail("invalid-field", "credentialsValue has neither a clientId nor a userName");
      }
      const bytes =
        credentialBytes(clientId, "credentialsValue.clientId") +
        credentialBytes(userName, "credentialsValue.userName") +
        credentialBytes(password, "credentialsValue.password");
      checkSize(bytes, max, "credentialsValue (clientId + userName + password)");
      return { credentialsType: "MQTT_BASIC", clientId, userName, password };
    }
  }
}
