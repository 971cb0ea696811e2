/**
 * The device side of the emulator's MQTT API, driven by the standard `mqtt` client and raw sockets (never the
 * SDK's own client), with the store used directly to seed and inspect: authentication and CONNACK codes,
 * telemetry in every payload form, attributes, RPC both ways, isolation between devices, activity attributes,
 * and bad input that closes one session while the server keeps serving the others.
 */
import * as net from "node:net";
import type { IClientOptions, MqttClient, Packet } from "mqtt";
import mqttPacket from "mqtt-packet";
import { EmulatorStore } from "../../tools/emulator/store.js";
import { mqttBasicCredentials, x509Credentials } from "../../tools/emulator/credentials.js";
import { startMqttDeviceApi, type MqttDeviceApi } from "../../tools/emulator/mqtt-server.js";
import { RpcDeliveryError, type EmulatorEvent } from "../../tools/emulator/sessions.js";
import { makeTestPki, type TestPki } from "../support/certs.js";
import { openMqtt } from "./support/mqtt-connect.js";

const MAX_PAYLOAD = 1024;

let pki: TestPki;
let store: EmulatorStore;
let api: MqttDeviceApi;
const events: EmulatorEvent[] = [];
const ids: Record<string, string> = {};

function addDevice(name: string, token: string): string {
  const { device } = store.createDevice({ name, credentials: { credentialsType: "ACCESS_TOKEN", credentialsId: token, credentialsValue: null } });
  ids[name] = device.id.id;
  return device.id.id;
}

beforeAll(async () => {
  pki = makeTestPki();
  store = new EmulatorStore();
  for (const n of ["a", "b", "c", "d", "e", "f", "g"]) addDevice(`dev-${n}`, `token-${n}`);
  ids.basic = store.createDevice({ name: "basic", credentials: mqttBasicCredentials({ clientId: "bc", userName: "bu", password: "bp" }) }).device.id.id;
  ids.basicUser = store.createDevice({ name: "basic-user-only", credentials: mqttBasicCredentials({ clientId: "", userName: "only-user", password: "" }) }).device.id.id;
  ids.basicClient = store.createDevice({ name: "basic-client-only", credentials: mqttBasicCredentials({ clientId: "only-client", userName: "", password: "" }) }).device.id.id;
  ids.x509 = store.createDevice({ name: "x509", credentials: x509Credentials(pki.client.cert) }).device.id.id;
  api = await startMqttDeviceApi({
    store,
    port: 0,
    tlsPort: 0,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    reprovision: "strict",
    maxPayloadBytes: MAX_PAYLOAD,
    onEvent: (e) => events.push(e),
    clientRpcHandler: (req) => (req.method === "time" ? { now: 42 } : req.params),
  });
});

afterAll(async () => {
  await api?.close();
});

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

async function connect(options: IClientOptions, protocol = "mqtt", port = api.port): Promise<MqttClient> {
  return openMqtt(`${protocol}://127.0.0.1:${port}`, options, clients);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.disconnected ? resolve() : client.once("close", () => resolve())));
const nextMessage = (client: MqttClient) =>
  new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
    client.once("message", (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos })),
  );

/** A raw TCP connection, for bytes no MQTT client would send. */
function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(api.port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}
const socketClosed = (s: net.Socket, ms = 3000) =>
  Promise.race([new Promise<boolean>((resolve) => s.once("close", () => resolve(true))), sleep(ms).then(() => false)]);

/** Proves the server still works: a fresh device connects and gets a QoS 1 telemetry message stored. */
async function serverStillServes(): Promise<void> {
  const client = await connect({ username: "token-g" });
  const value = Math.random();
  await client.publishAsync("v1/devices/me/telemetry", JSON.stringify({ alive: value }), { qos: 1 });
  expect(store.latestTimeseries(ids["dev-g"]!, ["alive"]).alive?.value).toBe(value);
  await client.endAsync();
}

