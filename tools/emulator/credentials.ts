/**
 * Device credentials exactly as ThingsBoard derives and validates them
 * (DeviceCredentialsServiceImpl.formatCredentials and its validator, EncryptionUtil).
 */
import { createHash, randomInt } from "node:crypto";
import type { CredentialsType } from "./model.js";
import { jacksonQuote } from "./java-json.js";

/** What a credentials record needs besides ids and times. */
export interface CredentialsSpec {
  credentialsType: CredentialsType;
  credentialsId: string;
  credentialsValue: string | null;
}

/** MQTT basic credentials in ThingsBoard's spelling (`userName`, not `username`). */
export interface BasicMqttCredentials {
  clientId: string;
  userName: string;
  password: string;
}

/** ThingsBoard refused the credentials; `message` is ThingsBoard's own text. */
export class InvalidCredentialsError extends Error {
  override readonly name = "InvalidCredentialsError";
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Like Apache Commons' RandomStringUtils.randomAlphanumeric, which ThingsBoard uses for tokens and device names. */
export function randomAlphanumeric(length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return s;
}

/** A fresh access token: 20 alphanumeric characters, as ThingsBoard generates them. */
export function generateAccessToken(): string {
  return randomAlphanumeric(20);
}

/** EncryptionUtil.getSha3Hash: SHA3-256 of the UTF-8 bytes, lower-case hex. */
export function sha3Hex(text: string): string {
  return createHash("sha3-256").update(text, "utf8").digest("hex");
}

/**
 * EncryptionUtil.certTrimNewLines: removes the BEGIN/END CERTIFICATE lines' markers and every CR and LF.
 * Nothing else is touched (spaces and other armour stay), exactly like ThingsBoard.
 */
export function stripPem(pem: string): string {
  return pem
    .split("-----BEGIN CERTIFICATE-----").join("")
    .split("\n").join("")
    .split("\r").join("")
    .split("-----END CERTIFICATE-----").join("");
}

export function accessTokenCredentials(token: string): CredentialsSpec {
  if (token === "") throw new InvalidCredentialsError("Device credentials id should be specified!");
  return { credentialsType: "ACCESS_TOKEN", credentialsId: token, credentialsValue: null };
}

/**
 * Stored id: the user name when there is no client id; sha3(clientId) when there is no user name;
 * sha3(clientId + "|" + userName) otherwise. The value keeps all three fields, empty ones as "".
 */
export function mqttBasicCredentials(c: BasicMqttCredentials): CredentialsSpec {
  if (c.clientId === "" && c.userName === "") {
    throw new InvalidCredentialsError("Both mqtt client id and user name are empty!");
  }
  if (c.clientId !== "" && c.password !== "" && c.userName === "") {
    throw new InvalidCredentialsError("Password cannot be specified along with client id");
  }
  const credentialsId =
    c.clientId === "" ? c.userName : c.userName === "" ? sha3Hex(c.clientId) : sha3Hex(`${c.clientId}|${c.userName}`);
  // Jackson's text for BasicMqttCredentials (its field order, its escaping); the provision response repeats it.
  const value = `{"clientId":${jacksonQuote(c.clientId)},"userName":${jacksonQuote(c.userName)},"password":${jacksonQuote(c.password)}}`;
  return { credentialsType: "MQTT_BASIC", credentialsId, credentialsValue: value };
}

/**
 * X.509: the stored value is the PEM without armour or line breaks; the id is its SHA3-256 hex.
 * Like ThingsBoard, the certificate itself is not parsed here (an empty value still hashes).
 */
export function x509Credentials(pem: string): CredentialsSpec {
  const value = stripPem(pem);
  return { credentialsType: "X509_CERTIFICATE", credentialsId: sha3Hex(value), credentialsValue: value };
}

/** Parses a stored MQTT_BASIC value back; null when it is not the JSON object ThingsBoard writes. */
export function parseBasicMqttValue(value: string | null): BasicMqttCredentials | null {
  if (value === null) return null;
  try {
    const o: unknown = JSON.parse(value);
    if (typeof o !== "object" || o === null) return null;
    const r = o as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    return { clientId: str(r.clientId), userName: str(r.userName), password: str(r.password) };
  } catch {
    return null;
  }
}
