/**
 * CONNECT authentication as ThingsBoard does it (MqttTransportHandler.processConnect / processAuthTokenConnect /
 * processX509CertConnect, DefaultTransportApiService.validateCredentials) and the CONNACK codes it answers
 * an MQTT 3.1.1 client with.
 */
import type { X509Certificate } from "node:crypto";
import type { Device } from "./model.js";
import type { EmulatorStore } from "./store.js";
import { parseBasicMqttValue, sha3Hex } from "./credentials.js";

/** The username or client id that opens a provision-only session (DataConstants.PROVISION). */
export const PROVISION_SESSION_NAME = "provision";

export const CONNACK_IDENTIFIER_REJECTED = 2;
export const CONNACK_NOT_AUTHORIZED = 5;

/** What a CONNECT carries for authentication; absent fields are undefined (not ""). */
export interface ConnectCredentials {
  clientId: string;
  username?: string;
  password?: Buffer;
}

export type AuthResult = { ok: true; device: Device } | { ok: false; returnCode: number };

export function isProvisionConnect(c: ConnectCredentials): boolean {
  return c.username === PROVISION_SESSION_NAME || c.clientId === PROVISION_SESSION_NAME;
}

/**
 * The refusal code for credentials that matched no device: 5, except 2 for a CONNECT that carries a client id
 * but neither user name nor password (ThingsBoard's CLIENT_IDENTIFIER_NOT_VALID, which 3.1.1 sends as 2).
 */
export function refusalCode(c: ConnectCredentials): number {
  const hasUser = c.username !== undefined;
  const hasPassword = c.password !== undefined;
  if (!hasUser && !hasPassword && c.clientId !== "") return CONNACK_IDENTIFIER_REJECTED;
  return CONNACK_NOT_AUTHORIZED;
}

/**
 * ACCESS_TOKEN or MQTT_BASIC (ValidateBasicMqttCredRequestMsg): first by user name (a token, or a basic
 * credential stored under its user name), then sha3(clientId|userName), then sha3(clientId).
 */
export function authenticateBasic(store: EmulatorStore, c: ConnectCredentials): AuthResult {
  const userName = c.username ?? "";
  const password = c.password === undefined ? "" : c.password.toString("utf8");
  const byUserName = store.findByCredentialsId(userName);
  if (byUserName) {
    const { credentials, device } = byUserName;
    if (credentials.credentialsType === "ACCESS_TOKEN") return { ok: true, device };
    if (credentials.credentialsType === "MQTT_BASIC" && basicMatches(credentials.credentialsValue, c.clientId, userName, password)) {
      return { ok: true, device };
    }
    return { ok: false, returnCode: refusalCode(c) };
  }
  for (const id of [sha3Hex(`${c.clientId}|${userName}`), sha3Hex(c.clientId)]) {
    const found = store.findByCredentialsId(id);
    if (found?.credentials.credentialsType === "MQTT_BASIC" && basicMatches(found.credentials.credentialsValue, c.clientId, userName, password)) {
      return { ok: true, device: found.device };
    }
  }
  return { ok: false, returnCode: refusalCode(c) };
}

/** validateMqttCredentials: every stored non-empty field must match; a stored password must be given. */
function basicMatches(storedValue: string | null, clientId: string, userName: string, password: string): boolean {
  const stored = parseBasicMqttValue(storedValue);
  if (!stored) return false;
  if (stored.clientId !== "" && stored.clientId !== clientId) return false;
  if (stored.userName !== "" && stored.userName !== userName) return false;
  if (stored.password !== "") return password !== "" && password === stored.password;
  return true;
}

/**
 * X.509 over MQTTS: SslUtil.getCertificateString (base64 of the DER, no line breaks) hashed with SHA3-256 is the
 * credentials id; the certificate must be within its validity period. Any failure is 5.
 */
export function authenticateX509(store: EmulatorStore, cert: X509Certificate, now: number): AuthResult {
  const refused = { ok: false as const, returnCode: CONNACK_NOT_AUTHORIZED };
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return refused;
  const found = store.findByCredentialsId(x509CredentialsId(cert.raw));
  if (found?.credentials.credentialsType !== "X509_CERTIFICATE") return refused;
  return { ok: true, device: found.device };
}

/** The credentials id ThingsBoard computes for a client certificate given as DER. */
export function x509CredentialsId(der: Buffer): string {
  return sha3Hex(der.toString("base64"));
}