describe("authentication", () => {
  test("access token: username is the token, client id and password ignored", async () => {
    await connect({ username: "token-a", clientId: "whatever", password: "ignored" });
    await expect(connect({ username: "no-such-token" })).rejects.toMatchObject({ code: 5 });
    expect(events).toContainEqual({ type: "auth-failed", clientId: expect.any(String), returnCode: 5 });
  });

  test("MQTT basic: all three lookups; a stored password must match", async () => {
    await connect({ clientId: "bc", username: "bu", password: "bp" });
    await expect(connect({ clientId: "bc", username: "bu", password: "nope" })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ clientId: "bc", username: "bu" })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ clientId: "other", username: "bu", password: "bp" })).rejects.toMatchObject({ code: 5 });
    await connect({ clientId: "random-id", username: "only-user" }); // stored under the user name
    await connect({ clientId: "only-client" }); // stored under sha3(clientId)
  });

  test("a client id alone that matches nothing → CONNACK 2", async () => {
    await expect(connect({ clientId: "unknown-client" })).rejects.toMatchObject({ code: 2 });
  });

  test("X.509 over mutual TLS: the client certificate is the credential; an unknown certificate → CONNACK 5", async () => {
    const tlsBase = { ca: pki.ca.cert, servername: "localhost" };
    const client = await connect({ ...tlsBase, cert: pki.client.cert, key: pki.client.key }, "mqtts", api.tlsPort);
    await client.publishAsync("v1/devices/me/telemetry", '{"tls":true}', { qos: 1 });
    expect(store.latestTimeseries(ids.x509!, ["tls"]).tls?.value).toBe(true);
    await expect(connect({ ...tlsBase, cert: pki.otherClient.cert, key: pki.otherClient.key }, "mqtts", api.tlsPort)).rejects.toMatchObject({ code: 5 });
    // Without a certificate, MQTTS falls back to token authentication.
    await connect({ ...tlsBase, username: "token-a" }, "mqtts", api.tlsPort);
  });
});

describe("telemetry and attributes", () => {
  test("every telemetry payload form is stored with its ts; the PUBACK comes after the store", async () => {
    const client = await connect({ username: "token-b" });
    const id = ids["dev-b"]!;
    const before = Date.now();
    await client.publishAsync("v1/devices/me/telemetry", '{"t":1,"s":"x","b":false,"j":{"n":[1,2]},"skipped":null}', { qos: 1 });
    const latest = store.latestTimeseries(id);
    expect(latest.t!.ts).toBeGreaterThanOrEqual(before);
    expect(Object.fromEntries(Object.entries(latest).map(([k, p]) => [k, p.value]))).toEqual({ t: 1, s: "x", b: false, j: { n: [1, 2] } });

    await client.publishAsync("v1/devices/me/telemetry", '[{"u":1},{"u":2}]', { qos: 1 });
    expect(store.latestTimeseries(id, ["u"]).u!.value).toBe(2);

    await client.publishAsync("v1/devices/me/telemetry", '{"ts":1000,"values":{"h":10}}', { qos: 1 });
    await client.publishAsync("v1/devices/me/telemetry", '[{"ts":2000,"values":{"h":20}},{"ts":3000,"values":{"h":30}}]', { qos: 1 });
    const range = store.queryTimeseries(id, "h", { startTs: 0, endTs: 10_000, limit: 10, order: "ASC" });
    expect(range).toEqual([
      { ts: 1000, value: 10 },
      { ts: 2000, value: 20 },
      { ts: 3000, value: 30 },
    ]);
  });

  test("client attributes are stored in CLIENT_SCOPE", async () => {
    const client = await connect({ username: "token-b" });
    await client.publishAsync("v1/devices/me/attributes", '{"fw":"1.2.3","mac":"aa:bb"}', { qos: 1 });
    expect(store.getAttributes(ids["dev-b"]!, "CLIENT_SCOPE", ["fw", "mac"]).map((a) => [a.key, a.value])).toEqual([
      ["fw", "1.2.3"],
      ["mac", "aa:bb"],
    ]);
  });

  test("attribute request → response on …/response/{id} even without a subscription (QoS 1)", async () => {
    const id = ids["dev-c"]!;
    store.setAttributes(id, "CLIENT_SCOPE", { fw: "9" });
    store.setAttributes(id, "SHARED_SCOPE", { interval: 5, mode: "eco" });
    const client = await connect({ username: "token-c" });
    let reply = nextMessage(client);
    client.publish("v1/devices/me/attributes/request/7", '{"clientKeys":"fw","sharedKeys":"interval,missing"}', { qos: 1 });
    expect(await reply).toEqual({ topic: "v1/devices/me/attributes/response/7", payload: '{"client":{"fw":"9"},"shared":{"interval":5}}', qos: 1 });

    await client.subscribeAsync("v1/devices/me/attributes/response/+", { qos: 0 });
    reply = nextMessage(client);
    client.publish("v1/devices/me/attributes/request/8", '{"sharedKeys":"mode"}', { qos: 0 });
    expect(await reply).toEqual({ topic: "v1/devices/me/attributes/response/8", payload: '{"shared":{"mode":"eco"}}', qos: 0 });
  });

  test("shared attribute updates reach only sessions subscribed to v1/devices/me/attributes", async () => {
    const subscribed = await connect({ username: "token-d" });
    const notSubscribed = await connect({ username: "token-d" });
    await subscribed.subscribeAsync("v1/devices/me/attributes", { qos: 1 });
    const received: string[] = [];
    notSubscribed.on("message", (_t, p) => received.push(p.toString()));
    const update = nextMessage(subscribed);
    api.sessions.pushSharedAttributes(ids["dev-d"]!, { interval: 10 });
    expect(await update).toEqual({ topic: "v1/devices/me/attributes", payload: '{"interval":10}', qos: 1 });
    const deleted = nextMessage(subscribed);
    api.sessions.pushSharedAttributes(ids["dev-d"]!, { deleted: ["interval"] });
    expect((await deleted).payload).toBe('{"deleted":["interval"]}');
    await sleep(50);
    expect(received).toEqual([]);
  });
});

