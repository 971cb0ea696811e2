/**
 * The stored credential record: what a provisioned (or provisioning) device must remember across power cuts,
 * and its binary encoding.
 *
 * Layout, version 1 (all integers big-endian; strings are a u16 byte length followed by UTF-8):
 *
 *   off  size  field
 *     0     2  magic "TC" (0x54 0x43)
 *     2     1  format version = 1
 *     3     1  flags: bit 0 = pending (device-chosen credentials stored before the provision request was sent);
 *              other bits 0
 *     4     4  sequence number (u32, wraps; newer = ahead in serial-number arithmetic, RFC 1982)
 *     8     2  total length L of the record in bytes, CRC included
 *    10     1  credentials type: 1 ACCESS_TOKEN, 2 MQTT_BASIC, 3 X509_CERTIFICATE
 *    11     1  optional fields present (MQTT_BASIC: bit 0 clientId, bit 1 username, bit 2 password; else 0)
 *    12     2  server port
 *    14     8  provisioned-at, ms since the Unix epoch: u32 high part, u32 low part (integer < 2^53)
 *    22     …  strings: server host, device name, then by type
 *                ACCESS_TOKEN      token
 *                MQTT_BASIC        clientId?, username?, password? (those present, in that order)
 *                X509_CERTIFICATE  certificate PEM, private key PEM (unencrypted PKCS#8)
 *   L-4     4  CRC-32 (IEEE) of bytes [0, L-4)
 *
 * A record longer than one NVS value (4000 bytes) is stored as consecutive 4000-byte pieces under several keys
 * (see store.ts); the length field says how many, and the CRC covers them all.
 */

import { readUtf8, utf8Length, writeUtf8 } from "../mqtt/utf8.js";
import { crc32 } from "./crc32.js";
import { InvalidCredentialRecordError } from "./errors.js";

export type CredentialsType = "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";

export interface AccessTokenCredentials {
  type: "ACCESS_TOKEN";
  /** MQTT user name on CONNECT. */
  token: string;
}

/** ThingsBoard needs a client id or a user name (or both); the password is optional. */
export interface MqttBasicCredentials {
  type: "MQTT_BASIC";
  clientId?: string;
  username?: string;
  password?: string;
}

export interface X509Credentials {
  type: "X509_CERTIFICATE";
  /** The device certificate, PEM ("-----BEGIN CERTIFICATE-----"), optionally followed by its chain. */
  certificatePem: string;
  /** Its private key, unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"): what Moddable's TLS takes, as DER. */
  privateKeyPem: string;
}

export type DeviceCredentials = AccessTokenCredentials | MqttBasicCredentials | X509Credentials;

export interface CredentialRecord {
  credentials: DeviceCredentials;
  /** The ThingsBoard server these credentials belong to. */
  host: string;
  port: number;
  deviceName: string;
  /** When provisioning succeeded (ms since the Unix epoch); for a pending record, when it was stored. 0 = unknown. */
  provisionedAtMs: number;
  /**
   * True for device-chosen credentials stored before the provision request was sent: the server may or may not
   * have them. After a SUCCESS the agent stores the record again with pending false.
   */
  pending: boolean;
}

/** Why a stored value is not a usable record. */
export type RecordProblem = "foreign" | "unsupported" | "corrupt";

export type DecodedRecord =
  | { ok: true; record: CredentialRecord; sequence: number }
  | { ok: false; problem: RecordProblem; detail: string };

export const RECORD_FORMAT_VERSION = 1;
export const RECORD_MAGIC_0 = 0x54; // "T"
export const RECORD_MAGIC_1 = 0x43; // "C"
/** Bytes before the strings. */
export const RECORD_HEADER_BYTES = 22;
const CRC_BYTES = 4;
/** The length field is a u16. */
export const RECORD_MAX_BYTES = 0xffff;

