/**
 * The device-facing parts of the REST layer over real HTTP (Node's fetch only): provisioning on
 * `POST /api/v1/provision` with the exact response strings, attributes and timeseries as ThingsBoard renders them,
 * shared-attribute pushes and server-side RPC through a fake DeviceSessions.
 */
import { createHash } from "node:crypto";
import { EmulatorStore } from "../../tools/emulator/store.js";
import { seedStore } from "../../tools/emulator/seed.js";
import { startHttpApi, type HttpApi } from "../../tools/emulator/http-server.js";
import { RpcDeliveryError, type DeviceSessions, type EmulatorEvent, type RpcRequest } from "../../tools/emulator/sessions.js";

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';

type RpcCall = { deviceId: string; request: RpcRequest; options: { oneway: boolean; timeoutMs: number } };

/** Stands in for the MQTT layer: scripted RPC outcomes, recorded pushes. */
class FakeSessions implements DeviceSessions {
  readonly connected = new Set<string>();
  readonly pushes: { deviceId: string; update: Record<string, unknown> }[] = [];
  readonly rpcCalls: RpcCall[] = [];
  rpcOutcome: (call: RpcCall) => Promise<unknown> = () => Promise.resolve(undefined);

  isConnected(deviceId: string): boolean {
    return this.connected.has(deviceId);
  }
  pushSharedAttributes(deviceId: string, update: Record<string, unknown>): void {
    this.pushes.push({ deviceId, update });
  }
  sendRpc(deviceId: string, request: RpcRequest, options: { oneway: boolean; timeoutMs: number }): Promise<unknown> {
    const call = { deviceId, request, options };
    this.rpcCalls.push(call);
    return this.rpcOutcome(call);
  }
}

let api: HttpApi;
let base: string;
let store: EmulatorStore;
let sessions: FakeSessions;
let events: EmulatorEvent[];
let token: string;
const clock = 1_760_000_000_000;

async function post(path: string, body: string, auth = true): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(auth ? { "X-Authorization": `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

async function get(path: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(base + path, { headers: { "X-Authorization": `Bearer ${token}` } });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

async function del(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(base + path, { method: "DELETE", headers: { "X-Authorization": `Bearer ${token}` } });
  return { status: res.status, text: await res.text() };
}

const provision = (body: object | string) => post("/api/v1/provision", typeof body === "string" ? body : JSON.stringify(body), false);
const idOf = (name: string) => store.findDeviceByName(name)!.id.id;

beforeEach(async () => {
  store = new EmulatorStore({ now: () => clock });
  seedStore(store, {
    profiles: [
      { name: "allow", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "allowKey", provisionDeviceSecret: "allowSecret" },
      { name: "pre", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", provisionDeviceKey: "preKey", provisionDeviceSecret: "preSecret" },
    ],
    devices: [
      { name: "pre-1", profile: "pre", credentials: { type: "ACCESS_TOKEN", token: "PRE_TOKEN" } },
      { name: "sensor", credentials: { type: "ACCESS_TOKEN", token: "SENSOR_TOKEN" } },
    ],
  });
  sessions = new FakeSessions();
  events = [];
  api = await startHttpApi({
    store,
    sessions,
    port: 0,
    reprovision: "strict",
    now: () => clock,
    onEvent: (e) => events.push(e),
  });
  base = `http://127.0.0.1:${api.port}`;
  const login = await post("/api/auth/login", JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }), false);
  token = (JSON.parse(login.text) as { token: string }).token;
});
afterEach(async () => {
  await api.close();
});