describe("RPC", () => {
  test("server-side two-way RPC: request on …/rpc/request/{id}, the device's reply resolves it", async () => {
    const client = await connect({ username: "token-e" });
    await client.subscribeAsync("v1/devices/me/rpc/request/+", { qos: 1 });
    client.on("message", (topic, payload) => {
      const id = topic.split("/").pop();
      const { params } = JSON.parse(payload.toString()) as { params: { x: number } };
      client.publish(`v1/devices/me/rpc/response/${id}`, JSON.stringify({ doubled: params.x * 2 }), { qos: 1 });
    });
    await expect(api.sessions.sendRpc(ids["dev-e"]!, { method: "double", params: { x: 21 } }, { oneway: false, timeoutMs: 2000 })).resolves.toEqual({ doubled: 42 });
    await expect(api.sessions.sendRpc(ids["dev-e"]!, { method: "double", params: { x: 1 } }, { oneway: true, timeoutMs: 2000 })).resolves.toBeUndefined();
  });

  test("server-side RPC: payload and topic on the wire; unanswered → timeout; offline device → no-active-session", async () => {
    const client = await connect({ username: "token-f" });
    await client.subscribeAsync("v1/devices/me/rpc/request/+", { qos: 0 });
    const request = nextMessage(client);
    const pending = api.sessions.sendRpc(ids["dev-f"]!, { method: "reboot", params: { delay: 1 } }, { oneway: false, timeoutMs: 200 });
    expect(await request).toEqual({ topic: "v1/devices/me/rpc/request/0", payload: '{"method":"reboot","params":{"delay":1}}', qos: 0 });
    await expect(pending).rejects.toMatchObject({ kind: "timeout" });
    await expect(api.sessions.sendRpc(ids["dev-a"]!, { method: "m", params: {} }, { oneway: true, timeoutMs: 200 })).rejects.toBeInstanceOf(RpcDeliveryError);
    expect(api.sessions.isConnected(ids["dev-a"]!)).toBe(false);
    expect(api.sessions.isConnected(ids["dev-f"]!)).toBe(true);
  });

  test("client-side RPC is answered by the configured handler, without a subscription", async () => {
    const client = await connect({ username: "token-e" });
    let reply = nextMessage(client);
    client.publish("v1/devices/me/rpc/request/5", '{"method":"echo","params":{"a":[1,"b"]}}', { qos: 1 });
    expect(await reply).toEqual({ topic: "v1/devices/me/rpc/response/5", payload: '{"a":[1,"b"]}', qos: 1 });
    reply = nextMessage(client);
    client.publish("v1/devices/me/rpc/request/6", '{"method":"time","params":{}}', { qos: 0 });
    expect((await reply).payload).toBe('{"now":42}');
  });
});