const FLAG_PENDING = 1;
const TYPE_CODES: Readonly<Record<CredentialsType, number>> = Object.freeze({ ACCESS_TOKEN: 1, MQTT_BASIC: 2, X509_CERTIFICATE: 3 });
const TYPE_NAMES: readonly (CredentialsType | undefined)[] = Object.freeze([undefined, "ACCESS_TOKEN", "MQTT_BASIC", "X509_CERTIFICATE"] as const);
const HAS_CLIENT_ID = 1;
const HAS_USERNAME = 2;
const HAS_PASSWORD = 4;
const TWO_32 = 4294967296;

const PKCS8_LABEL = "-----BEGIN PRIVATE KEY-----";
const CERTIFICATE_LABEL = "-----BEGIN CERTIFICATE-----";

function invalid(field: string, problem: string): InvalidCredentialRecordError {
  return new InvalidCredentialRecordError(field, problem);
}

/** Encoded length of a string field; refuses non-strings and what UTF-8 cannot carry. */
function stringBytes(value: unknown, field: string): number {
  if (typeof value !== "string") throw invalid(field, "must be a string");
  let n: number;
  try {
    n = utf8Length(value);
  } catch {
    throw invalid(field, "contains U+0000 or a lone surrogate");
  }
  if (n > RECORD_MAX_BYTES) throw invalid(field, `is longer than ${RECORD_MAX_BYTES} bytes`);
  return n;
}

function optionalMask(c: MqttBasicCredentials): number {
  return (c.clientId !== undefined ? HAS_CLIENT_ID : 0) | (c.username !== undefined ? HAS_USERNAME : 0) |
    (c.password !== undefined ? HAS_PASSWORD : 0);
}

function nonEmpty(value: string, field: string): void {
  if (value.length === 0) throw invalid(field, "must not be empty");
}

/**
 * The rules a record obeys beyond its strings being strings: what save() refuses and what load() treats as
 * corrupt even under a good CRC. Cheap (no per-character work), so load() can afford it on XS.
 */
function checkRules(record: CredentialRecord): void {
  const port = record.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid("port", "must be an integer from 1 to 65535");
  }
  const at = record.provisionedAtMs;
  if (typeof at !== "number" || !Number.isSafeInteger(at) || at < 0) {
    throw invalid("provisionedAtMs", "must be a non-negative integer (ms since the Unix epoch; 0 if unknown)");
  }
  if (typeof record.pending !== "boolean") throw invalid("pending", "must be true or false");
  nonEmpty(record.host, "host");
  const c = record.credentials;
  switch (c.type) {
    case "ACCESS_TOKEN":
      nonEmpty(c.token, "credentials.token");
      break;
    case "MQTT_BASIC":
      if (!c.clientId && !c.username) throw invalid("credentials.clientId", "or credentials.username must be set (ThingsBoard needs one)");
      break;
    case "X509_CERTIFICATE":
      if (c.certificatePem.indexOf(CERTIFICATE_LABEL) < 0) {
        throw invalid("credentials.certificatePem", `must be PEM with "${CERTIFICATE_LABEL}"`);
      }
      if (c.certificatePem.indexOf("PRIVATE KEY") >= 0) {
        throw invalid("credentials.certificatePem", "contains a private key: keep the key in privateKeyPem only");
      }
      if (c.privateKeyPem.indexOf(PKCS8_LABEL) < 0) {
        throw invalid(
          "credentials.privateKeyPem",
          `must be an unencrypted PKCS#8 PEM key ("${PKCS8_LABEL}"), which Moddable's TLS needs; convert with ` +
            "`openssl pkcs8 -topk8 -nocrypt`",
        );
      }
      break;
  }
}

/**
 * Checks every field and returns the encoded length of the record. Throws InvalidCredentialRecordError naming
 * the first bad field. (The size limit of a store is checked by the store: see CredentialStore.check.)
 */
