/**
 * The provision request a device publishes on `/provision/request` (../shared/thingsboard-device-api.md §1).
 *
 * Only the fields in use are sent: never `null`, never "" placeholders (an empty string counts as absent, as it
 * does on the server). Keys always come in this order, the order of the doc and of ThingsBoard's own examples:
 *
 *   deviceName, provisionDeviceKey, provisionDeviceSecret, credentialsType, token, clientId, username, password,
 *   hash, gateway
 *
 * What ThingsBoard would refuse (FAILURE or NOT_FOUND, or a malformed request answered by a bare close) is
 * refused here first with a ProvisionRequestError, so a device never spends its one provisioning attempt on it.
 */

import { MqttProtocolError } from "../mqtt/errors.js";
import { utf8Length, writeUtf8 } from "../mqtt/utf8.js";
import { KV_MAX_VALUE_BYTES, type RandomSource } from "../ports.js";
import { ProvisionRequestError } from "./errors.js";

export type CredentialsType = "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";

/**
 * Largest credential, in UTF-8 bytes, that the SDK accepts (chosen by the device or sent by the server): it must
 * fit one key-value store value (ESP32 NVS: 4000 bytes). For MQTT_BASIC it bounds the three fields together.
 */
export const MAX_CREDENTIAL_BYTES = KV_MAX_VALUE_BYTES;

/** ThingsBoard's limit on a device name (characters). */
export const MAX_DEVICE_NAME_LENGTH = 255;

/** Length of a token from generateAccessToken() by default; ThingsBoard's own generated tokens have 20 characters. */
export const DEFAULT_TOKEN_LENGTH = 20;
export const MIN_TOKEN_LENGTH = 20;
/** Longest token generateAccessToken() makes (well within MAX_CREDENTIAL_BYTES). */
export const MAX_TOKEN_LENGTH = 256;

/** Which credentials the device asks for. */
export type ProvisionCredentials =
  /** The server generates a 20-character access token. Nothing credential-related is sent. */
  | { type: "SERVER_GENERATED_TOKEN" }
  /** The device chooses its access token (see generateAccessToken): it can store it before asking. */
  | { type: "ACCESS_TOKEN"; token: string }
  /**
   * MQTT basic credentials chosen by the device. ThingsBoard's rules: clientId or username (or both) must be
   * given; a password with a clientId needs a username. Empty strings count as absent.
   */
  | { type: "MQTT_BASIC"; clientId?: string; username?: string; password?: string }
  /** X.509: the device's certificate in PEM (sent in the field ThingsBoard calls `hash`). Never the private key. */
  | { type: "X509_CERTIFICATE"; certificatePem: string };

export interface ProvisionRequest {
  /** The device name; absent → the server invents a random one. Must not be blank (the server trims it). */
  deviceName?: string;
  /** The device profile's provision key and secret (both required). */
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  /** Default: SERVER_GENERATED_TOKEN. */
  credentials?: ProvisionCredentials;
  /** true → the device is created as a gateway. false/absent sends nothing (the server's default). */
  gateway?: boolean;
}

/** The credentials type the response must carry for this request (pass it to parseProvisionResponse). */
export function expectedCredentialsType(request: ProvisionRequest): CredentialsType {
  const c = request.credentials;
  return c === undefined || c.type === "SERVER_GENERATED_TOKEN" ? "ACCESS_TOKEN" : c.type;
}

/** UTF-8 byte length of a field; refuses what MQTT/JSON cannot carry (lone surrogates, U+0000). */
function fieldBytes(value: unknown, field: string): number {
  if (typeof value !== "string") throw new ProvisionRequestError("invalid-field", `${field} must be a string`);
  try {
    return utf8Length(value);
  } catch (e) {
    if (e instanceof MqttProtocolError) {
      throw new ProvisionRequestError("invalid-field", `${field} contains U+0000 or a lone surrogate`);
    }
    throw e;
  }
}

