/**
 * Device profiles: `POST /api/deviceProfile`, `GET /api/deviceProfile/{id}`, `GET /api/deviceProfiles`.
 * Creation reads ThingsBoard's own request shape: provisionType and provisionDeviceKey at the top level, the secret
 * in `profileData.provisionConfiguration.provisionDeviceSecret`.
 */
import { isProvisionType, type ProvisionType } from "./model.js";
import { checkUuid, objectBody, storeCall, idOf, type ApiContext, type Obj } from "./http-context.js";
import { renderProfile } from "./http-render.js";
import { pageOf, readPageRequest } from "./http-paging.js";
import { badRequest, jsonReply, notFound } from "./http-reply.js";
import type { Router } from "./http-router.js";

export function addProfileRoutes(router: Router, ctx: ApiContext): void {
  router.post("/api/deviceProfile", async (r) => jsonReply(renderProfile(createProfile(ctx, objectBody(await r.jsonBody())))));

  router.get("/api/deviceProfile/:id", (r) => {
    const profile = ctx.store.getProfile(checkUuid(r.params.id!));
    if (!profile) throw notFound(`Device profile with id [${r.params.id}] is not found`);
    return jsonReply(renderProfile(profile));
  });

  router.get("/api/deviceProfiles", (r) => {
    const page = pageOf(ctx.store.listProfiles(), readPageRequest(r.query));
    return jsonReply({ ...page, data: page.data.map(renderProfile) });
  });
}

function createProfile(ctx: ApiContext, body: Obj) {
  const existingId = idOf(body.id);
  if (existingId !== undefined) {
    // The store has no profile update; saying so beats silently creating a second profile.
    throw badRequest("The emulator cannot update device profiles; create a new one instead");
  }
  if (typeof body.name !== "string" || body.name.trim() === "") throw badRequest("Device profile name should be specified!");
  const provisionConfiguration = nested(body, "profileData", "provisionConfiguration");
  const provisionType = readProvisionType(body.provisionType ?? provisionConfiguration?.type);
  const key = optionalString(body.provisionDeviceKey, "provisionDeviceKey");
  const secret = optionalString(provisionConfiguration?.provisionDeviceSecret, "provisionDeviceSecret");
  const description = optionalString(body.description, "description");
  return storeCall(() =>
    ctx.store.createProfile({
      name: body.name as string,
      provisionType,
      provisionDeviceKey: key ?? null,
      provisionDeviceSecret: secret ?? null,
      description: description ?? null,
    }),
  );
}

function readProvisionType(v: unknown): ProvisionType {
  if (v === undefined || v === null) return "DISABLED"; // ThingsBoard's default for a profile without one
  if (!isProvisionType(v)) throw badRequest(`Invalid provisionType: ${String(v)}`);
  return v;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`Invalid ${field}: expected a string`);
  return v;
}

function nested(o: Obj, ...path: string[]): Obj | undefined {
  let cur: unknown = o;
  for (const k of path) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Obj)[k];
  }
  return typeof cur === "object" && cur !== null && !Array.isArray(cur) ? (cur as Obj) : undefined;
}
