/**
 * The device agent (src/device/agent.ts) against a scripted ThingsBoard (support/device-server.ts) on in-memory
 * ports: manual clock, in-memory NVS, captured log. Runs on Node and, through test/xs, inside XS.
 */
import { CredentialStore } from "../../src/credentials/store.js";
import { DeviceAgent, type AgentState, type DeviceAgentOptions } from "../../src/device/agent.js";
import type { MessageFate } from "../../src/device/telemetry-queue.js";
import { Log } from "../../src/log.js";
import { PacketType } from "../../src/mqtt/constants.js";
import type { RandomSource } from "../../src/ports.js";
import { DeviceServer, type DeviceServerOptions, type ServerDevice } from "./support/device-server.js";
import { StepClock, drain } from "./support/device-clock.js";
import { MemorySink } from "./support/memory-ports.js";
import { MemoryKeyValueStore } from "./support/memory-kv.js";
import { scriptedAgentOptions } from "./support/device-agent-options.js";
import { Prng } from "./support/prng.js";

const HOST = "tb.example.com";
const PORT = 1883;
const NAME = "esp32-test-01";
const CAP = 60_000;

const run = drain;

interface Rig {
  agent: DeviceAgent;
  server: DeviceServer;
  kv: MemoryKeyValueStore;
  store: CredentialStore;
  clock: StepClock;
  sink: MemorySink;
  states: AgentState[];
  fates: [MessageFate, number][];
}

function rig(
  o: { server?: DeviceServer; serverOptions?: DeviceServerOptions; kv?: MemoryKeyValueStore; clock?: StepClock; sink?: MemorySink; random?: RandomSource; agent?: Partial<DeviceAgentOptions> } = {},
): Rig {
  const clock = o.clock ?? new StepClock();
  const sink = o.sink ?? new MemorySink();
  const kv = o.kv ?? new MemoryKeyValueStore();
  const server = o.server ?? new DeviceServer(o.serverOptions);
  const states: AgentState[] = [];
  const fates: [MessageFate, number][] = [];
  // Debug level (set by scriptedAgentOptions): the MQTT layer's packet lines are checked for secrets too.
  const options = scriptedAgentOptions({ server, clock, kv, sink, seed: 42, name: NAME, capMs: CAP });
  const store = options.store;
  const agent = new DeviceAgent({
    ...options,
    server: { host: HOST, port: PORT },
    ...(o.random ? { random: o.random } : {}),
    provisionTimeoutMs: 5000,
    onStateChange: (s) => states.push(s),
    onMessageFate: (f, id) => fates.push([f, id]),
    ...o.agent,
  });
  return { agent, server, kv, store, clock, sink, states, fates };
}

/** Every secret the test world knows: none may appear in any captured line. */
function expectNoSecrets(r: Rig, extra: string[] = []): void {
  const secrets = [r.server.options.provisionKey, r.server.options.provisionSecret, ...extra];
  for (const d of r.server.devices.values()) secrets.push(d.token);
  for (const text of r.server.provisionRequests) {
    const req = JSON.parse(text) as { token?: string };
    if (req.token) secrets.push(req.token);
  }
  const record = r.store.load().record;
  if (record?.credentials.type === "ACCESS_TOKEN") secrets.push(record.credentials.token);
  const nonEmpty = secrets.filter((s) => s.length > 0);
  const leaks = r.sink.lines.filter((line) => nonEmpty.some((s) => line.indexOf(s) >= 0));
  expect(leaks).toEqual([]);
}

function requestOf(r: Rig, i: number): { deviceName?: string; token?: string; credentialsType?: string; provisionDeviceKey?: string } {
  return JSON.parse(r.server.provisionRequests[i]);
}

function linesMatching(r: Rig, text: string): string[] {
  return r.sink.lines.filter((l) => l.indexOf(text) >= 0);
}

/** Lines at info level or above (debug lines are detail, not what an engineer reads). */
function infoLinesMatching(r: Rig, text: string): string[] {
  return linesMatching(r, text).filter((l) => !/^[DV] /.test(l));
}

/** The log's time of a line (ms since the log was made, i.e. since clock time 1000). */
function logTime(line: string): number {
  return Number(/^[EWIDV] \((\d+)\)/.exec(line)?.[1]);
}

