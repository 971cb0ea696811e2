/**
 * `POST /api/v1/provision`, the HTTP transport's device provisioning. Same decisions and bodies as over MQTT
 * (provision.ts); HTTP 200 for SUCCESS, NOT_FOUND and FAILURE alike. A body that is no provision request at all
 * (not a JSON object, key or secret missing, a null field) gets ThingsBoard's JSON 400.
 */
import { handleProvisionRequest } from "./provision.js";
import type { ApiContext } from "./http-context.js";
import { badRequest, rawJsonReply } from "./http-reply.js";
import type { Router } from "./http-router.js";

export function addProvisionRoutes(router: Router, ctx: ApiContext): void {
  router.post("/api/v1/provision", async (r) => {
    const payload = await r.rawBody();
    // HTTP reads JSON only: no protobuf fallback.
    const result = handleProvisionRequest(ctx.store, payload, { reprovision: ctx.reprovision, now: ctx.now, protobufFallback: false });
    if (result.outcome === "malformed") throw badRequest(`Invalid provision request: ${result.reason}`);
    ctx.emit({
      type: "provisioned",
      deviceName: result.device?.name ?? requestedName(payload),
      status: result.status,
      ...(result.status === "SUCCESS" ? { credentialsType: credentialsTypeOf(result.body) } : {}),
    });
    return rawJsonReply(result.body);
  });
}

/** The name the device asked for, for the event log of a refused request. */
function requestedName(payload: Buffer): string {
  try {
    const parsed = JSON.parse(payload.toString("utf8")) as { deviceName?: unknown };
    return typeof parsed.deviceName === "string" ? parsed.deviceName : "";
  } catch {
    return "";
  }
}

/** Reads the type back from the body we just built (never the value: it is a secret). */
function credentialsTypeOf(body: string): string {
  const parsed = JSON.parse(body) as { credentialsType?: string };
  return parsed.credentialsType ?? "";
}