describe("isolation and activity", () => {
  test("sessions sharing one MQTT client id all stay connected (aedes alone would evict the older)", async () => {
    const first = await connect({ username: "token-a", clientId: "same-id" });
    const second = await connect({ username: "token-b", clientId: "same-id" });
    const third = await connect({ username: "token-b", clientId: "same-id" });
    await sleep(50);
    for (const c of [first, second, third]) await c.publishAsync("v1/devices/me/telemetry", '{"shared_id":1}', { qos: 1 });
    expect([first.connected, second.connected, third.connected]).toEqual([true, true, true]);
  });

  test("a QoS 2 PUBLISH is acknowledged with a PUBACK, as ThingsBoard serves QoS 0 and 1 only", async () => {
    const s = await rawSocket();
    const received: Buffer[] = [];
    s.on("data", (d) => received.push(d));
    s.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "q2", clean: true, keepalive: 30, username: "token-a" }));
    s.write(mqttPacket.generate({ cmd: "publish", topic: "v1/devices/me/telemetry", payload: '{"q2":1}', qos: 2, messageId: 9, retain: false, dup: false }));
    await sleep(100);
    s.destroy();
    // CONNACK accepted, then PUBACK (0x40) for message id 9 — not PUBREC (0x50).
    expect([...Buffer.concat(received)]).toEqual([0x20, 0x02, 0x00, 0x00, 0x40, 0x02, 0x00, 0x09]);
    expect(store.latestTimeseries(ids["dev-a"]!, ["q2"]).q2?.value).toBe(1);
  });

  test("one device's publishes never reach another device, even on the same topic", async () => {
    const listener = await connect({ username: "token-a" });
    await listener.subscribeAsync("v1/devices/me/attributes", { qos: 1 });
    const received: string[] = [];
    listener.on("message", (t) => received.push(t));
    const talker = await connect({ username: "token-b" });
    await talker.publishAsync("v1/devices/me/attributes", '{"leak":1}', { qos: 1 });
    await talker.publishAsync("v1/devices/me/telemetry", '{"leak":1}', { qos: 1 });
    await talker.publishAsync("v1/devices/me/rpc/request/1", '{"method":"x","params":{}}', { qos: 1 });
    await sleep(100);
    expect(received).toEqual([]);
    expect(store.getAttributes(ids["dev-a"]!, "CLIENT_SCOPE", ["leak"])).toEqual([]);
  });

  test("activity attributes: active, lastConnectTime, lastActivityTime, lastDisconnectTime", async () => {
    const id = ids["dev-c"]!;
    const server = (key: string) => store.getAttribute(id, "SERVER_SCOPE", key)?.value;
    const before = Date.now();
    const client = await connect({ username: "token-c" });
    expect(server("active")).toBe(true);
    expect(server("lastConnectTime")).toBeGreaterThanOrEqual(before);
    await client.publishAsync("v1/devices/me/telemetry", '{"x":1}', { qos: 1 });
    expect(server("lastActivityTime")).toBeGreaterThanOrEqual(server("lastConnectTime") as number);
    await client.endAsync();
    clients.splice(clients.indexOf(client), 1);
    await sleep(50);
    expect(server("active")).toBe(false);
    expect(server("lastDisconnectTime")).toBeGreaterThanOrEqual(server("lastConnectTime") as number);
    expect(events).toContainEqual(expect.objectContaining({ type: "disconnected", deviceId: id }));
  });
});