/** Advances the clock to log time `t`. */
async function advanceTo(r: Rig, t: number): Promise<void> {
  await r.clock.advance(t + 1000 - r.clock.now());
}

describe("DeviceAgent: first boot", () => {
  it("provisions in one write (CONNECT + SUBSCRIBE + PUBLISH), stores the token, reconnects with it, telemetry acked", async () => {
    const r = rig();
    r.agent.start();
    await run();

    const prov = r.server.provisionConnections;
    expect(prov).toHaveLength(1);
    expect(prov[0].writeSizes[0]).toBe(3);
    expect(prov[0].received.slice(0, 3).map((p) => p.type)).toEqual([PacketType.Connect, PacketType.Subscribe, PacketType.Publish]);
    const req = requestOf(r, 0);
    expect(req.deviceName).toBe(NAME);
    expect(req.credentialsType).toBe("ACCESS_TOKEN");
    expect((req.token as string).length).toBeGreaterThanOrEqual(20);

    const record = r.store.load().record;
    expect(record).toMatchObject({ host: HOST, port: PORT, deviceName: NAME, pending: false, credentials: { type: "ACCESS_TOKEN", token: req.token } });
    expect(r.server.devices.get(NAME)?.token).toBe(req.token);
    expect(r.server.last.kind).toBe("device");
    expect(r.agent.state).toBe("online");
    expect(r.states).toEqual(["provisioning", "connecting", "online"]);

    const fate: MessageFate[] = [];
    r.agent.sendTelemetry({ temperature: 21.5 }, (f) => fate.push(f));
    await run();
    expect(fate).toEqual(["acked"]);
    expect(r.server.published).toEqual([{ device: NAME, topic: "v1/devices/me/telemetry", payload: '{"temperature":21.5}' }]);

    expect(linesMatching(r, `Starting provision to ${HOST}:${PORT}`)).toHaveLength(1);
    expect(linesMatching(r, "Provision response credential type: ACCESS_TOKEN")).toHaveLength(1);
    expect(linesMatching(r, "credentials stored")).toHaveLength(2); // pending, then confirmed
    expect(linesMatching(r, `connected to ${HOST}:${PORT}`)).toHaveLength(1);
    expect(linesMatching(r, "telemetry #1 acked")).toHaveLength(1);
    expect(r.sink.lines.every((l) => /^[EWIDV] \(\d+\) [a-z]+: /.test(l))).toBe(true);
    expectNoSecrets(r);
    r.agent.stop();
  });

  it("stores the chosen token as pending before the request leaves", async () => {
    const r = rig();
    r.server.silentProvision = true;
    r.agent.start();
    await run();
    expect(r.server.provisionRequests).toHaveLength(1);
    const record = r.store.load().record;
    expect(record?.pending).toBe(true);
    expect(record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: requestOf(r, 0).token });
    r.agent.stop();
  });

  it("accepts the response when the server sends no SUBACK (ThingsBoard <= 3.8.1)", async () => {
    const r = rig({ serverOptions: { provisionSuback: false } });
    r.agent.start();
    await run();
    expect(r.server.provisionConnections[0].writeSizes[0]).toBe(3);
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record?.pending).toBe(false);
    r.agent.stop();
  });

  it("with SERVER_GENERATED_TOKEN sends no token and stores the server's", async () => {
    const r = rig({ agent: { credentials: { type: "SERVER_GENERATED_TOKEN" } } });
    r.agent.start();
    await run();
    expect(requestOf(r, 0).token).toBeUndefined();
    expect(requestOf(r, 0).credentialsType).toBeUndefined();
    const token = r.server.devices.get(NAME)?.token as string;
    expect(token.startsWith("SERVERTOKEN")).toBe(true);
    expect(r.store.load().record?.credentials).toEqual({ type: "ACCESS_TOKEN", token });
    expect(r.agent.state).toBe("online");
    expectNoSecrets(r);
    r.agent.stop();
  });
});

