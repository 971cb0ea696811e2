/**
 * Provisioning over the wire, driven by the standard `mqtt` client (never the SDK's own): every scenario of
 * ThingsBoard's provisioning tests, the session rules (PUBACK before the response, SUBACK or none, close after a
 * delay, bare close on a bad request), responses compared as exact strings, then the provisioned device connects
 * with its credentials and its telemetry is in the store.
 */
import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import { EmulatorStore, provisionStateOf } from "../../tools/emulator/store.js";
import { sha3Hex, stripPem } from "../../tools/emulator/credentials.js";
import { startMqttDeviceApi, type MqttDeviceApi } from "../../tools/emulator/mqtt-server.js";
import { makeTestPki, type TestPki } from "../support/certs.js";
import { openMqtt } from "./support/mqtt-connect.js";

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';
const CLOSE_MS = 300;

const ALLOW = { provisionDeviceKey: "allow-key", provisionDeviceSecret: "allow-secret" };
const PRE = { provisionDeviceKey: "pre-key", provisionDeviceSecret: "pre-secret" };

let pki: TestPki;
let store: EmulatorStore;
let strict: MqttDeviceApi;
let legacy: MqttDeviceApi;
let silent: MqttDeviceApi;

beforeAll(async () => {
  pki = makeTestPki();
  store = new EmulatorStore();
  store.createProfile({ name: "allow", provisionType: "ALLOW_CREATE_NEW_DEVICES", ...ALLOW });
  const pre = store.createProfile({ name: "pre", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", ...PRE });
  store.createDevice({
    name: "pre-1",
    deviceProfileId: pre.id.id,
    credentials: { credentialsType: "ACCESS_TOKEN", credentialsId: "pre-token", credentialsValue: null },
  });
  const common = { store, port: 0, provisionCloseMs: CLOSE_MS };
  const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert };
  strict = await startMqttDeviceApi({ ...common, reprovision: "strict", tls, tlsPort: 0 });
  legacy = await startMqttDeviceApi({ ...common, reprovision: "legacy" });
  silent = await startMqttDeviceApi({ ...common, reprovision: "strict", noProvisionSuback: true });
});

afterAll(async () => {
  await Promise.all([strict?.close(), legacy?.close(), silent?.close()]);
});

const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

async function connect(port: number, options: IClientOptions = {}, protocol = "mqtt"): Promise<MqttClient> {
  return openMqtt(`${protocol}://127.0.0.1:${port}`, options, clients);
}

interface ProvisionExchange {
  /** Packets the client received, in order. */
  packets: Packet[];
  /** The response payload as text; undefined when the server closed without one. */
  response?: string;
  responseQos?: number;
  closedAt?: number;
  sentAt: number;
}

interface ProvisionOptions {
  port?: number;
  /** QoS to subscribe with; false: do not subscribe. Default 1. */
  subscribe?: 0 | 1 | 2 | false;
  /** Await the SUBACK before publishing (never with a server that sends none). Default true. */
  awaitSuback?: boolean;
  topic?: string;
  connectAs?: IClientOptions;
  /** Also wait this long after the response for a close. */
  waitCloseMs?: number;
}

/** One provision session: CONNECT as `provision`, optionally SUBSCRIBE, PUBLISH the request at QoS 1. */
async function provision(request: object | string, o: ProvisionOptions = {}): Promise<ProvisionExchange> {
  const packets: Packet[] = [];
  const client = mqtt.connect(`mqtt://127.0.0.1:${o.port ?? strict.port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: "provision",
    ...o.connectAs,
  });
  clients.push(client);
  client.on("packetreceive", (p) => packets.push(p));
  client.on("error", () => {});
  const closed = new Promise<number>((resolve) => client.once("close", () => resolve(Date.now())));
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  const subscribe = o.subscribe ?? 1;
  if (subscribe !== false) {
    const subscribed = new Promise<void>((resolve) => client.subscribe("/provision/response", { qos: subscribe }, () => resolve()));
    if (o.awaitSuback ?? true) await subscribed;
  }
  const exchange: ProvisionExchange = { packets, sentAt: Date.now() };
  const message = new Promise<void>((resolve) =>
    client.once("message", (_topic, payload, packet) => {
      exchange.response = payload.toString("utf8");
      exchange.responseQos = packet.qos;
      resolve();
    }),
  );
  const payload = typeof request === "string" ? request : JSON.stringify(request);
  client.publish(o.topic ?? "/provision/request", payload, { qos: 1 }, () => {});
  await Promise.race([message, closed, sleep(3000)]);
  if (o.waitCloseMs !== undefined) await Promise.race([closed, sleep(o.waitCloseMs)]);
  await Promise.race([closed.then((t) => (exchange.closedAt = t)), sleep(0)]);
  if (!client.connected) exchange.closedAt ??= await closed;
  return exchange;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const cmds = (packets: Packet[]) => packets.map((p) => p.cmd);

/** Connects as the device, sends one telemetry message at QoS 1, and returns what the store holds after the PUBACK. */
async function sendTelemetry(client: MqttClient, deviceName: string, value: number): Promise<unknown> {
  await client.publishAsync("v1/devices/me/telemetry", JSON.stringify({ temperature: value }), { qos: 1 });
  const device = store.findDeviceByName(deviceName)!;
  return store.latestTimeseries(device.id.id, ["temperature"]).temperature?.value;
}

describe("provisioning over MQTT", () => {
  test("new device, server-generated token: exact response, then the device connects and its telemetry is stored", async () => {
    const ex = await provision({ deviceName: "new-1", ...ALLOW });
    expect(ex.response).toMatch(/^\{"credentialsValue":"[A-Za-z0-9]{20}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$/);
    const token = (JSON.parse(ex.response!) as { credentialsValue: string }).credentialsValue;
    const device = store.findDeviceByName("new-1")!;
    expect(device.type).toBe("allow");
    expect(provisionStateOf(store, device.id)).toBe("provisioned");

    const client = await connect(strict.port, { username: token });
    expect(await sendTelemetry(client, "new-1", 21.5)).toBe(21.5);
  });

  test("device-chosen access token is returned as sent and works for CONNECT", async () => {
    const ex = await provision({ deviceName: "own-token", ...ALLOW, credentialsType: "ACCESS_TOKEN", token: "my-own-token-1" });
    expect(ex.response).toBe('{"credentialsValue":"my-own-token-1","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    const client = await connect(strict.port, { username: "my-own-token-1" });
    expect(await sendTelemetry(client, "own-token", 1)).toBe(1);
  });

  test("MQTT basic: id is sha3(clientId|username), the response says userName, and those credentials connect", async () => {
    const ex = await provision({
      deviceName: "basic-1",
      ...ALLOW,
      credentialsType: "MQTT_BASIC",
      clientId: "basic-client",
      username: "basic-user",
      password: "basic-pass",
    });
    expect(ex.response).toBe(
      '{"credentialsValue":{"clientId":"basic-client","userName":"basic-user","password":"basic-pass"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
    const device = store.findDeviceByName("basic-1")!;
    expect(store.getCredentialsByDeviceId(device.id.id)!.credentialsId).toBe(sha3Hex("basic-client|basic-user"));

    const client = await connect(strict.port, { clientId: "basic-client", username: "basic-user", password: "basic-pass" });
    expect(await sendTelemetry(client, "basic-1", 2)).toBe(2);
    await expect(connect(strict.port, { clientId: "basic-client", username: "basic-user", password: "wrong" })).rejects.toMatchObject({ code: 5 });
  });

  test("X.509 PEM: stored without armour, id = SHA3-256; the device then connects over mutual TLS", async () => {
    const body = pki.client.cert.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\r?\n/g, "");
    const ex = await provision({ deviceName: "x509-1", ...ALLOW, credentialsType: "X509_CERTIFICATE", hash: pki.client.cert });
    expect(ex.response).toBe(`{"credentialsValue":"${body}","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}`);
    const creds = store.getCredentialsByDeviceId(store.findDeviceByName("x509-1")!.id.id)!;
    expect(creds.credentialsValue).toBe(stripPem(pki.client.cert));
    expect(creds.credentialsId).toBe(sha3Hex(body));

    const tlsOptions = { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: "localhost" };
    const client = await connect(strict.tlsPort!, { ...tlsOptions, clientId: "anything" }, "mqtts");
    expect(await sendTelemetry(client, "x509-1", 3)).toBe(3);
  });

  test("unknown provision key → NOT_FOUND; bad secret → NOT_FOUND", async () => {
    expect((await provision({ deviceName: "nf-1", provisionDeviceKey: "no-such-key", provisionDeviceSecret: "x" })).response).toBe(NOT_FOUND);
    expect((await provision({ deviceName: "nf-2", ...ALLOW, provisionDeviceSecret: "wrong" })).response).toBe(NOT_FOUND);
    expect(store.findDeviceByName("nf-1")).toBeUndefined();
  });

  test("a second request for the same name → FAILURE (ALLOW_CREATE_NEW_DEVICES)", async () => {
    expect((await provision({ deviceName: "dup-1", ...ALLOW })).response).toMatch(/"status":"SUCCESS"/);
    expect((await provision({ deviceName: "dup-1", ...ALLOW })).response).toBe(FAILURE);
  });

  test("CHECK_PRE_PROVISIONED: existing credentials; second request FAILURE when strict, SUCCESS again when legacy", async () => {
    const expected = '{"credentialsValue":"pre-token","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}';
    expect((await provision({ deviceName: "pre-1", ...PRE, credentialsType: "ACCESS_TOKEN", token: "ignored" })).response).toBe(expected);
    expect((await provision({ deviceName: "pre-1", ...PRE })).response).toBe(FAILURE);
    expect((await provision({ deviceName: "pre-1", ...PRE }, { port: legacy.port })).response).toBe(expected);
    expect((await provision({ deviceName: "not-there", ...PRE })).response).toBe(FAILURE);
  });

  test.each([
    ["missing secret", { deviceName: "bad-1", provisionDeviceKey: "allow-key" }],
    ["null field", { deviceName: "bad-2", ...ALLOW, token: null }],
    ["unknown credentials type", { deviceName: "bad-3", ...ALLOW, credentialsType: "PSK" }],
  ])("malformed request (%s) → closed with neither PUBACK nor response", async (_name, request) => {
    const ex = await provision(request);
    expect(ex.response).toBeUndefined();
    expect(ex.closedAt).toBeDefined();
    expect(cmds(ex.packets)).toEqual(["connack", "suback"]);
  });

  test("PUBLISH to any other topic in a provision session → bare close", async () => {
    const ex = await provision({ deviceName: "wrong-topic", ...ALLOW }, { topic: "provision/request" });
    expect(ex.response).toBeUndefined();
    expect(ex.closedAt).toBeDefined();
    expect(cmds(ex.packets)).toEqual(["connack", "suback"]);
    expect(store.findDeviceByName("wrong-topic")).toBeUndefined();
  });

  test("order on the wire: CONNACK, SUBACK, PUBACK, then the response PUBLISH at the subscribed QoS", async () => {
    const ex = await provision({ deviceName: "order-1", ...ALLOW });
    expect(cmds(ex.packets)).toEqual(["connack", "suback", "puback", "publish"]);
    expect(ex.responseQos).toBe(1);
  });

  test("SUBACK grants min(requested, 1) for /provision/response and 0x80 for other filters", async () => {
    const client = await connect(strict.port, { username: "provision" });
    // mqtt.js turns any 0x80 into an error, so read the SUBACK packet itself.
    const suback = new Promise<Packet>((resolve) => client.on("packetreceive", (p) => p.cmd === "suback" && resolve(p)));
    client.subscribe({ "/provision/response": { qos: 2 }, "v1/devices/me/attributes": { qos: 1 }, "#": { qos: 0 } }, () => {});
    expect((await suback as { granted: number[] }).granted).toEqual([1, 128, 128]);
  });

  test("the response goes out without a subscription (QoS 1) and at QoS 0 for a QoS 0 subscription", async () => {
    const unsubscribed = await provision({ deviceName: "nosub-1", ...ALLOW }, { subscribe: false });
    expect(unsubscribed.response).toMatch(/"status":"SUCCESS"/);
    expect(unsubscribed.responseQos).toBe(1);
    const qos0 = await provision({ deviceName: "qos0-1", ...ALLOW }, { subscribe: 0 });
    expect(qos0.responseQos).toBe(0);
  });

  test("client id `provision` opens a provision session too, whatever the username and password", async () => {
    const ex = await provision({ deviceName: "by-client-id", ...ALLOW }, { connectAs: { username: "whatever", password: "x", clientId: "provision" } });
    expect(ex.response).toMatch(/"status":"SUCCESS"/);
  });

  test("no-SUBACK mode (servers ≤ 3.8.1): SUBSCRIBE gets no answer, the response still arrives at QoS 1", async () => {
    const ex = await provision({ deviceName: "silent-1", ...ALLOW }, { port: silent.port, subscribe: 0, awaitSuback: false });
    expect(ex.response).toMatch(/^\{"credentialsValue":"[A-Za-z0-9]{20}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$/);
    expect(ex.responseQos).toBe(1);
    expect(cmds(ex.packets)).toEqual(["connack", "puback", "publish"]);
  });

  test("the server closes the session the configured delay after a response, not before", async () => {
    const ex = await provision({ deviceName: "close-1", ...ALLOW }, { waitCloseMs: 3000 });
    expect(ex.response).toBeDefined();
    const elapsed = ex.closedAt! - ex.sentAt;
    expect(elapsed).toBeGreaterThanOrEqual(CLOSE_MS - 20);
    expect(elapsed).toBeLessThan(CLOSE_MS + 1500);
  });

  test("a provision session on MQTTS needs no client certificate", async () => {
    const packets: Packet[] = [];
    const client = await connect(strict.tlsPort!, { username: "provision", ca: pki.ca.cert, servername: "localhost" }, "mqtts");
    client.on("packetreceive", (p) => packets.push(p));
    const message = new Promise<string>((resolve) => client.once("message", (_t, payload) => resolve(payload.toString())));
    client.publish("/provision/request", JSON.stringify({ deviceName: "tls-prov", ...ALLOW, token: "tls-prov-token" }), { qos: 1 });
    expect(await message).toBe('{"credentialsValue":"tls-prov-token","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
  });

  test("protobuf request (not JSON) → protobuf response bytes", async () => {
    const field = (n: number, bytes: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
    const request = Buffer.concat([
      field(1, Buffer.from("proto-1")),
      field(3, Buffer.concat([field(1, Buffer.from(ALLOW.provisionDeviceKey)), field(2, Buffer.from(ALLOW.provisionDeviceSecret))])),
      field(4, field(1, field(1, Buffer.from("proto-token")))),
    ]);
    const client = await connect(strict.port, { username: "provision" });
    const message = new Promise<Buffer>((resolve) => client.once("message", (_t, payload) => resolve(payload)));
    client.publish("/provision/request", request, { qos: 1 });
    // status=SUCCESS(1), credentialsType ACCESS_TOKEN (0, the default, so absent), credentialsValue="proto-token"
    expect([...(await message)]).toEqual([0x08, 0x01, ...field(3, Buffer.from("proto-token"))]);
    expect(store.findDeviceByName("proto-1")).toBeDefined();
  });

  test("concurrent provision sessions sharing the client id `provision` do not evict each other", async () => {
    const results = await Promise.all(
      [1, 2, 3].map((i) => provision({ deviceName: `same-id-${i}`, ...ALLOW }, { connectAs: { clientId: "provision" } })),
    );
    for (const r of results) expect(r.response).toMatch(/"status":"SUCCESS"/);
  });
});

