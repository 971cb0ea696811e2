/**
 * The store's objects rendered as ThingsBoard's REST API serialises them (Jackson, field order of the Java
 * classes), including the fields the emulator does not model, which ThingsBoard sends as null or defaults.
 */
import type { Device, DeviceCredentials, DeviceProfile } from "./model.js";

/** ThingsBoard's CustomerId for "no customer" (EntityId.NULL_UUID). */
const NULL_CUSTOMER = { entityType: "CUSTOMER", id: "13814000-1dd2-11b2-8080-808080808080" } as const;

export function renderDevice(d: Device): Record<string, unknown> {
  return {
    id: d.id,
    createdTime: d.createdTime,
    tenantId: d.tenantId,
    customerId: NULL_CUSTOMER,
    name: d.name,
    type: d.type,
    label: d.label,
    deviceProfileId: d.deviceProfileId,
    deviceData: { configuration: { type: "DEFAULT" }, transportConfiguration: { type: "DEFAULT" } },
    firmwareId: null,
    softwareId: null,
    externalId: null,
    additionalInfo: d.additionalInfo,
  };
}

/**
 * The provision key sits at the top level and the secret inside `profileData.provisionConfiguration`, whose
 * `type` repeats provisionType (ThingsBoard keeps both in step; DISABLED has null key and secret).
 */
export function renderProfile(p: DeviceProfile): Record<string, unknown> {
  return {
    id: p.id,
    createdTime: p.createdTime,
    tenantId: p.tenantId,
    name: p.name,
    description: p.description,
    image: null,
    type: "DEFAULT",
    transportType: "DEFAULT",
    provisionType: p.provisionType,
    defaultRuleChainId: null,
    defaultDashboardId: null,
    defaultQueueName: null,
    profileData: {
      configuration: { type: "DEFAULT" },
      transportConfiguration: { type: "DEFAULT" },
      provisionConfiguration: { type: p.provisionType, provisionDeviceSecret: p.provisionDeviceSecret },
      alarms: null,
    },
    provisionDeviceKey: p.provisionDeviceKey,
    firmwareId: null,
    softwareId: null,
    defaultEdgeRuleChainId: null,
    externalId: null,
    default: p.default,
  };
}

export function renderCredentials(c: DeviceCredentials): Record<string, unknown> {
  return {
    id: c.id,
    createdTime: c.createdTime,
    deviceId: c.deviceId,
    credentialsType: c.credentialsType,
    credentialsId: c.credentialsId,
    credentialsValue: c.credentialsValue,
  };
}
