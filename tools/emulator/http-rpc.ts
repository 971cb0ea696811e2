/**
 * Server-side RPC: `POST /api/plugins/rpc/oneway/{deviceId}` and `/twoway/{deviceId}` with
 * `{"method","params","timeout"}`, as AbstractRpcController handles it. Delivery is the MQTT layer's job
 * (DeviceSessions.sendRpc); this module maps the outcome to ThingsBoard's answers: 200 (two-way: the device's JSON
 * reply), 408 when the device does not answer in time, 409 when it has no active session, all without a body.
 */
import { RpcDeliveryError } from "./sessions.js";
import { checkUuid, requireDevicePlain, type ApiContext } from "./http-context.js";
import { badRequest, emptyReply, rawJsonReply, type Reply } from "./http-reply.js";
import type { RequestContext, Router } from "./http-router.js";

export interface RpcTimeouts {
  /** `server.rest.server_side_rpc.default_timeout`: used when the request has no `timeout`. */
  defaultMs: number;
  /** `server.rest.server_side_rpc.min_timeout`: a smaller `timeout` is raised to this. */
  minMs: number;
}

export const DEFAULT_RPC_TIMEOUTS: RpcTimeouts = { defaultMs: 10_000, minMs: 5_000 };

export function addRpcRoutes(router: Router, ctx: ApiContext, timeouts: RpcTimeouts): void {
  router.post("/api/plugins/rpc/oneway/:deviceId", (r) => callRpc(ctx, r, true, timeouts));
  router.post("/api/plugins/rpc/twoway/:deviceId", (r) => callRpc(ctx, r, false, timeouts));
}

/** ThingsBoard's one message for any body it cannot read as an RPC request. */
const invalidBody = () => badRequest("Invalid request body");

async function callRpc(ctx: ApiContext, r: RequestContext, oneway: boolean, timeouts: RpcTimeouts): Promise<Reply> {
  const id = checkUuid(r.params.deviceId!);
  let body: unknown;
  try {
    body = JSON.parse((await r.rawBody()).toString("utf8"));
  } catch {
    throw invalidBody();
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalidBody();
  const o = body as Record<string, unknown>;
  if (o.method === undefined || o.method === null) throw invalidBody();
  const method = typeof o.method === "string" ? o.method : JSON.stringify(o.method); // Jackson's asText()
  const requested = o.timeout === undefined ? timeouts.defaultMs : Number(o.timeout);
  if (!Number.isFinite(requested)) throw invalidBody();
  // The request expires at now + max(min_timeout, timeout).
  const timeoutMs = Math.max(timeouts.minMs, Math.trunc(requested));
  const device = requireDevicePlain(ctx, id);
  try {
    const reply = await ctx.sessions.sendRpc(device.id.id, { method, params: o.params ?? null }, { oneway, timeoutMs });
    if (oneway || reply === undefined || reply === "") return emptyReply();
    return rawJsonReply(JSON.stringify(reply));
  } catch (e) {
    if (e instanceof RpcDeliveryError) return emptyReply(e.kind === "timeout" ? 408 : 409);
    throw e;
  }
}