/** An optional field: undefined and "" are absent. */
function present(value: string | undefined, field: string): boolean {
  if (value === undefined) return false;
  return fieldBytes(value, field) > 0;
}

function credentialSize(bytes: number, what: string): void {
  if (bytes > MAX_CREDENTIAL_BYTES) {
    throw new ProvisionRequestError(
      "credential-too-large",
      `${what} is ${bytes} bytes; at most ${MAX_CREDENTIAL_BYTES} fit the credential store`,
    );
  }
}

/** Appends `,"key":<json string>` (JSON.stringify escapes exactly as JSON requires). */
function member(out: string, key: string, value: string): string {
  return out + `,"${key}":` + JSON.stringify(value);
}

/**
 * The request as JSON text, validated. Throws ProvisionRequestError (nothing else) on anything ThingsBoard would
 * refuse; its message names the field, never its value.
 */
export function provisionRequestJson(request: ProvisionRequest): string {
  if (typeof request !== "object" || request === null) {
    throw new ProvisionRequestError("invalid-field", "the provision request must be an object");
  }
  const { deviceName, provisionDeviceKey, provisionDeviceSecret, gateway } = request;
  const credentials: ProvisionCredentials = request.credentials ?? { type: "SERVER_GENERATED_TOKEN" };

  let out = "{";
  let first = true;
  if (deviceName !== undefined) {
    fieldBytes(deviceName, "deviceName");
    if (deviceName.trim().length === 0) {
      throw new ProvisionRequestError("invalid-device-name", "deviceName is blank: give a name, or leave it out for a server-chosen one");
    }
    if (deviceName.length > MAX_DEVICE_NAME_LENGTH) {
      throw new ProvisionRequestError("invalid-device-name", `deviceName is longer than ${MAX_DEVICE_NAME_LENGTH} characters`);
    }
    out += `"deviceName":` + JSON.stringify(deviceName);
    first = false;
  }
  if (!present(provisionDeviceKey, "provisionDeviceKey")) {
    throw new ProvisionRequestError("missing-provision-key", "provisionDeviceKey is missing: copy it from the device profile");
  }
  if (!present(provisionDeviceSecret, "provisionDeviceSecret")) {
    throw new ProvisionRequestError("missing-provision-secret", "provisionDeviceSecret is missing: copy it from the device profile");
  }
  out += (first ? "" : ",") + `"provisionDeviceKey":` + JSON.stringify(provisionDeviceKey);
  out = member(out, "provisionDeviceSecret", provisionDeviceSecret);

  switch (credentials.type) {
    case "SERVER_GENERATED_TOKEN":
      break;
    case "ACCESS_TOKEN": {
      if (!present(credentials.token, "token")) {
        throw new ProvisionRequestError("invalid-field", "token is empty: use SERVER_GENERATED_TOKEN to let the server choose one");
      }
      credentialSize(fieldBytes(credentials.token, "token"), "token");
      out = member(out, "credentialsType", "ACCESS_TOKEN");
      out = member(out, "token", credentials.token);
      break;
    }
    case "MQTT_BASIC": {
      const { clientId, username, password } = credentials;
      const hasClientId = present(clientId, "clientId");
      const hasUsername = present(username, "username");
      const hasPassword = present(password, "password");
      if (!hasClientId && !hasUsername) {
        throw new ProvisionRequestError("mqtt-basic-no-identity", "MQTT_BASIC needs a clientId or a username (or both)");
      }
      if (hasClientId && hasPassword && !hasUsername) {
        throw new ProvisionRequestError("mqtt-basic-password-needs-username", "MQTT_BASIC with a clientId and a password needs a username too");
      }
      credentialSize(
        (hasClientId ? fieldBytes(clientId, "clientId") : 0) +
          (hasUsername ? fieldBytes(username, "username") : 0) +
          (hasPassword ? fieldBytes(password, "password") : 0),
        "MQTT_BASIC clientId + username + password",
      );
      out = member(out, "credentialsType", "MQTT_BASIC");
      if (hasClientId) out = member(out, "clientId", clientId as string);
      if (hasUsername) out = member(out, "username", username as string);
      if (hasPassword) out = member(out, "password", password as string);
      break;
    }
    case "X509_CERTIFICATE": {
      const pem = credentials.certificatePem;
      if (!present(pem, "certificatePem")) {
        throw new ProvisionRequestError("invalid-field", "certificatePem is empty: give the device certificate in PEM");
      }
      // The certificate is public; the key must never leave the device.
      if (pem.indexOf("PRIVATE KEY") >= 0) {
        throw new ProvisionRequestError("private-key-in-certificate", "certificatePem contains a private key: send the certificate only");
      }
      credentialSize(fieldBytes(pem, "certificatePem"), "certificatePem");
      out = member(out, "credentialsType", "X509_CERTIFICATE");
      out = member(out, "hash", pem);
      break;
    }
    default:
      throw new ProvisionRequestError("invalid-field", "credentials.type must be SERVER_GENERATED_TOKEN, ACCESS_TOKEN, MQTT_BASIC or X509_CERTIFICATE");
  }
  if (gateway !== undefined && typeof gateway !== "boolean") {
    throw new ProvisionRequestError("invalid-field", "gateway must be a boolean");
  }
  if (gateway === true) out += `,"gateway":true`;
  return out + "}";
}