describe("DeviceAgent: reboot", () => {
  it("with stored credentials makes no provisioning request, and flushes queued telemetry right behind CONNECT", async () => {
    const first = rig();
    first.agent.start();
    await run();
    first.agent.stop();
    await run();
    const requests = first.server.provisionRequests.length;

    const r = rig({ server: first.server, kv: first.kv.reboot() });
    r.agent.sendTelemetry({ boot: 2 });
    r.agent.sendTelemetry({ ts: 1_700_000_000_000, values: { t: 1 } });
    r.agent.start();
    await run();
    expect(r.server.provisionRequests).toHaveLength(requests);
    const conn = r.server.last;
    expect(conn.kind).toBe("device");
    expect(conn.writeSizes[0]).toBe(3); // CONNECT + 2 × PUBLISH in one write
    expect(conn.received.slice(0, 3).map((p) => p.type)).toEqual([PacketType.Connect, PacketType.Publish, PacketType.Publish]);
    expect(r.fates).toEqual([["acked", 1], ["acked", 2]]);
    expect(r.states).toEqual(["connecting", "online"]);
    expect(linesMatching(r, "Starting provision")).toHaveLength(0);
    expectNoSecrets(r);
    r.agent.stop();
  });
});

describe("DeviceAgent: lost provision response", () => {
  it("connects with the pending token: CONNACK 0 means provisioned, the record is confirmed", async () => {
    const r = rig();
    r.server.loseProvisionResponses = 1;
    r.agent.start();
    await run();
    expect(r.agent.state).toBe("waiting");
    expect(r.server.devices.size).toBe(1); // the server acted
    expect(r.store.load().record?.pending).toBe(true);

    await r.clock.advance(CAP);
    await run();
    expect(r.agent.state).toBe("online");
    expect(r.server.provisionRequests).toHaveLength(1); // never asked again
    expect(r.server.last.kind).toBe("device");
    const record = r.store.load().record;
    expect(record?.pending).toBe(false);
    expect(record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: requestOf(r, 0).token });
    expect(linesMatching(r, "accepted the pending credentials")).toHaveLength(1);
    expectNoSecrets(r);
    r.agent.stop();
  });

  it("after a reboot too: the pending record is tried before any new request", async () => {
    const first = rig();
    first.server.loseProvisionResponses = 1;
    first.agent.start();
    await run();
    first.agent.stop();

    const r = rig({ server: first.server, kv: first.kv.reboot() });
    r.agent.start();
    await run();
    expect(r.agent.state).toBe("online");
    expect(r.server.provisionRequests).toHaveLength(1);
    expect(r.store.load().record?.pending).toBe(false);
    r.agent.stop();
  });

  it("CONNACK 5 for the pending token means the server never created it: provisions again with the same token", async () => {
    const r = rig();
    r.server.silentProvision = true; // request swallowed: no device, no answer
    r.agent.start();
    await run();
    await r.clock.advance(5000); // provision timeout
    await run();
    expect(r.agent.state).toBe("waiting");
    expect(linesMatching(r, "no provision response within 5000 ms")).toHaveLength(1);

    r.server.silentProvision = false;
    await r.clock.advance(CAP);
    await run();
    expect(r.server.connections.map((c) => c.kind)).toEqual(["provision", "refused", "provision", "device"]);
    expect(r.server.provisionRequests).toHaveLength(2);
    expect(requestOf(r, 1).token).toBe(requestOf(r, 0).token);
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record?.pending).toBe(false);
    expect(r.server.devices.size).toBe(1);
    expectNoSecrets(r);
    r.agent.stop();
  });

  it("CHECK_PRE on a strict server: FAILURE after a lost response says an operator must reset provisionState, retries at the cap", async () => {
    const r = rig({ serverOptions: { strategy: "CHECK_PRE_PROVISIONED_DEVICES", reprovision: "strict" } });
    r.server.addDevice(NAME, "PREPROVISIONEDTOKEN0001");
    r.server.loseProvisionResponses = 1;
    r.agent.start();
    await run();
    await r.clock.advance(CAP); // pending token (ignored by the server) → CONNACK 5 → provision again → FAILURE
    await run();
    expect(r.server.provisionRequests).toHaveLength(2);
    expect(r.agent.state).toBe("waiting");
    const errors = linesMatching(r, "FAILURE");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^E /);
    expect(errors[0]).toContain("An operator must reset the provisionState");
    expect(errors[0]).toContain(`Retrying every ${CAP} ms`);

    // Next try exactly at the cap after the FAILURE; the explanation is not repeated.
    await advanceTo(r, logTime(errors[0]) + CAP - 1);
    expect(r.server.provisionRequests).toHaveLength(2);
    await r.clock.advance(1);
    expect(r.server.provisionRequests).toHaveLength(3);
    expect(infoLinesMatching(r, "FAILURE")).toHaveLength(1);

    // The operator resets provisionState: the next attempt gets the pre-provisioned token.
    (r.server.devices.get(NAME) as ServerDevice).provisionState = undefined;
    await r.clock.advance(CAP);
    await run();
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: "PREPROVISIONEDTOKEN0001" });
    expectNoSecrets(r);
    r.agent.stop();
  });
});

