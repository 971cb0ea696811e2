/**
 * ThingsBoard's TelemetryController subset for devices: attributes read/write/delete per scope, latest and range
 * timeseries, key lists, and telemetry writes. Its own errors are plain text, like ThingsBoard's (a DeferredResult
 * holding a bare string); bad ids and malformed attribute bodies are rejected earlier with the JSON error body.
 * Checks run in ThingsBoard's order: id, then request validation, then the device lookup.
 */
import { isAttributeScope, type AttributeScope, type KvValue, type TsPoint } from "./model.js";
import { checkUuid, requireDevicePlain, type ApiContext } from "./http-context.js";
import { badRequest, emptyReply, jsonReply, textError } from "./http-reply.js";
import { valueAsString } from "./http-values.js";
import type { RequestContext, Router } from "./http-router.js";

const BASE = "/api/plugins/telemetry/:entityType/:entityId";
const DEVICE_BASE = "/api/plugins/telemetry/:entityId"; // ThingsBoard's device-only variants
const DEFAULT_RANGE_LIMIT = 100;
/** AttributeScope.values() order, which ThingsBoard follows when reading every scope. */
const ALL_SCOPES: readonly AttributeScope[] = ["CLIENT_SCOPE", "SERVER_SCOPE", "SHARED_SCOPE"];

export function addTelemetryRoutes(router: Router, ctx: ApiContext): void {
  router.get(`${BASE}/values/attributes`, (r) => jsonReply(readAttributes(ctx, r, ALL_SCOPES)));
  router.get(`${BASE}/values/attributes/:scope`, (r) => jsonReply(readAttributes(ctx, r, [readScope(r)])));
  router.get(`${BASE}/keys/attributes`, (r) => jsonReply(attributeKeys(ctx, r, ALL_SCOPES)));
  router.get(`${BASE}/keys/attributes/:scope`, (r) => jsonReply(attributeKeys(ctx, r, [readScope(r)])));

  const save = (r: RequestContext) => saveAttributes(ctx, r);
  router.post(`${BASE}/attributes/:scope`, save);
  router.post(`${BASE}/:scope`, save);
  router.post(`${DEVICE_BASE}/:scope`, save);

  const remove = (r: RequestContext) => deleteAttributes(ctx, r);
  router.delete(`${BASE}/:scope`, remove);
  router.delete(`${DEVICE_BASE}/:scope`, remove);

  router.get(`${BASE}/values/timeseries`, (r) => jsonReply(readTimeseries(ctx, r)));
  router.get(`${BASE}/keys/timeseries`, (r) => {
    const id = entityId(r);
    return jsonReply(ctx.store.timeseriesKeys(requireDevicePlain(ctx, id).id.id));
  });
  router.post(`${BASE}/timeseries/:scope`, (r) => saveTelemetry(ctx, r));
}

/** The path's entity: only devices exist in the emulator; a malformed id is a JSON 400. */
function entityId(r: RequestContext): string {
  const type = r.params.entityType ?? "DEVICE";
  if (type !== "DEVICE") throw badRequest(`The emulator only has DEVICE entities, not ${type}`);
  return checkUuid(r.params.entityId!);
}

function device(ctx: ApiContext, r: RequestContext): string {
  return requireDevicePlain(ctx, entityId(r)).id.id;
}

/** The scope is an enum path variable: an unknown name fails conversion (400) before the controller runs. */
function readScope(r: RequestContext): AttributeScope {
  const scope = r.params.scope!;
  if (!isAttributeScope(scope)) throw badRequest(`Invalid attribute scope: ${scope}`);
  return scope;
}

/** ThingsBoard's toKeysList: empty or absent → undefined (all keys); else Java's split(","), no trimming. */
function keysList(text: string | null): string[] | undefined {
  if (text === null || text === "") return undefined;
  const parts = text.split(",");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop(); // Java drops trailing empty strings
  return parts;
}

async function saveAttributes(ctx: ApiContext, r: RequestContext) {
  const id = entityId(r);
  const scope = readScope(r);
  const body = await r.jsonBody();
  if (scope !== "SERVER_SCOPE" && scope !== "SHARED_SCOPE") throw textError(`Invalid scope: ${scope}`, 400);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw textError("Request is not a JSON object", 400);
  // extractRequestAttributes silently skips JSON null values.
  const values = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) as Record<string, KvValue>;
  if (Object.keys(values).length === 0) throw textError("No attributes data found in request body!", 400);
  if (Object.keys(values).some((k) => k.trim() === "")) throw textError("Key cannot be empty or contains only spaces", 400);
  const deviceId = requireDevicePlain(ctx, id).id.id;
  ctx.store.setAttributes(deviceId, scope, values, ctx.now());
  // Devices subscribed to v1/devices/me/attributes get shared-attribute changes pushed.
  if (scope === "SHARED_SCOPE") ctx.sessions.pushSharedAttributes(deviceId, values);
  return emptyReply();
}

function deleteAttributes(ctx: ApiContext, r: RequestContext) {
  const id = entityId(r);
  const scope = readScope(r);
  const keysText = r.query.get("keys");
  if (keysText === null) throw badRequest("Required request parameter 'keys' for method parameter type String is not present");
  const keys = keysList(keysText) ?? [];
  if (keys.length === 0) throw textError(`Empty keys: ${keysText}`, 400);
  const deviceId = requireDevicePlain(ctx, id).id.id;
  ctx.store.deleteAttributes(deviceId, scope, keys);
  if (scope === "SHARED_SCOPE") ctx.sessions.pushSharedAttributes(deviceId, { deleted: keys });
  return emptyReply();
}