/** The request as UTF-8 bytes, ready to publish. */
export function provisionRequestBytes(request: ProvisionRequest): Uint8Array {
  const json = provisionRequestJson(request);
  const bytes = new Uint8Array(utf8Length(json));
  writeUtf8(json, bytes, 0);
  return bytes;
}

/** The alphabet of generated tokens: ASCII letters and digits, as ThingsBoard's own (randomAlphanumeric). */
export const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHABET_SIZE = 62;
/** Bytes below this map uniformly (4 × 62); bytes 248..255 are rejected so no character is favoured. */
const ACCEPT_BELOW = 248;
/** Refills without a single accepted byte before the random source is declared broken (e.g. stuck at 0xFF). */
const MAX_EMPTY_REFILLS = 8;

/**
 * A random access token of `length` characters from TOKEN_ALPHABET (62 letters and digits, ~5.95 bits each:
 * 20 characters ≈ 119 bits). Each byte from `random` maps to a character by rejection sampling: bytes 248..255
 * are discarded, the rest map by `byte % 62`, so every character is exactly equally likely.
 */
export function generateAccessToken(random: RandomSource, length: number = DEFAULT_TOKEN_LENGTH): string {
  if (!Number.isInteger(length) || length < MIN_TOKEN_LENGTH || length > MAX_TOKEN_LENGTH) {
    throw new ProvisionRequestError("invalid-token-length", `a token needs ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters`);
  }
  // 1/32 of bytes is rejected: a little slack usually makes one fill enough.
  const pool = new Uint8Array(length + (length >> 3) + 4);
  const codes: number[] = [];
  let emptyRefills = 0;
  while (codes.length < length) {
    random.fill(pool);
    const before = codes.length;
    for (let i = 0; i < pool.length && codes.length < length; i++) {
      const b = pool[i];
      if (b < ACCEPT_BELOW) codes.push(TOKEN_CODES[b % ALPHABET_SIZE]);
    }
    if (codes.length === before && ++emptyRefills >= MAX_EMPTY_REFILLS) {
      throw new ProvisionRequestError("random-source-stuck", "the random source gave only bytes 248..255: it is broken");
    }
    pool.fill(0);
  }
  const token = String.fromCharCode.apply(null, codes);
  codes.fill(0);
  return token;
}

const TOKEN_CODES: readonly number[] = Object.freeze(Array.from({ length: ALPHABET_SIZE }, (_, i) => TOKEN_ALPHABET.charCodeAt(i)));