describe("bad input closes one session, the server keeps serving", () => {
  test("invalid JSON telemetry → closed without PUBACK", async () => {
    const client = await connect({ username: "token-a" });
    const packets: Packet[] = [];
    client.on("packetreceive", (p) => packets.push(p));
    const gone = closed(client);
    client.publish("v1/devices/me/telemetry", "{not json", { qos: 1 }, () => {});
    await gone;
    expect(packets.map((p) => p.cmd)).not.toContain("puback");
    await serverStillServes();
  });

  test.each([
    ["a JSON string", '"text"'],
    ["an array of numbers", "[1,2]"],
    ["values that are not an object", '{"ts":1,"values":5}'],
  ])("telemetry that is %s → closed", async (_name, payload) => {
    const client = await connect({ username: "token-a" });
    const gone = closed(client);
    client.publish("v1/devices/me/telemetry", payload, { qos: 1 }, () => {});
    await gone;
  });

  test("payload larger than maxPayloadBytes → closed; exactly the limit is accepted", async () => {
    const client = await connect({ username: "token-a" });
    const limit = `{"p":"${"x".repeat(MAX_PAYLOAD - 8)}"}`;
    expect(limit.length).toBe(MAX_PAYLOAD);
    await client.publishAsync("v1/devices/me/telemetry", limit, { qos: 1 });
    const gone = closed(client);
    client.publish("v1/devices/me/telemetry", limit + " ", { qos: 1 }, () => {});
    await gone;
    await serverStillServes();
  });

  test("garbage bytes and a truncated packet on raw sockets do not stop the server", async () => {
    const garbage = await rawSocket();
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02]));
    expect(await socketClosed(garbage)).toBe(true);

    const truncated = await rawSocket();
    const connectPacket = mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "t", clean: true, keepalive: 30, username: "token-a" });
    truncated.write(connectPacket.subarray(0, connectPacket.length - 3));
    await serverStillServes();
    truncated.destroy();
  });

  test("more than 100 packets queued before authentication → closed; 100 are processed", async () => {
    const burst = async (count: number) => {
      const s = await rawSocket();
      const received: Buffer[] = [];
      s.on("data", (d) => received.push(d));
      const packets = [mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: `q${count}`, clean: true, keepalive: 30, username: "token-f" })];
      for (let i = 0; i < count; i++) {
        packets.push(mqttPacket.generate({ cmd: "publish", topic: "v1/devices/me/telemetry", payload: `{"burst${count}":${i}}`, qos: 0, retain: false, dup: false }));
      }
      s.write(Buffer.concat(packets));
      const wasClosed = await socketClosed(s, 300);
      s.destroy();
      return { wasClosed, connack: Buffer.concat(received).subarray(0, 4) };
    };
    const ok = await burst(100);
    expect(ok.wasClosed).toBe(false);
    expect([...ok.connack]).toEqual([0x20, 0x02, 0x00, 0x00]);
    expect(store.latestTimeseries(ids["dev-f"]!, ["burst100"]).burst100?.value).toBe(99);

    const tooMany = await burst(101);
    expect(tooMany.wasClosed).toBe(true);
    expect(store.latestTimeseries(ids["dev-f"]!, ["burst101"]).burst101).toBeUndefined();
    await serverStillServes();
  });

  test("SUBSCRIBE to filters ThingsBoard does not serve → 0x80; QoS 2 is granted as 1", async () => {
    const client = await connect({ username: "token-a" });
    const suback = new Promise<Packet>((resolve) => client.on("packetreceive", (p) => p.cmd === "suback" && resolve(p)));
    client.subscribe({ "v1/devices/me/rpc/request/+": { qos: 2 }, "v1/devices/+/telemetry": { qos: 0 }, "#": { qos: 1 } }, () => {});
    expect(((await suback) as { granted: number[] }).granted).toEqual([1, 128, 128]);
  });
});

test("events never carry tokens or passwords", () => {
  expect(events.length).toBeGreaterThan(0);
  expect(JSON.stringify(events)).not.toMatch(/token-[a-g]|"bp"|bp\b/);
});
