/**
 * Device provisioning exactly as ThingsBoard decides it (DeviceProvisionServiceImpl.provisionDevice,
 * DeviceServiceImpl.saveDevice(ProvisionRequest, …), DefaultTransportApiService) and answers it
 * (JsonConverter.toJson(ProvisionDeviceResponseMsg), or the protobuf message for a protobuf request).
 *
 * Pure: no network, no logging. The MQTT layer publishes `bytes` (after the PUBACK) and closes 60 s later, or
 * for "malformed" sends an error PUBACK and closes at once; the HTTP layer sends `body`.
 */
import {
  PROVISION_STATE_KEY,
  PROVISIONED_STATE,
  type CredentialsType,
  type Device,
  type DeviceCredentials,
  type DeviceId,
  type DeviceProfile,
  type JsonValue,
} from "./model.js";
import { EmulatorStore, provisionStateOf } from "./store.js";
import {
  accessTokenCredentials,
  InvalidCredentialsError,
  mqttBasicCredentials,
  randomAlphanumeric,
  x509Credentials,
  type CredentialsSpec,
} from "./credentials.js";
import { ConflictError, ValidationError } from "./errors.js";
import { parseProvisionPayload, type PayloadFormat, type ProvisionRequest } from "./provision-request.js";
import { encodeProvisionDeviceResponse } from "./protobuf.js";
import { gsonQuote, gsonStringify, javaUtf8 } from "./java-json.js";

/**
 * CHECK_PRE_PROVISIONED_DEVICES, asked again for a device already "provisioned":
 * "legacy" answers SUCCESS again with the same credentials (ThingsBoard ≤ 4.2.1),
 * "strict" answers FAILURE (4.2.1.1 and later).
 */
export type ReprovisionMode = "legacy" | "strict";

export interface ProvisionOptions {
  reprovision: ReprovisionMode;
  /** Timestamp for the provisionState attribute. */
  now(): number;
  /**
   * Try protobuf when the payload is not a JSON object (MQTT does; default true). HTTP's
   * `POST /api/v1/provision` reads JSON only: pass false there and anything else is "malformed".
   */
  protobufFallback?: boolean;
}

export type ProvisionStatus = "SUCCESS" | "NOT_FOUND" | "FAILURE";

export type ProvisionResult =
  | {
      outcome: "response";
      status: ProvisionStatus;
      /** The JSON ThingsBoard sends for this result (the HTTP body; the MQTT payload when format is "json"). */
      body: string;
      /** The request's format, which the MQTT reply uses. */
      format: PayloadFormat;
      /** The MQTT reply payload in that format. */
      bytes: Uint8Array;
      /** The device provisioned and its credentials type (SUCCESS only), for event logs. */
      device?: { id: DeviceId; name: string };
      credentialsType?: CredentialsType;
    }
  /** No response message: ThingsBoard answers with an error PUBACK and closes. `reason` holds no secrets. */
  | { outcome: "malformed"; reason: string };

/** Device names longer than this fail validation in ThingsBoard (@Length on Device.name: 255). */
const MAX_DEVICE_NAME_LENGTH = 255;
const RANDOM_DEVICE_NAME_LENGTH = 20;

type Decision =
  | { status: "SUCCESS"; device: Device; credentials: DeviceCredentials }
  | { status: "NOT_FOUND" | "FAILURE" };

const NOT_FOUND: Decision = { status: "NOT_FOUND" };
const FAILURE: Decision = { status: "FAILURE" };

/** Handles one `/provision/request` payload (or `POST /api/v1/provision` body) against the store. */
export function handleProvisionRequest(store: EmulatorStore, payload: Uint8Array, options: ProvisionOptions): ProvisionResult {
  const parsed = parseProvisionPayload(payload, options.protobufFallback ?? true);
  if (!parsed.ok) return { outcome: "malformed", reason: parsed.reason };
  const decision = decide(store, parsed.request, options);
  return render(decision, parsed.format);
}

/** Java's String.trim(): strips code points up to U+0020 at both ends, and no other whitespace. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

function decide(store: EmulatorStore, req: ProvisionRequest, options: ProvisionOptions): Decision {
  let deviceName = req.deviceName;
  if (deviceName !== "") {
    deviceName = javaTrim(deviceName);
    if (deviceName === "") return FAILURE; // checked before the key: a blank name fails even with a bad key
  }
  const key = req.provisionDeviceKey;
  const secret = req.provisionDeviceSecret;
  if (key === "" || secret === "") return NOT_FOUND;
  const profile = store.findProfileByProvisionKey(key);
  if (!profile || profile.provisionDeviceSecret === null) return NOT_FOUND;
  const existing = deviceName === "" ? undefined : store.findDeviceByName(deviceName);

  switch (profile.provisionType) {
    case "ALLOW_CREATE_NEW_DEVICES":
      if (profile.provisionDeviceSecret !== secret) return NOT_FOUND;
      if (existing) return FAILURE; // provisioning is not idempotent: the device is there already
      return createDevice(store, req, deviceName, profile, options);
    case "CHECK_PRE_PROVISIONED_DEVICES":
      if (profile.provisionDeviceSecret !== secret) return NOT_FOUND;
      if (!existing || existing.deviceProfileId.id !== profile.id.id) return FAILURE;
      return provisionExisting(store, existing, options);
    case "DISABLED":
      return NOT_FOUND;
  }
}

/** CHECK_PRE_PROVISIONED_DEVICES: the device's existing credentials are returned; those in the request are ignored. */
function provisionExisting(store: EmulatorStore, device: Device, options: ProvisionOptions): Decision {
  const state = provisionStateOf(store, device.id);
  if (state !== undefined) {
    if (state !== PROVISIONED_STATE) return FAILURE; // an unknown state always fails
    if (options.reprovision === "strict") return FAILURE;
    // legacy: saves the attribute again (new lastUpdateTs) and succeeds
  }
  store.setAttributes(device.id.id, "SERVER_SCOPE", { [PROVISION_STATE_KEY]: PROVISIONED_STATE }, options.now());
  return { status: "SUCCESS", device, credentials: store.getCredentialsByDeviceId(device.id.id)! };
}

