/**
 * Devices and their credentials: create (with a chosen token, or with full credentials), read, find by name,
 * list, update, delete; `GET /api/device/{id}/credentials` and `POST /api/device/credentials`.
 * The credentials endpoints return secrets, as ThingsBoard's do: that is the API tools rely on.
 */
import {
  accessTokenCredentials,
  mqttBasicCredentials,
  parseBasicMqttValue,
  x509Credentials,
  type CredentialsSpec,
} from "./credentials.js";
import { isCredentialsType, type Device, type DeviceAdditionalInfo } from "./model.js";
import { checkUuid, idOf, objectBody, requireDevice, storeCall, type ApiContext, type Obj } from "./http-context.js";
import { renderCredentials, renderDevice } from "./http-render.js";
import { pageOf, readPageRequest } from "./http-paging.js";
import { badRequest, emptyReply, jsonReply, notFound } from "./http-reply.js";
import type { Router } from "./http-router.js";

export function addDeviceRoutes(router: Router, ctx: ApiContext): void {
  router.post("/api/device", async (r) => {
    const body = objectBody(await r.jsonBody());
    const token = r.query.get("accessToken");
    const credentials = token === null ? undefined : storeCall(() => accessTokenCredentials(token));
    // ThingsBoard uses accessToken only when creating; an update keeps the device's credentials.
    return jsonReply(renderDevice(saveDevice(ctx, body, credentials, { credentialsOnUpdate: false })));
  });

  router.post("/api/device-with-credentials", async (r) => {
    const body = objectBody(await r.jsonBody());
    const device = objectBody(body.device ?? null);
    const credentials = credentialsFromRest(objectBody(body.credentials ?? null));
    return jsonReply(renderDevice(saveDevice(ctx, device, credentials, { credentialsOnUpdate: true })));
  });

  router.get("/api/device/:id", (r) => jsonReply(renderDevice(requireDevice(ctx, r.params.id!))));

  router.delete("/api/device/:id", (r) => {
    const device = requireDevice(ctx, r.params.id!);
    ctx.store.deleteDevice(device.id.id);
    return emptyReply();
  });

  router.get("/api/tenant/devices", (r) => {
    const name = r.query.get("deviceName");
    if (name !== null) {
      const device = ctx.store.findDeviceByName(name);
      if (!device) throw notFound("Requested item wasn't found!"); // BaseController.checkNotNull's default text
      return jsonReply(renderDevice(device));
    }
    const type = r.query.get("type") || undefined;
    const devices = ctx.store.listDevices().filter((d) => type === undefined || d.type === type);
    const page = pageOf(devices, readPageRequest(r.query));
    return jsonReply({ ...page, data: page.data.map(renderDevice) });
  });

  router.get("/api/device/:id/credentials", (r) => {
    const device = requireDevice(ctx, r.params.id!);
    return jsonReply(renderCredentials(ctx.store.getCredentialsByDeviceId(device.id.id)!));
  });

  router.post("/api/device/credentials", async (r) => {
    const body = objectBody(await r.jsonBody());
    const deviceId = idOf(body.deviceId);
    if (deviceId === undefined) throw badRequest("Device credentials should be assigned to device!");
    const device = requireDevice(ctx, deviceId);
    const current = ctx.store.getCredentialsByDeviceId(device.id.id)!;
    // ThingsBoard updates an existing record only; the id must be the one the device holds.
    if (idOf(body.id) !== current.id.id) throw badRequest("Unable to update non-existent device credentials!");
    const spec = credentialsFromRest(body);
    return jsonReply(renderCredentials(storeCall(() => ctx.store.updateCredentials(device.id.id, spec))));
  });
}

/**
 * A body with the id of an existing device replaces its fields (label and additionalInfo included, as a full
 * entity save does); otherwise a device is created.
 */
function saveDevice(
  ctx: ApiContext,
  body: Obj,
  credentials: CredentialsSpec | undefined,
  options: { credentialsOnUpdate: boolean },
): Device {
  const name = body.name;
  if (typeof name !== "string" || name.trim() === "") throw badRequest("Device name should be specified!");
  const label = typeof body.label === "string" ? body.label : null;
  const additionalInfo = readAdditionalInfo(body.additionalInfo);
  const existingId = idOf(body.id);
  if (existingId !== undefined) {
    const current = requireDevice(ctx, existingId);
    const profileId = profileIdFor(ctx, body, current.deviceProfileId.id);
    const holder = credentials && options.credentialsOnUpdate ? ctx.store.findByCredentialsId(credentials.credentialsId) : undefined;
    // Checked first so a refused update changes nothing.
    if (holder && holder.device.id.id !== current.id.id) throw badRequest("Specified credentials are already registered!");
    const device = storeCall(() => ctx.store.updateDevice(current.id.id, { name, label, additionalInfo, deviceProfileId: profileId }));
    if (credentials && options.credentialsOnUpdate) storeCall(() => ctx.store.updateCredentials(device.id.id, credentials));
    return device;
  }
  const deviceProfileId = profileIdFor(ctx, body, undefined);
  return storeCall(
    () =>
      ctx.store.createDevice({
        name,
        label,
        additionalInfo,
        ...(deviceProfileId !== undefined ? { deviceProfileId } : {}),
        ...(credentials ? { credentials } : {}),
      }).device,
  );
}

/**
 * deviceProfileId wins; else `type` names a profile, which ThingsBoard creates when missing
 * (DeviceProfileService.findOrCreateDeviceProfile); else the fallback (default profile, or the current one).
 */
export function profileIdFor(ctx: ApiContext, body: Obj, fallback: string | undefined): string | undefined {
  const byId = idOf(body.deviceProfileId);
  if (byId !== undefined) {
    const profile = ctx.store.getProfile(checkUuid(byId));
    if (!profile) throw badRequest("Device is referencing non existing device profile!");
    return profile.id.id;
  }
  if (typeof body.type === "string" && body.type.trim() !== "") return findOrCreateProfile(ctx, body.type);
  return fallback;
}

export function findOrCreateProfile(ctx: ApiContext, name: string): string {
  const existing = ctx.store.findProfileByName(name);
  if (existing) return existing.id.id;
  return storeCall(() => ctx.store.createProfile({ name, provisionType: "DISABLED" })).id.id;
}

function readAdditionalInfo(v: unknown): DeviceAdditionalInfo | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) throw badRequest("Invalid additionalInfo: expected an object");
  return v as DeviceAdditionalInfo;
}

/** A DeviceCredentials body (`credentialsType`, `credentialsId`, `credentialsValue`) → what the store stores. */
export function credentialsFromRest(body: Obj): CredentialsSpec {
  const type = body.credentialsType;
  if (type === undefined || type === null) throw badRequest("Device credentials type should be specified!");
  if (!isCredentialsType(type)) throw badRequest(`Unsupported credentials type: ${String(type)}`);
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  switch (type) {
    case "ACCESS_TOKEN":
      return storeCall(() => accessTokenCredentials(text(body.credentialsId)));
    case "MQTT_BASIC": {
      // The value is a JSON *string* holding {"clientId","userName","password"}.
      const basic = parseBasicMqttValue(typeof body.credentialsValue === "string" ? body.credentialsValue : null);
      if (!basic) throw badRequest("Invalid credentials body for simple mqtt credentials!");
      return storeCall(() => mqttBasicCredentials(basic));
    }
    case "X509_CERTIFICATE": {
      const pem = text(body.credentialsValue);
      if (pem === "") throw badRequest("Device credentials value should be specified!");
      return x509Credentials(pem);
    }
  }
}
