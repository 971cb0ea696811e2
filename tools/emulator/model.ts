/**
 * The emulator's data model, in ThingsBoard's own shapes (see ../shared/thingsboard-device-api.md §5) so the REST
 * layer can hand these objects out almost as they are.
 *
 * Deliberate simplifications, each invisible on the wire:
 * - one tenant; ids are random v4 UUIDs (ThingsBoard uses time-based ones, which no client may rely on);
 * - a profile's provision secret is kept flat here; the REST layer renders it into
 *   `profileData.provisionConfiguration.provisionDeviceSecret` as ThingsBoard does.
 */

export type EntityType = "DEVICE" | "DEVICE_PROFILE" | "TENANT";

/** ThingsBoard's id object, e.g. `{"entityType":"DEVICE","id":"<uuid>"}`. */
export interface EntityId<T extends EntityType> {
  entityType: T;
  id: string;
}
export type TenantId = EntityId<"TENANT">;
export type DeviceId = EntityId<"DEVICE">;
export type DeviceProfileId = EntityId<"DEVICE_PROFILE">;
/** Device credentials carry an id object without an entity type. */
export interface DeviceCredentialsId {
  id: string;
}

export const PROVISION_TYPES = ["ALLOW_CREATE_NEW_DEVICES", "CHECK_PRE_PROVISIONED_DEVICES", "DISABLED"] as const;
export type ProvisionType = (typeof PROVISION_TYPES)[number];

export interface DeviceProfile {
  id: DeviceProfileId;
  createdTime: number;
  tenantId: TenantId;
  name: string;
  description: string | null;
  /** The tenant's default profile: used when a device is created without a type. */
  default: boolean;
  provisionType: ProvisionType;
  /** Unique across profiles; null when provisioning is DISABLED (as ThingsBoard stores it). */
  provisionDeviceKey: string | null;
  provisionDeviceSecret: string | null;
}

export interface DeviceAdditionalInfo {
  gateway?: boolean;
  description?: string;
  [key: string]: unknown;
}

export interface Device {
  id: DeviceId;
  createdTime: number;
  tenantId: TenantId;
  /** Unique within the tenant (ThingsBoard compares names exactly, case included). */
  name: string;
  /** The profile's name. */
  type: string;
  label: string | null;
  deviceProfileId: DeviceProfileId;
  /** null unless something was set: a provisioned gateway gets `{"gateway":true}`. */
  additionalInfo: DeviceAdditionalInfo | null;
}

/** ThingsBoard also knows LWM2M_CREDENTIALS; the emulator has no LwM2M transport, so a device never holds them. */
export const CREDENTIALS_TYPES = ["ACCESS_TOKEN", "MQTT_BASIC", "X509_CERTIFICATE"] as const;
export type CredentialsType = (typeof CREDENTIALS_TYPES)[number];

export interface DeviceCredentials {
  id: DeviceCredentialsId;
  createdTime: number;
  deviceId: DeviceId;
  credentialsType: CredentialsType;
  /** What a connecting device is looked up by: the token, a SHA3-256 hex, or an MQTT user name. Unique. */
  credentialsId: string;
  /**
   * null for ACCESS_TOKEN; for MQTT_BASIC the JSON text `{"clientId","userName","password"}`;
   * for X509 the certificate's base64 body (PEM armour and line breaks removed).
   */
  credentialsValue: string | null;
}

export const ATTRIBUTE_SCOPES = ["SERVER_SCOPE", "SHARED_SCOPE", "CLIENT_SCOPE"] as const;
export type AttributeScope = (typeof ATTRIBUTE_SCOPES)[number];

/** JSON values as ThingsBoard stores them: string, long/double, boolean, or a JSON object/array. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A stored attribute or telemetry value: never JSON null (ThingsBoard rejects null values). */
export type KvValue = Exclude<JsonValue, null>;

/** Shape of `GET …/values/attributes/{scope}` items. */
export interface AttributeKv {
  lastUpdateTs: number;
  key: string;
  value: KvValue;
}

export interface TsPoint {
  ts: number;
  value: KvValue;
}

/** The server-scope attribute provisioning writes, and the only value it accepts as "done". */
export const PROVISION_STATE_KEY = "provisionState";
export const PROVISIONED_STATE = "provisioned";

/** Type guards, used when reading config and state files. */
export function isProvisionType(v: unknown): v is ProvisionType {
  return typeof v === "string" && (PROVISION_TYPES as readonly string[]).includes(v);
}
export function isCredentialsType(v: unknown): v is CredentialsType {
  return typeof v === "string" && (CREDENTIALS_TYPES as readonly string[]).includes(v);
}
export function isAttributeScope(v: unknown): v is AttributeScope {
  return typeof v === "string" && (ATTRIBUTE_SCOPES as readonly string[]).includes(v);
}