describe("POST /api/v1/provision", () => {
  const allow = { provisionDeviceKey: "allowKey", provisionDeviceSecret: "allowSecret" };

  it("SUCCESS with a device-chosen token, exact body, HTTP 200, then FAILURE for the same name", async () => {
    const r = await provision({ deviceName: "new-1", ...allow, credentialsType: "ACCESS_TOKEN", token: "MY_TOKEN" });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"credentialsValue":"MY_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    expect(r.type).toMatch(/^application\/json/);
    const again = await provision({ deviceName: "new-1", ...allow });
    expect(again.status).toBe(200);
    expect(again.text).toBe(FAILURE);
    expect(events).toEqual([
      { type: "provisioned", deviceName: "new-1", status: "SUCCESS", credentialsType: "ACCESS_TOKEN" },
      { type: "provisioned", deviceName: "new-1", status: "FAILURE" },
    ]);
  });

  it("SUCCESS with a server-generated token; the device, its type and provisionState are readable over REST", async () => {
    const r = await provision({ deviceName: "new-2", ...allow });
    const body = JSON.parse(r.text) as { credentialsValue: string };
    expect(r.text).toBe(`{"credentialsValue":"${body.credentialsValue}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`);
    expect(body.credentialsValue).toMatch(/^[A-Za-z0-9]{20}$/);
    const device = JSON.parse((await get("/api/tenant/devices?deviceName=new-2")).text) as { type: string; id: { id: string } };
    expect(device.type).toBe("allow");
    const state = await get(`/api/plugins/telemetry/DEVICE/${device.id.id}/values/attributes/SERVER_SCOPE?keys=provisionState`);
    expect(JSON.parse(state.text)).toEqual([{ lastUpdateTs: clock, key: "provisionState", value: "provisioned" }]);
  });

  it("MQTT_BASIC answers userName in an object value", async () => {
    const r = await provision({ deviceName: "b", ...allow, credentialsType: "MQTT_BASIC", clientId: "c", username: "u", password: "p" });
    expect(r.text).toBe('{"credentialsValue":{"clientId":"c","userName":"u","password":"p"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}');
    const sha3 = createHash("sha3-256").update("c|u").digest("hex");
    expect(store.findByCredentialsId(sha3)?.device.name).toBe("b");
  });

  it("X509 answers the stripped certificate body", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBfz\nAQAB\n-----END CERTIFICATE-----\n";
    const r = await provision({ deviceName: "x", ...allow, credentialsType: "X509_CERTIFICATE", hash: pem });
    expect(r.text).toBe('{"credentialsValue":"MIIBfzAQAB","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}');
  });

  it("NOT_FOUND and FAILURE are HTTP 200 with ThingsBoard's bodies", async () => {
    const badKey = await provision({ deviceName: "n", provisionDeviceKey: "nope", provisionDeviceSecret: "allowSecret" });
    expect([badKey.status, badKey.text]).toEqual([200, NOT_FOUND]);
    const badSecret = await provision({ deviceName: "n", provisionDeviceKey: "allowKey", provisionDeviceSecret: "wrong" });
    expect([badSecret.status, badSecret.text]).toEqual([200, NOT_FOUND]);
    const blank = await provision({ deviceName: "   ", ...allow });
    expect([blank.status, blank.text]).toEqual([200, FAILURE]);
  });

  it("CHECK_PRE_PROVISIONED: existing credentials once, FAILURE on the second request (strict)", async () => {
    const pre = { deviceName: "pre-1", provisionDeviceKey: "preKey", provisionDeviceSecret: "preSecret", token: "IGNORED" };
    expect((await provision(pre)).text).toBe('{"credentialsValue":"PRE_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    expect((await provision(pre)).text).toBe(FAILURE);
    // Deleting provisionState over REST re-opens provisioning.
    const reopened = await del(`/api/plugins/telemetry/DEVICE/${idOf("pre-1")}/SERVER_SCOPE?keys=provisionState`);
    expect(reopened.status).toBe(200);
    expect((await provision(pre)).text).toBe('{"credentialsValue":"PRE_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
  });

  it("malformed requests are JSON 400 errorCode 31 (no protobuf fallback over HTTP); the server keeps serving", async () => {
    for (const bad of [
      JSON.stringify({ deviceName: "m", provisionDeviceKey: "allowKey" }),
      JSON.stringify({ deviceName: "m", ...allow, credentialsType: "PASSWORD" }),
      JSON.stringify({ deviceName: null, ...allow }),
      "not json at all",
      "[1,2]",
      "",
    ]) {
      const r = await provision(bad);
      expect(r.status).toBe(400);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(["status", "message", "errorCode", "timestamp"]);
      expect(body).toMatchObject({ status: 400, errorCode: 31, timestamp: clock });
      expect(String(body.message)).not.toContain("allowSecret");
    }
    expect(store.findDeviceByName("m")).toBeUndefined();
    expect((await provision({ deviceName: "after", ...allow })).text).toContain('"status":"SUCCESS"');
  });
});

describe("attributes", () => {
  const attrs = (scope: string, query = "") => `/api/plugins/telemetry/DEVICE/${idOf("sensor")}/values/attributes/${scope}${query}`;

  it("writes per scope keep native types; SHARED_SCOPE is pushed to the device", async () => {
    const server = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SERVER_SCOPE`, '{"mac":"AA","n":3,"ok":true,"o":{"a":1}}');
    expect([server.status, server.text]).toEqual([200, ""]);
    const shared = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SHARED_SCOPE`, '{"interval":2.5}');
    expect(shared.status).toBe(200);
    expect(sessions.pushes).toEqual([{ deviceId: idOf("sensor"), update: { interval: 2.5 } }]);
    const read = JSON.parse((await get(attrs("SERVER_SCOPE", "?keys=n,ok,o,missing"))).text);
    expect(read).toEqual([
      { lastUpdateTs: clock, key: "n", value: 3 },
      { lastUpdateTs: clock, key: "ok", value: true },
      { lastUpdateTs: clock, key: "o", value: { a: 1 } },
    ]);
    expect(JSON.parse((await get(attrs("SHARED_SCOPE"))).text)).toEqual([{ lastUpdateTs: clock, key: "interval", value: 2.5 }]);
    const keys = JSON.parse((await get(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/keys/attributes/SERVER_SCOPE`)).text);
    expect(keys).toEqual(["mac", "n", "ok", "o"]);
  });

  it("null values are skipped; the device-only paths work; all-scope reads go CLIENT, SERVER, SHARED", async () => {
    const id = idOf("sensor");
    expect((await post(`/api/plugins/telemetry/${id}/SERVER_SCOPE`, '{"x":1,"gone":null}')).status).toBe(200);
    store.setAttributes(id, "CLIENT_SCOPE", { x: "client" }, 5);
    const all = JSON.parse((await get(`/api/plugins/telemetry/DEVICE/${id}/values/attributes?keys=x,gone`)).text);
    expect(all).toEqual([
      { lastUpdateTs: 5, key: "x", value: "client" },
      { lastUpdateTs: clock, key: "x", value: 1 },
    ]);
    expect(JSON.parse((await get(`/api/plugins/telemetry/DEVICE/${id}/keys/attributes`)).text)).toEqual(["x", "x"]);
    expect((await del(`/api/plugins/telemetry/${id}/SERVER_SCOPE?keys=x`)).status).toBe(200);
    expect(store.getAttribute(id, "SERVER_SCOPE", "x")).toBeUndefined();
  });

  it("deleting SHARED_SCOPE keys pushes {deleted:[…]}", async () => {
    await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SHARED_SCOPE`, '{"a":1,"b":2}');
    const r = await del(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/SHARED_SCOPE?keys=a,b`);
    expect(r.status).toBe(200);
    expect(sessions.pushes.at(-1)).toEqual({ deviceId: idOf("sensor"), update: { deleted: ["a", "b"] } });
    expect(JSON.parse((await get(attrs("SHARED_SCOPE"))).text)).toEqual([]);
  });

  it("telemetry-controller errors are plain text", async () => {
    const ghost = "00000000-0000-4000-8000-000000000000";
    const missing = await get(`/api/plugins/telemetry/DEVICE/${ghost}/values/attributes/SERVER_SCOPE`);
    expect([missing.status, missing.text]).toEqual([404, "Device with requested id wasn't found!"]);
    expect(missing.type).toMatch(/^text\/plain/);
    const client = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/CLIENT_SCOPE`, '{"a":1}');
    expect([client.status, client.text]).toEqual([400, "Invalid scope: CLIENT_SCOPE"]);
    // An unknown scope name fails Spring's enum conversion: a JSON 400, not the controller's plain text.
    const scope = await get(attrs("OTHER_SCOPE"));
    expect(scope.status).toBe(400);
    expect(JSON.parse(scope.text)).toMatchObject({ status: 400, errorCode: 31 });
    const nulls = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SERVER_SCOPE`, '{"a":null}');
    expect([nulls.status, nulls.text]).toEqual([400, "No attributes data found in request body!"]);
    const blankKey = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SERVER_SCOPE`, '{" ":1}');
    expect([blankKey.status, blankKey.text]).toEqual([400, "Key cannot be empty or contains only spaces"]);
    const badTelemetry = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/timeseries/ANY`, "{oops");
    expect([badTelemetry.status, badTelemetry.text]).toEqual([400, "Unable to parse time series payload: Invalid JSON body!"]);
    const notObject = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/attributes/SERVER_SCOPE`, "[1]");
    expect([notObject.status, notObject.text]).toEqual([400, "Request is not a JSON object"]);
    const empty = await del(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/SERVER_SCOPE?keys=`);
    expect([empty.status, empty.text]).toEqual([400, "Empty keys: "]);
  });
});

describe("timeseries", () => {
  const ts = (query: string) => get(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/values/timeseries${query}`);

  beforeEach(() => {
    const id = idOf("sensor");
    store.appendTimeseries(id, 1000, { t: 20, h: 40.5, on: false, s: "x" });
    store.appendTimeseries(id, 2000, { t: 25.1, h: 1e-5, on: true, s: "y", j: { a: [1] } });
    store.appendTimeseries(id, 3000, { t: 21 });
  });

  it("latest values are strings by default (Java's number text), native with useStrictDataTypes=true", async () => {
    const loose = JSON.parse((await ts("?keys=t,h,on,s,j")).text);
    expect(loose).toEqual({
      t: [{ ts: 3000, value: "21" }],
      h: [{ ts: 2000, value: "1.0E-5" }],
      on: [{ ts: 2000, value: "true" }],
      s: [{ ts: 2000, value: "y" }],
      j: [{ ts: 2000, value: '{"a":[1]}' }],
    });
    const strict = JSON.parse((await ts("?keys=t,h,on,j&useStrictDataTypes=true")).text);
    expect(strict).toEqual({
      t: [{ ts: 3000, value: 21 }],
      h: [{ ts: 2000, value: 1e-5 }],
      on: [{ ts: 2000, value: true }],
      j: [{ ts: 2000, value: { a: [1] } }],
    });
  });

  it("a requested key without data comes back with value null; no keys → every key", async () => {
    expect(JSON.parse((await ts("?keys=nothing")).text)).toEqual({ nothing: [{ ts: clock, value: null }] });
    expect(Object.keys(JSON.parse((await ts("")).text)).sort()).toEqual(["h", "j", "on", "s", "t"]);
  });

  it("range queries: [startTs, endTs), newest first by default, limit, orderBy=ASC", async () => {
    expect(JSON.parse((await ts("?keys=t&startTs=0&endTs=3000")).text)).toEqual({
      t: [
        { ts: 2000, value: "25.1" },
        { ts: 1000, value: "20" },
      ],
    });
    expect(JSON.parse((await ts("?keys=t,nothing&startTs=0&endTs=10000&limit=2&orderBy=ASC")).text)).toEqual({
      t: [
        { ts: 1000, value: "20" },
        { ts: 2000, value: "25.1" },
      ],
    });
    const bad = await ts("?keys=t&startTs=abc&endTs=1");
    expect(bad.status).toBe(400);
  });

  it("keys list and REST telemetry writes", async () => {
    const write = await post(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/timeseries/ANY`, '{"ts":5000,"values":{"t":30}}');
    expect(write.status).toBe(200);
    expect(JSON.parse((await ts("?keys=t")).text)).toEqual({ t: [{ ts: 5000, value: "30" }] });
    const keys = JSON.parse((await get(`/api/plugins/telemetry/DEVICE/${idOf("sensor")}/keys/timeseries`)).text);
    expect(keys.sort()).toEqual(["h", "j", "on", "s", "t"]);
  });
});

describe("server-side RPC", () => {
  const rpc = (kind: "oneway" | "twoway", body: object) => post(`/api/plugins/rpc/${kind}/${idOf("sensor")}`, JSON.stringify(body));

  it("two-way returns the device's JSON reply; the request reaches the session with its timeout", async () => {
    sessions.rpcOutcome = () => Promise.resolve({ temperature: 21.5 });
    const r = await rpc("twoway", { method: "getTemp", params: { unit: "C" }, timeout: 7500 });
    expect([r.status, r.text]).toEqual([200, '{"temperature":21.5}']);
    expect(sessions.rpcCalls).toEqual([
      { deviceId: idOf("sensor"), request: { method: "getTemp", params: { unit: "C" } }, options: { oneway: false, timeoutMs: 7500 } },
    ]);
    // ThingsBoard raises a timeout below server.rest.server_side_rpc.min_timeout (5 s) to it.
    await rpc("twoway", { method: "getTemp", timeout: 100 });
    expect(sessions.rpcCalls[1]!.options.timeoutMs).toBe(5000);
  });

  it("one-way is 200 with an empty body; the default timeout is 10 s", async () => {
    const r = await rpc("oneway", { method: "reboot" });
    expect([r.status, r.text]).toEqual([200, ""]);
    expect(sessions.rpcCalls[0]!.options).toEqual({ oneway: true, timeoutMs: 10000 });
    expect(sessions.rpcCalls[0]!.request.params).toBeNull();
  });

  it("no answer in time → 408, no active session → 409, unknown device → plain-text 404", async () => {
    sessions.rpcOutcome = () => Promise.reject(new RpcDeliveryError("timeout", "no reply"));
    expect((await rpc("twoway", { method: "m", timeout: 10 })).status).toBe(408);
    sessions.rpcOutcome = () => Promise.reject(new RpcDeliveryError("no-active-session", "offline"));
    expect((await rpc("oneway", { method: "m" })).status).toBe(409);
    const ghost = await post("/api/plugins/rpc/twoway/00000000-0000-4000-8000-000000000000", '{"method":"m"}');
    expect([ghost.status, ghost.text]).toEqual([404, "Device with requested id wasn't found!"]);
  });

  it("a request without method or with bad JSON is 400 'Invalid request body'; a crashing session is a JSON 500, and the server carries on", async () => {
    const noMethod = await rpc("twoway", { params: 1 });
    expect(noMethod.status).toBe(400);
    expect(JSON.parse(noMethod.text)).toMatchObject({ status: 400, message: "Invalid request body", errorCode: 31 });
    const garbage = await post(`/api/plugins/rpc/oneway/${idOf("sensor")}`, "{");
    expect(JSON.parse(garbage.text)).toMatchObject({ status: 400, message: "Invalid request body", errorCode: 31 });
    sessions.rpcOutcome = () => Promise.reject(new Error("boom"));
    const crash = await rpc("twoway", { method: "m" });
    expect(crash.status).toBe(500);
    expect(JSON.parse(crash.text)).toMatchObject({ status: 500, errorCode: 2 });
    sessions.rpcOutcome = () => Promise.resolve("pong");
    expect((await rpc("twoway", { method: "ping" })).text).toBe('"pong"');
  });
});