describe("DeviceAgent: CHECK_PRE_PROVISIONED_DEVICES", () => {
  it("stores the server's existing token, not the one the device chose", async () => {
    const r = rig({ serverOptions: { strategy: "CHECK_PRE_PROVISIONED_DEVICES" } });
    r.server.addDevice(NAME, "PREPROVISIONEDTOKEN0002");
    r.agent.start();
    await run();
    expect(requestOf(r, 0).token).not.toBe("PREPROVISIONEDTOKEN0002");
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record).toMatchObject({ pending: false, credentials: { type: "ACCESS_TOKEN", token: "PREPROVISIONEDTOKEN0002" } });
    expectNoSecrets(r);
    r.agent.stop();
  });

  it("legacy server (<= 4.2.1): after a lost response the second request succeeds with the same credentials", async () => {
    const r = rig({ serverOptions: { strategy: "CHECK_PRE_PROVISIONED_DEVICES", reprovision: "legacy" } });
    r.server.addDevice(NAME, "PREPROVISIONEDTOKEN0003");
    r.server.loseProvisionResponses = 1;
    r.agent.start();
    await run();
    await r.clock.advance(CAP);
    expect(r.server.connections.map((c) => c.kind)).toEqual(["provision", "refused", "provision", "device"]);
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: "PREPROVISIONEDTOKEN0003" });
    expect(infoLinesMatching(r, "FAILURE")).toHaveLength(0);
    r.agent.stop();
  });
});

describe("DeviceAgent: optional request fields", () => {
  it("without a device name the server names the device; the client id is random; gateway is sent when asked", async () => {
    const r = rig({ agent: { deviceName: undefined, gateway: true } });
    r.agent.start();
    await run();
    const req = JSON.parse(r.server.provisionRequests[0]) as Record<string, unknown>;
    expect(req.deviceName).toBeUndefined();
    expect(req.gateway).toBe(true);
    const connect = r.server.connections[0].received[0] as { clientId: string };
    expect(connect.clientId).toMatch(/^esp32-[0-9a-f]{12}$/);
    expect(r.agent.state).toBe("online");
    expect([...r.server.devices.keys()]).toEqual(["server-named-1"]);
    expect(r.store.load().record?.deviceName).toBe("");
    r.agent.stop();
  });
});

describe("DeviceAgent: configuration errors", () => {
  it("NOT_FOUND is logged once, clearly, and retried only at the back-off cap", async () => {
    const server = new DeviceServer();
    const r = rig({ server, agent: { provisionDeviceSecret: "wrong-secret-value" } });
    r.agent.start();
    await run();
    expect(r.agent.state).toBe("waiting");
    for (let i = 0; i < 3; i++) {
      const before = r.server.provisionRequests.length;
      await r.clock.advance(CAP - 1);
      await run();
      expect(r.server.provisionRequests).toHaveLength(before);
      await r.clock.advance(1);
      await run();
      expect(r.server.provisionRequests).toHaveLength(before + 1);
    }
    const lines = infoLinesMatching(r, "NOT_FOUND");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^E /);
    expect(lines[0]).toContain("check the provision device key and secret");
    expect(lines[0]).toContain("provisioning is enabled");
    expect(r.store.load().record?.pending).toBe(true); // still its own choice, never confirmed
    expectNoSecrets(r, ["wrong-secret-value"]);
    r.agent.stop();
  });

  it("a provisioning profile that is DISABLED answers NOT_FOUND too", async () => {
    const r = rig({ serverOptions: { strategy: "DISABLED" } });
    r.agent.start();
    await run();
    expect(linesMatching(r, "NOT_FOUND")).toHaveLength(1);
    expect(r.agent.state).toBe("waiting");
    r.agent.stop();
  });
});