function readAttributes(ctx: ApiContext, r: RequestContext, scopes: readonly AttributeScope[]) {
  const deviceId = device(ctx, r);
  const keys = keysList(r.query.get("keys"));
  return scopes.flatMap((scope) => ctx.store.getAttributes(deviceId, scope, keys));
}

/** Keys of each scope in turn; a key present in two scopes is listed twice, as ThingsBoard does. */
function attributeKeys(ctx: ApiContext, r: RequestContext, scopes: readonly AttributeScope[]): string[] {
  const deviceId = device(ctx, r);
  return scopes.flatMap((scope) => ctx.store.getAttributes(deviceId, scope).map((kv) => kv.key));
}

/**
 * With keys, startTs and endTs: a range query (limit default 100, newest first, agg NONE only). Otherwise the
 * latest value per key; a requested key without data comes back as `{"ts":<now>,"value":null}`, as ThingsBoard's
 * latest DAO answers it.
 */
function readTimeseries(ctx: ApiContext, r: RequestContext): Record<string, { ts: number; value: unknown }[]> {
  const id = entityId(r);
  const strict = r.query.get("useStrictDataTypes") === "true";
  const render = (p: TsPoint) => ({ ts: p.ts, value: strict ? p.value : valueAsString(p.value) });
  const keys = keysList(r.query.get("keys"));
  const out: Record<string, { ts: number; value: unknown }[]> = {};
  if (r.query.has("keys") && r.query.has("startTs") && r.query.has("endTs")) {
    const startTs = longParam(r, "startTs");
    const endTs = longParam(r, "endTs");
    const limit = r.query.has("limit") ? longParam(r, "limit") : DEFAULT_RANGE_LIMIT;
    const agg = r.query.get("agg") ?? "NONE";
    // interval defaults to 0, which ThingsBoard treats as no aggregation whatever agg says.
    if (agg !== "NONE" && (r.query.get("interval") ?? "0") !== "0") {
      throw textError(`The emulator does not aggregate (agg=${agg}); use agg=NONE`, 400);
    }
    const order = r.query.get("orderBy") === "ASC" ? "ASC" : "DESC";
    const deviceId = requireDevicePlain(ctx, id).id.id;
    for (const key of keys ?? []) {
      const points = ctx.store.queryTimeseries(deviceId, key, { startTs, endTs, limit, order });
      if (points.length > 0) out[key] = points.map(render);
    }
    return out;
  }
  const deviceId = requireDevicePlain(ctx, id).id.id;
  const latest = ctx.store.latestTimeseries(deviceId, keys);
  if (keys === undefined) {
    for (const [key, p] of Object.entries(latest)) out[key] = [render(p)];
    return out;
  }
  for (const key of keys) {
    const p = latest[key];
    out[key] = [p ? render(p) : { ts: ctx.now(), value: null }];
  }
  return out;
}

function longParam(r: RequestContext, name: string): number {
  const text = r.query.get(name) ?? "";
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw badRequest(`Failed to convert value of type 'java.lang.String' to required type 'long'; For input string: "${text}"`);
  }
  return n;
}

/** saveEntityTelemetry: ThingsBoard parses the body itself, so even malformed JSON gets a plain-text answer. */
async function saveTelemetry(ctx: ApiContext, r: RequestContext) {
  const id = entityId(r);
  let json: unknown;
  try {
    json = JSON.parse((await r.rawBody()).toString("utf8"));
  } catch {
    throw textError("Unable to parse time series payload: Invalid JSON body!", 400);
  }
  let records: { ts: number; values: Record<string, KvValue> }[];
  try {
    records = telemetryRecords(json, ctx.now());
  } catch (e) {
    if (e instanceof TelemetryFormatError) throw textError(`Unable to parse time series payload. Invalid JSON body: ${e.message}`, 400);
    throw e;
  }
  if (records.every((rec) => Object.keys(rec.values).length === 0)) throw textError("No time series data found in request body!", 400);
  const deviceId = requireDevicePlain(ctx, id).id.id;
  for (const rec of records) ctx.store.appendTimeseries(deviceId, rec.ts, rec.values);
  return emptyReply();
}

class TelemetryFormatError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JsonConverter.convertToTelemetry: `{"k":v}`, `{"ts":…,"values":{…}}`, or an array of those; nulls skipped. */
function telemetryRecords(json: unknown, now: number): { ts: number; values: Record<string, KvValue> }[] {
  const items = Array.isArray(json) ? json : [json];
  return items.map((item) => {
    if (!isObject(item)) throw new TelemetryFormatError(`Can't parse value: ${JSON.stringify(item)}`);
    if ("ts" in item && "values" in item) {
      if (typeof item.ts !== "number" || !isObject(item.values)) throw new TelemetryFormatError("Can't parse ts/values");
      return { ts: Math.trunc(item.ts), values: withoutNulls(item.values) };
    }
    return { ts: now, values: withoutNulls(item) };
  });
}

function withoutNulls(o: Record<string, unknown>): Record<string, KvValue> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as Record<string, KvValue>;
}