/**
 * ALLOW_CREATE_NEW_DEVICES with a new name. ThingsBoard creates the device and its credentials in one
 * transaction: credentials it refuses (invalid, or already registered to another device) give FAILURE and leave
 * no device behind.
 */
function createDevice(
  store: EmulatorStore,
  req: ProvisionRequest,
  requestedName: string,
  profile: DeviceProfile,
  options: ProvisionOptions,
): Decision {
  const name = requestedName === "" ? randomAlphanumeric(RANDOM_DEVICE_NAME_LENGTH) : requestedName;
  if (name.length > MAX_DEVICE_NAME_LENGTH) return FAILURE;
  let credentials: CredentialsSpec | undefined;
  try {
    credentials = credentialsFromRequest(req);
  } catch (e) {
    if (e instanceof InvalidCredentialsError) return FAILURE;
    throw e;
  }
  if (credentials && !store.isCredentialsIdFree(credentials.credentialsId)) return FAILURE;
  let created;
  try {
    created = store.createDevice({
      name,
      deviceProfileId: profile.id.id,
      additionalInfo: req.gateway ? { gateway: true } : null,
      ...(credentials ? { credentials } : {}),
    });
  } catch (e) {
    if (e instanceof ConflictError || e instanceof ValidationError) return FAILURE;
    throw e;
  }
  store.setAttributes(created.device.id.id, "SERVER_SCOPE", { [PROVISION_STATE_KEY]: PROVISIONED_STATE }, options.now());
  return { status: "SUCCESS", ...created };
}

/**
 * Credentials chosen by the device. Only when at least one of token, hash, username, password or clientId is
 * non-empty; then the request's credentialsType decides how they are read (so e.g. a username with the default
 * ACCESS_TOKEN type and no token fails). undefined → the server's random 20-character token.
 */
function credentialsFromRequest(req: ProvisionRequest): CredentialsSpec | undefined {
  if (req.token === "" && req.hash === "" && req.username === "" && req.password === "" && req.clientId === "") {
    return undefined;
  }
  switch (req.credentialsType) {
    case "ACCESS_TOKEN":
      return accessTokenCredentials(req.token);
    case "MQTT_BASIC":
      return mqttBasicCredentials({ clientId: req.clientId, userName: req.username, password: req.password });
    case "X509_CERTIFICATE":
      return x509Credentials(req.hash);
    case "LWM2M_CREDENTIALS":
      // ThingsBoard would parse an empty LwM2M credentials body here and refuse it.
      throw new InvalidCredentialsError("Invalid credentials body for LwM2M credentials!");
  }
}

// ---- responses ----

function render(decision: Decision, format: PayloadFormat): ProvisionResult {
  if (decision.status !== "SUCCESS") {
    const errorMsg = decision.status === "NOT_FOUND" ? "Provision data was not found!" : "Failed to provision device!";
    const body = `{"errorMsg":${gsonQuote(errorMsg)},"status":"${decision.status}"}`;
    const bytes = format === "json" ? javaUtf8(body) : encodeProvisionDeviceResponse({ status: decision.status }, javaUtf8);
    return { outcome: "response", status: decision.status, body, format, bytes };
  }
  const { device, credentials } = decision;
  // The value sent: the token for ACCESS_TOKEN, else the stored value (the MQTT_BASIC JSON, the X509 body).
  const rawValue = credentials.credentialsType === "ACCESS_TOKEN" ? credentials.credentialsId : (credentials.credentialsValue ?? "");
  const jsonValue =
    credentials.credentialsType === "MQTT_BASIC" ? gsonStringify(JSON.parse(rawValue) as JsonValue) : gsonQuote(rawValue);
  const body = `{"credentialsValue":${jsonValue},"credentialsType":"${credentials.credentialsType}","status":"SUCCESS"}`;
  const bytes =
    format === "json"
      ? javaUtf8(body)
      : encodeProvisionDeviceResponse(
          { status: "SUCCESS", credentialsType: credentials.credentialsType, credentialsValue: rawValue },
          javaUtf8,
        );
  const provisioned = { id: device.id, name: device.name };
  return { outcome: "response", status: "SUCCESS", body, format, bytes, device: provisioned, credentialsType: credentials.credentialsType };
}