describe("DeviceAgent: stored credentials refused", () => {
  it("CONNACK 5 with confirmed credentials → factory reset and provision again", async () => {
    const r = rig();
    r.agent.start();
    await run();
    const oldToken = requestOf(r, 0).token as string;

    r.server.devices.clear(); // an operator deleted the device
    r.server.cutAll();
    await run();
    expect(r.agent.state).toBe("waiting");
    await r.clock.advance(CAP);
    await run();
    expect(r.server.provisionRequests).toHaveLength(2);
    const newToken = requestOf(r, 1).token as string;
    expect(newToken).not.toBe(oldToken);
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: newToken });
    expect(linesMatching(r, "refused the stored credentials (CONNACK 5)")).toHaveLength(1);
    expectNoSecrets(r, [oldToken]);
    r.agent.stop();
  });

  it("does not re-provision when reprovisionOnAuthFailure is false", async () => {
    const r = rig({ agent: { reprovisionOnAuthFailure: false } });
    r.agent.start();
    await run();
    r.server.devices.clear();
    r.server.cutAll();
    await run();
    await r.clock.advance(CAP);
    await run();
    expect(r.server.provisionRequests).toHaveLength(1);
    expect(r.store.load().record?.pending).toBe(false);
    expect(r.agent.state).toBe("waiting");
    r.agent.stop();
  });
});

describe("DeviceAgent: reconnect and back-off", () => {
  it("reconnects after loss with exponential delays (full jitter at its largest draw) and resets after success", async () => {
    // Every back-off draw (4 bytes) at its largest: each jittered delay is exactly its ceiling, so the timing is
    // exact. Tokens come from a PRNG (all-0xff bytes would be refused by the token generator).
    const rng = new Prng(7);
    const maxRandom: RandomSource = { fill: (t) => (t.length === 4 ? t.fill(0xff) : t.set(rng.bytes(t.length))) };
    const r = rig({ random: maxRandom, agent: { credentials: { type: "ACCESS_TOKEN" } } });
    r.agent.start();
    await run();
    expect(r.agent.state).toBe("online");

    r.server.refuseConnections = 3;
    r.server.cutAll();
    await run();
    const delays = [1000, 2000, 4000];
    for (const d of delays) {
      const before = r.server.connections.length;
      await r.clock.advance(d - 1);
      await run();
      expect(r.server.connections.length).toBe(before);
      await r.clock.advance(1);
      await run();
      expect(r.server.connections.length).toBe(before + 1);
    }
    // The fourth delay is 8000; that connection succeeds.
    await r.clock.advance(8000);
    await run();
    expect(r.agent.state).toBe("online");
    expect(linesMatching(r, "retrying in 8000 ms")).toHaveLength(1);

    // Success reset the back-off: the next loss waits at most base again.
    r.server.cutAll();
    await run();
    expect(linesMatching(r, "retrying in 1000 ms")).toHaveLength(2);
    r.agent.stop();
  });

  it("jittered delays stay within [0, ceiling] (smallest draw: reconnects at once)", async () => {
    const minRandom: RandomSource = { fill: (t) => t.fill(0) };
    // A token from all-zero bytes is "AAAA…": fine for a test.
    const r = rig({ random: minRandom });
    r.agent.start();
    await run();
    r.server.refuseConnections = 2;
    r.server.cutAll();
    await run();
    await r.clock.advance(0);
    await run();
    await r.clock.advance(0);
    await run();
    await r.clock.advance(0);
    await run();
    expect(r.agent.state).toBe("online");
    expect(linesMatching(r, "retrying in 0 ms")).toHaveLength(3);
    r.agent.stop();
  });

  it("gives up after backoff.maxAttempts failures in a row", async () => {
    const r = rig({ agent: { backoff: { baseMs: 100, capMs: 1000, maxAttempts: 3 } } });
    r.server.refuseConnections = 10;
    r.agent.start();
    await run();
    await r.clock.advance(1000);
    await run();
    await r.clock.advance(1000);
    await run();
    expect(r.agent.state).toBe("failed");
    expect(r.server.connections).toHaveLength(3);
    expect(linesMatching(r, "giving up after 3 failed attempts")).toHaveLength(1);
  });
});