export function encodedRecordLength(record: CredentialRecord): number {
  if (typeof record !== "object" || record === null) throw invalid("record", "must be an object");
  let n = RECORD_HEADER_BYTES + CRC_BYTES;
  n += 2 + stringBytes(record.host, "host");
  n += 2 + stringBytes(record.deviceName, "deviceName");
  const c = record.credentials;
  if (typeof c !== "object" || c === null) throw invalid("credentials", "must be an object");
  switch (c.type) {
    case "ACCESS_TOKEN":
      n += 2 + stringBytes(c.token, "credentials.token");
      break;
    case "MQTT_BASIC":
      if (c.clientId !== undefined) n += 2 + stringBytes(c.clientId, "credentials.clientId");
      if (c.username !== undefined) n += 2 + stringBytes(c.username, "credentials.username");
      if (c.password !== undefined) n += 2 + stringBytes(c.password, "credentials.password");
      break;
    case "X509_CERTIFICATE":
      n += 2 + stringBytes(c.certificatePem, "credentials.certificatePem");
      n += 2 + stringBytes(c.privateKeyPem, "credentials.privateKeyPem");
      break;
    default:
      throw invalid("credentials.type", "must be ACCESS_TOKEN, MQTT_BASIC or X509_CERTIFICATE");
  }
  checkRules(record);
  if (n > RECORD_MAX_BYTES) throw invalid("record", `is longer than ${RECORD_MAX_BYTES} bytes in all`);
  return n;
}

function putString(s: string, out: Uint8Array, o: number): number {
  const end = writeUtf8(s, out, o + 2);
  const len = end - o - 2;
  out[o] = len >>> 8;
  out[o + 1] = len & 0xff;
  return end;
}

/** Encodes `record` with `sequence` (u32). Validates first: throws InvalidCredentialRecordError, writes nothing. */
export function encodeRecord(record: CredentialRecord, sequence: number): Uint8Array {
  if (!Number.isInteger(sequence) || sequence < 0 || sequence >= TWO_32) {
    throw new RangeError("sequence must be an integer from 0 to 2^32-1");
  }
  const length = encodedRecordLength(record);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const c = record.credentials;
  out[0] = RECORD_MAGIC_0;
  out[1] = RECORD_MAGIC_1;
  out[2] = RECORD_FORMAT_VERSION;
  out[3] = record.pending ? FLAG_PENDING : 0;
  view.setUint32(4, sequence);
  view.setUint16(8, length);
  out[10] = TYPE_CODES[c.type];
  out[11] = c.type === "MQTT_BASIC" ? optionalMask(c) : 0;
  view.setUint16(12, record.port);
  view.setUint32(14, Math.floor(record.provisionedAtMs / TWO_32));
  view.setUint32(18, record.provisionedAtMs % TWO_32);
  let o = putString(record.host, out, RECORD_HEADER_BYTES);
  o = putString(record.deviceName, out, o);
  if (c.type === "ACCESS_TOKEN") o = putString(c.token, out, o);
  else if (c.type === "MQTT_BASIC") {
    if (c.clientId !== undefined) o = putString(c.clientId, out, o);
    if (c.username !== undefined) o = putString(c.username, out, o);
    if (c.password !== undefined) o = putString(c.password, out, o);
  } else {
    o = putString(c.certificatePem, out, o);
    o = putString(c.privateKeyPem, out, o);
  }
  view.setUint32(o, crc32(out, 0, o));
  return out;
}

/** What the first bytes of a stored value say, before the rest is read: enough to gather a multi-part record. */
export type RecordHeader =
  | { ok: true; length: number; sequence: number }
  | { ok: false; problem: RecordProblem; detail: string };

/** Reads magic, version, length and sequence from the start of a record (a record's first part will do). */
export function readRecordHeader(bytes: Uint8Array): RecordHeader {
  if (bytes.length < 3 || bytes[0] !== RECORD_MAGIC_0 || bytes[1] !== RECORD_MAGIC_1) {
    return { ok: false, problem: "foreign", detail: "not a credential record (no TC magic)" };
  }
  if (bytes[2] !== RECORD_FORMAT_VERSION) {
    return { ok: false, problem: "unsupported", detail: `record format version ${bytes[2]}; this firmware reads version ${RECORD_FORMAT_VERSION}` };
  }
  if (bytes.length < RECORD_HEADER_BYTES) return { ok: false, problem: "corrupt", detail: "truncated header" };
  const length = (bytes[8] << 8) | bytes[9];
  if (length < RECORD_HEADER_BYTES + 2 + 2 + 2 + CRC_BYTES) return { ok: false, problem: "corrupt", detail: "length field too small" };
  const sequence = ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0;
  return { ok: true, length, sequence };
}