describe("DeviceAgent: offline queue", () => {
  it("keeps telemetry while offline, drops the oldest beyond the bound, flushes the rest behind CONNECT", async () => {
    const r = rig({ agent: { queue: { maxMessages: 3 } } });
    r.agent.start();
    await run();
    r.server.refuseConnections = 1;
    r.server.cutAll();
    await run();
    expect(r.agent.state).toBe("waiting");
    for (let i = 1; i <= 5; i++) r.agent.sendTelemetry({ n: i });
    expect(r.fates).toEqual([["dropped", 1], ["dropped", 2]]);
    expect(r.agent.queue.stats.dropped).toBe(2);

    await r.clock.advance(CAP); // first retry refused, second succeeds
    await run();
    await r.clock.advance(CAP);
    await run();
    expect(r.agent.state).toBe("online");
    const conn = r.server.last;
    expect(conn.writeSizes[0]).toBe(4); // CONNECT + 3 PUBLISH
    expect(r.server.published.map((p) => p.payload)).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
    expect(r.fates).toEqual([["dropped", 1], ["dropped", 2], ["acked", 3], ["acked", 4], ["acked", 5]]);
    r.agent.stop();
  });

  it("sends a message again on the next connection when its PUBACK never came, and reports it acked once", async () => {
    const r = rig();
    r.agent.start();
    await run();
    r.server.holdPubacks = true;
    r.agent.sendTelemetry({ t: 1 });
    await run();
    expect(r.server.published).toHaveLength(1);
    r.server.holdPubacks = false;
    r.server.cutAll();
    await run();
    await r.clock.advance(CAP);
    await run();
    expect(r.server.published.map((p) => p.payload)).toEqual(['{"t":1}', '{"t":1}']);
    expect(r.fates).toEqual([["acked", 1]]);
    r.agent.stop();
  });

  it("stamps telemetry with the wall clock when it is queued, so a resend keeps its time", async () => {
    let wall = 1_700_000_000_000;
    const r = rig({ agent: { epochMs: () => wall } });
    r.agent.start();
    await run();
    r.server.refuseConnections = 1;
    r.server.cutAll();
    await run();
    r.agent.sendTelemetry({ t: 1 });
    r.agent.sendAttributes({ fw: "1.0.0" });
    wall += 90_000;
    await r.clock.advance(CAP);
    await run();
    await r.clock.advance(CAP);
    await run();
    expect(r.server.published).toEqual([
      { device: NAME, topic: "v1/devices/me/telemetry", payload: '{"ts":1700000000000,"values":{"t":1}}' },
      { device: NAME, topic: "v1/devices/me/attributes", payload: '{"fw":"1.0.0"}' },
    ]);
    expect(linesMatching(r, "attributes #2 acked")).toHaveLength(1);
    r.agent.stop();
  });
});

describe("DeviceAgent: other credentials", () => {
  it("MQTT_BASIC: asks for the device's own client id / user name / password and connects with them", async () => {
    const basic = { type: "MQTT_BASIC" as const, clientId: "esp32-basic-cid", username: "basic-user-01", password: "basic-pass-789" };
    const r = rig({ agent: { credentials: basic } });
    r.agent.start();
    await run();
    expect(JSON.parse(r.server.provisionRequests[0])).toMatchObject({ credentialsType: "MQTT_BASIC", clientId: basic.clientId, username: basic.username, password: basic.password });
    expect(r.agent.state).toBe("online");
    expect(r.store.load().record).toMatchObject({ pending: false, credentials: { type: "MQTT_BASIC", clientId: basic.clientId, username: basic.username, password: basic.password } });
    const connect = r.server.last.received[0] as { clientId: string; username?: string };
    expect([connect.clientId, connect.username]).toEqual([basic.clientId, basic.username]);
    expect(linesMatching(r, "Provision response credential type: MQTT_BASIC")).toHaveLength(1);
    expectNoSecrets(r, [basic.password, basic.username]);
    r.agent.stop();
  });

  it("X509_CERTIFICATE: sends the certificate (never the key) and hands certificate and key to the host's connector", async () => {
    const certificatePem = "-----BEGIN CERTIFICATE-----\nMIIBdevicecertificatebody0123456789\n-----END CERTIFICATE-----\n";
    const privateKeyPem = "-----BEGIN PRIVATE KEY-----\nMIGHprivatekeybody0123456789abcdef\n-----END PRIVATE KEY-----\n";
    const r = rig({ agent: { credentials: { type: "X509_CERTIFICATE", certificatePem, privateKeyPem } } });
    r.agent.start();
    await run();
    const req = JSON.parse(r.server.provisionRequests[0]) as Record<string, unknown>;
    expect(req.credentialsType).toBe("X509_CERTIFICATE");
    expect(req.hash).toBe(certificatePem);
    expect(r.server.provisionRequests[0].indexOf("PRIVATE KEY")).toBe(-1);
    expect(r.agent.state).toBe("online");
    expect(r.server.last.credentials).toEqual({ type: "X509_CERTIFICATE", certificatePem, privateKeyPem });
    expect(r.server.provisionConnections[0].credentials).toBeUndefined();
    expect(r.store.load().record?.credentials).toEqual({ type: "X509_CERTIFICATE", certificatePem, privateKeyPem });
    expectNoSecrets(r, [privateKeyPem]);
    r.agent.stop();
  });
});

describe("DeviceAgent: hostile or broken responses", () => {
  const hostile: [string, string][] = [
    ["invalid-json", "not json at all"],
    ["invalid-field", '{"credentialsValue":42,"credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}'],
    ["unknown-status", '{"status":"MAYBE"}'],
    ["credentials-type-mismatch", '{"credentialsValue":"MIIB","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}'],
    ["credential-too-large", `{"credentialsValue":"${"A".repeat(5000)}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`],
  ];
  it.each(hostile)("%s: nothing from the response is stored; the device recovers with its pending token", async (code, body) => {
    const r = rig();
    r.server.responseOverride = body;
    r.agent.start();
    await run();
    expect(r.agent.state).toBe("waiting");
    expect(infoLinesMatching(r, `provision response refused (${code})`)).toHaveLength(1);
    const token = requestOf(r, 0).token;
    expect(r.store.load().record).toMatchObject({ pending: true, credentials: { type: "ACCESS_TOKEN", token } });
    // The server did create the device (only its answer was mangled): the pending token connects.
    await r.clock.advance(CAP);
    expect(r.agent.state).toBe("online");
    expect(r.server.provisionRequests).toHaveLength(1);
    expect(r.store.load().record).toMatchObject({ pending: false, credentials: { type: "ACCESS_TOKEN", token } });
    r.agent.stop();
  });

  it("a host connector that throws counts as a failed connection and is retried", async () => {
    const r = rig();
    let calls = 0;
    const connect = r.server.connect;
    const agent = new DeviceAgent({
      server: { host: HOST, port: PORT },
      connect: (endpoint, credentials) => {
        if (++calls === 1) throw new Error("no sockets left");
        return connect(endpoint, credentials);
      },
      clock: r.clock,
      random: { fill: (t) => t.set(new Prng(3).bytes(t.length)) },
      store: r.store,
      log: new Log(r.sink, r.clock, { level: "D" }),
      deviceName: NAME,
      provisionDeviceKey: r.server.options.provisionKey,
      provisionDeviceSecret: r.server.options.provisionSecret,
    });
    agent.start();
    await run();
    expect(agent.state).toBe("waiting");
    expect(linesMatching(r, "provisioning session ended without a response: could not connect: no sockets left")).toHaveLength(1);
    await r.clock.advance(CAP);
    expect(agent.state).toBe("online");
    agent.stop();
  });

  it("no PUBACK within ackTimeoutMs: reconnects and sends the message again", async () => {
    const r = rig({ agent: { ackTimeoutMs: 5000 } });
    r.agent.start();
    await run();
    r.server.holdPubacks = true;
    r.agent.sendTelemetry({ t: 7 });
    await run();
    r.server.holdPubacks = false;
    await r.clock.advance(5000);
    expect(linesMatching(r, "no PUBACK within 5000 ms")).toHaveLength(1);
    await r.clock.advance(CAP);
    expect(r.agent.state).toBe("online");
    expect(r.server.published.map((p) => p.payload)).toEqual(['{"t":7}', '{"t":7}']);
    expect(r.fates).toEqual([["acked", 1]]);
    r.agent.stop();
  });

  it("stop() during provisioning leaves no timer and no open connection", async () => {
    const r = rig();
    r.server.silentProvision = true;
    r.agent.start();
    await run();
    r.agent.stop();
    await run();
    expect(r.agent.state).toBe("stopped");
    expect(r.clock.pendingTimers).toBe(0);
    expect(r.server.connections.every((c) => c.link.isClosed)).toBe(true);
  });
});