/** Thrown inside decodeRecord only; turned into { ok: false, problem: "corrupt" }. */
class Malformed {
  constructor(readonly detail: string) {}
}

/**
 * Decodes one whole record. Never throws: anything that is not a valid version-1 record comes back as a
 * problem ("foreign": not ours; "unsupported": a format this code does not read; "corrupt": ours but damaged).
 */
export function decodeRecord(bytes: Uint8Array): DecodedRecord {
  const header = readRecordHeader(bytes);
  if (!header.ok) return header;
  if (header.length !== bytes.length) {
    return { ok: false, problem: "corrupt", detail: `length field says ${header.length} bytes, found ${bytes.length}` };
  }
  const end = bytes.length - CRC_BYTES;
  const stored = ((bytes[end] << 24) | (bytes[end + 1] << 16) | (bytes[end + 2] << 8) | bytes[end + 3]) >>> 0;
  if (crc32(bytes, 0, end) !== stored) return { ok: false, problem: "corrupt", detail: "CRC mismatch" };
  const flags = bytes[3];
  if ((flags & ~FLAG_PENDING) !== 0) return { ok: false, problem: "unsupported", detail: `unknown flags 0x${flags.toString(16)}` };
  const type = TYPE_NAMES[bytes[10]];
  if (type === undefined) return { ok: false, problem: "unsupported", detail: `unknown credentials type ${bytes[10]}` };
  const mask = bytes[11];
  try {
    let o = RECORD_HEADER_BYTES;
    const next = (): string => {
      if (o + 2 > end) throw new Malformed("string runs past the end");
      const len = (bytes[o] << 8) | bytes[o + 1];
      const start = o + 2;
      if (start + len > end) throw new Malformed("string runs past the end");
      o = start + len;
      try {
        return readUtf8(bytes, start, o);
      } catch {
        throw new Malformed("invalid UTF-8");
      }
    };
    const host = next();
    const deviceName = next();
    let credentials: DeviceCredentials;
    if (type === "ACCESS_TOKEN") {
      if (mask !== 0) throw new Malformed("optional-field bits set for ACCESS_TOKEN");
      credentials = { type, token: next() };
    } else if (type === "MQTT_BASIC") {
      if ((mask & ~(HAS_CLIENT_ID | HAS_USERNAME | HAS_PASSWORD)) !== 0) throw new Malformed("unknown optional-field bits");
      const basic: MqttBasicCredentials = { type };
      if (mask & HAS_CLIENT_ID) basic.clientId = next();
      if (mask & HAS_USERNAME) basic.username = next();
      if (mask & HAS_PASSWORD) basic.password = next();
      credentials = basic;
    } else {
      if (mask !== 0) throw new Malformed("optional-field bits set for X509_CERTIFICATE");
      const certificatePem = next();
      credentials = { type, certificatePem, privateKeyPem: next() };
    }
    if (o !== end) throw new Malformed(`${end - o} unexpected bytes after the last field`);
    const hi = ((bytes[14] << 24) | (bytes[15] << 16) | (bytes[16] << 8) | bytes[17]) >>> 0;
    const lo = ((bytes[18] << 24) | (bytes[19] << 16) | (bytes[20] << 8) | bytes[21]) >>> 0;
    const record: CredentialRecord = {
      credentials,
      host,
      port: (bytes[12] << 8) | bytes[13],
      deviceName,
      provisionedAtMs: hi * TWO_32 + lo,
      pending: (flags & FLAG_PENDING) !== 0,
    };
    // Same rules as on save: a record that passes its CRC but breaks them was written by broken code.
    try {
      checkRules(record);
    } catch (error) {
      throw new Malformed(error instanceof InvalidCredentialRecordError ? `field ${error.field} is invalid` : "invalid field");
    }
    return { ok: true, record, sequence: header.sequence };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, problem: "corrupt", detail: error.detail };
    throw error;
  }
}

/** True when sequence `a` is newer than `b` (serial-number arithmetic on u32, so the counter may wrap). */
export function isNewerSequence(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
