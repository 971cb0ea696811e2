/**
 * Fault injection against the real emulator over real sockets (127.0.0.1):
 * (a) power cut after every NvsFileStore flash step of first provisioning, then a reboot over the same directory;
 * (b) connection cut after every MQTT packet, in both directions, of the provisioning exchange, the connection
 *     that follows it and the first telemetry, and of a restart from stored credentials + first telemetry, through
 *     test/support/fault-proxy.ts;
 * (c) a restart from stored credentials sends no provision request.
 * Whatever the fault, the device ends provisioned and online, the emulator holds exactly one device of its name,
 * the stored record holds the server's credentials, and telemetry the server stored twice kept its timestamp.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CredentialStore } from "../../src/credentials/store.js";
import { DeviceAgent } from "../../src/device/agent.js";
import type { MessageFate } from "../../src/device/telemetry-queue.js";
import { Log } from "../../src/log.js";
import { cryptoRandom, memorySink, NvsFileStore, systemClock, tcpConnector, type MemorySink } from "../../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";
import { FaultProxy, type Direction } from "../support/fault-proxy.js";
import { until } from "../support/until.js";

jest.setTimeout(60_000);

const KEY = "faults-provision-key";
const SECRET = "faults-provision-secret";
const clock = systemClock();

let emu: RunningEmulator;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "device-faults-"));
  emu = await startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision: "strict", provisionCloseMs: 200, log: new Log(memorySink(), clock),
    config: { profiles: [{ name: "faults", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }] },
  });
});
afterAll(async () => {
  await emu?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Device {
  agent: DeviceAgent;
  sink: MemorySink;
  fates: Map<number, MessageFate>;
}

/** `via`: the port the device's sockets really go to (the proxy); the configured server stays the emulator. */
function makeAgent(name: string, kv: NvsFileStore, via = emu.mqttPort): Device {
  const sink = memorySink();
  const fates = new Map<number, MessageFate>();
  const agent = new DeviceAgent({
    server: { host: "127.0.0.1", port: emu.mqttPort },
    connect: (endpoint) => tcpConnector({ host: endpoint.host, port: via }),
    clock, random: cryptoRandom(),
    store: new CredentialStore(kv),
    log: new Log(sink, clock, { level: "D" }),
    deviceName: name,
    provisionDeviceKey: KEY, provisionDeviceSecret: SECRET,
    provisionTimeoutMs: 1500, connectTimeoutMs: 1500, ackTimeoutMs: 1500,
    backoff: { baseMs: 20, capMs: 150 },
    epochMs: () => Date.now(),
    onMessageFate: (fate, id) => fates.set(id, fate),
  });
  return { agent, sink, fates };
}

/** The checks every scenario ends with; returns the server's token. */
function checkEnd(name: string, dir: string, d: Device): string {
  // (the agent was seen online by the caller before it stopped it)
  const devices = emu.store.listDevices().filter((x) => x.name === name);
  expect(devices).toHaveLength(1);
  const server = emu.store.getCredentialsByDeviceId(devices[0].id.id)!;
  expect(server.credentialsType).toBe("ACCESS_TOKEN");
  const record = new CredentialStore(new NvsFileStore(dir, { fsync: false })).load().record;
  expect(record?.pending).toBe(false);
  expect(record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: server.credentialsId });
  for (const secret of [SECRET, KEY, server.credentialsId]) expect(d.sink.lines.filter((l) => l.includes(secret))).toEqual([]);
  return server.credentialsId;
}

/** Every value of `key` the server stored carries a single timestamp (a resend keeps its time). */
function checkTimeseries(name: string, key: string, expectedValues: number[]): void {
  const id = emu.store.findDeviceByName(name)!.id.id;
  const points = emu.store.queryTimeseries(id, key, { startTs: 0, endTs: Date.now() + 60_000, limit: 1000, order: "ASC" });
  const byValue = new Map<string, Set<number>>();
  for (const p of points) {
    const set = byValue.get(String(p.value)) ?? new Set<number>();
    set.add(p.ts);
    byValue.set(String(p.value), set);
  }
  for (const [value, stamps] of byValue) expect([value, stamps.size]).toEqual([value, 1]);
  expect([...byValue.keys()].sort()).toEqual(expectedValues.map(String).sort());
}

/**
 * Boots `name` over a store that loses power after flash step n, for n = 1, 2, … until a boot completes without
 * reaching the cut; after each cut it reboots (a new agent over reboot()) and checks the end state.
 * `prepare(name, dir)` sets up the state before the faulty boot. Returns [cut points covered, steps of a whole boot].
 */
async function powerCutSweep(
  prefix: string,
  prepare: (name: string, dir: string) => Promise<void>,
  via = () => emu.mqttPort,
): Promise<[number, number]> {
  let covered = 0;
  for (let n = 1; n <= 40; n++) {
    const name = `${prefix}-${n}`;
    const dir = path.join(root, name);
    await prepare(name, dir);
    const kv = new NvsFileStore(dir, { fsync: false }).cutPowerAfter(n);
    const first = makeAgent(name, kv, via());
    // The CPU stops with the power: the agent is stopped right after the failing flash step returns to it.
    const onCut = () => queueMicrotask(() => first.agent.stop());
    const origSet = kv.set.bind(kv);
    const origDelete = kv.delete.bind(kv);
    kv.set = (k, v) => {
      try {
        origSet(k, v);
      } catch (e) {
        onCut();
        throw e;
      }
    };
    kv.delete = (k) => {
      try {
        origDelete(k);
      } catch (e) {
        onCut();
        throw e;
      }
    };
    first.agent.start();
    await until(`first boot of ${name} (online or power cut)`, () => kv.poweredOff || (first.agent.state === "online" && first.agent.credentials?.pending === false));
    if (!kv.poweredOff) {
      first.agent.stop();
      checkEnd(name, dir, first);
      console.log(`${prefix}: flash steps of a whole boot: ${kv.steps.map((st) => `${st.kind} ${st.key}`).join(", ")}`);
      return [covered, kv.steps.length];
    }
    covered++;
    first.agent.stop();
    const second = makeAgent(name, kv.reboot());
    second.agent.start();
    await until(`${name} online after the reboot`, () => second.agent.state === "online" && second.agent.credentials?.pending === false);
    const id = second.agent.sendTelemetry({ boot: 2 });
    await until("telemetry acked", () => second.fates.get(id) === "acked");
    second.agent.stop();
    checkEnd(name, dir, { ...second, sink: mergedSink(first.sink, second.sink) });
  }
  throw new Error("power-cut sweep did not end within 40 steps");
}

describe("power cut at every flash step of saving credentials", () => {
  it("first provisioning: ends provisioned and online after a reboot, whatever step the power was cut after", async () => {
    const started = Date.now();
    const [covered, steps] = await powerCutSweep("power-cut", async () => undefined);
    // Pending record before the request + confirmed record after the response: every step was a cut point.
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(covered).toBe(steps);
    console.log(`power cut (first provisioning): ${covered} cut points covered in ${Date.now() - started} ms`);
  });

  it("re-provisioning after the server deleted the device (CONNACK 5 → factory reset → provision): same", async () => {
    const started = Date.now();
    const [covered, steps] = await powerCutSweep("power-reprov", async (name, dir) => {
      const d = makeAgent(name, new NvsFileStore(dir, { fsync: false }));
      d.agent.start();
      await until(`${name}: provisioned before the device is deleted`, () => d.agent.state === "online" && d.agent.credentials?.pending === false);
      d.agent.stop();
      expect(emu.store.deleteDevice(emu.store.findDeviceByName(name)!.id.id)).toBe(true);
    });
    // Factory reset (erases) + pending record + confirmed record.
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(covered).toBe(steps);
    console.log(`power cut (re-provisioning): ${covered} cut points covered in ${Date.now() - started} ms`);
  });

  it("lost provision response, then confirming the pending record after CONNACK 0: same", async () => {
    const started = Date.now();
    const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: emu.mqttPort } });
    try {
      // The server creates the device but its response is lost: the device connects with its pending token and
      // confirms the record.
      const [covered, steps] = await powerCutSweep("power-confirm", async () => proxy.cutBefore("down", 3), () => proxy.port);
      // Every boot that sent its request lost the response (a cut at step 1 stops the device before it asks).
      expect(proxy.cuts).toBe(covered);
      // Pending record + confirmation.
      expect(steps).toBeGreaterThanOrEqual(2);
      expect(covered).toBe(steps);
      console.log(`power cut (lost response + confirm): ${covered} cut points covered in ${Date.now() - started} ms`);
    } finally {
      await proxy.close();
    }
  });
});

function mergedSink(a: MemorySink, b: MemorySink): MemorySink {
  const m = memorySink();
  for (const l of [...a.lines, ...b.lines]) m.lines.push(l);
  return m;
}

describe("connection cut at every MQTT packet boundary (fault proxy)", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: emu.mqttPort } });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("provisioning + first connection + first telemetry: every cut ends online with exactly one device", async () => {
    const started = Date.now();
    const covered: Record<Direction, number> = { up: 0, down: 0 };
    const exchange: Record<Direction, number> = { up: -1, down: -1 };
    const recovered: string[] = [];
    const reasked: string[] = [];
    for (const direction of ["up", "down"] as Direction[]) {
      for (let k = 1; k <= 20; k++) {
        const name = `cut-${direction}-${k}`;
        const dir = path.join(root, name);
        proxy.cutAfter(direction, k);
        const d = makeAgent(name, new NvsFileStore(dir, { fsync: false }), proxy.port);
        const first = d.agent.sendTelemetry({ n: 1 }); // queued before boot: rides behind the first device CONNECT
        d.agent.start();
        await until(`${name}: online and telemetry 1 acked`, () => d.agent.state === "online" && d.fates.get(first) === "acked");
        const second = d.agent.sendTelemetry({ n: 2 });
        await until(`${name}: telemetry 2 acked`, () => d.fates.get(second) === "acked");
        d.agent.stop();
        const cutHappened = !proxy.armed;
        checkEnd(name, dir, d);
        checkTimeseries(name, "n", [1, 2]);
        if (d.sink.lines.some((l) => l.includes("the server accepted the pending credentials"))) recovered.push(name);
        if (d.agent.stats.provisionRequests > 1) reasked.push(name);
        if (!cutHappened) {
          console.log(`whole exchange ${direction} (${k - 1} packets): ${proxy.names(direction).slice(-(k - 1)).join(" ")}`);
          exchange[direction] = k - 1;
          proxy.cutAfter(direction, 1e9);
          break; // k is past the last packet of the exchange
        }
        covered[direction]++;
      }
    }
    // Up: CONNECT SUBSCRIBE PUBLISH PUBACK DISCONNECT | CONNECT PUBLISH | PUBLISH. Down: CONNACK PUBACK SUBACK PUBLISH | CONNACK PUBACK | PUBACK.
    console.log(`recovered through the pending token: ${recovered.join(" ")}; asked again: ${reasked.join(" ")}`);
    // A response lost after the server acted is recovered by connecting with the pending token.
    expect(recovered.length).toBeGreaterThanOrEqual(1);
    // Every packet of the uncut exchange was a cut point.
    expect(covered).toEqual(exchange);
    expect(covered.up).toBeGreaterThanOrEqual(7);
    expect(covered.down).toBeGreaterThanOrEqual(7);
    console.log(`connection cut (provisioning + first telemetry): ${covered.up} up + ${covered.down} down cut points in ${Date.now() - started} ms`);
  });

  it("restart from stored credentials + first telemetry: every cut ends online, no second provisioning", async () => {
    const started = Date.now();
    const covered: Record<Direction, number> = { up: 0, down: 0 };
    for (const direction of ["up", "down"] as Direction[]) {
      for (let k = 1; k <= 10; k++) {
        const name = `recut-${direction}-${k}`;
        const dir = path.join(root, name);
        const boot = makeAgent(name, new NvsFileStore(dir, { fsync: false }));
        boot.agent.start();
        await until(`${name}: first boot online`, () => boot.agent.state === "online");
        boot.agent.stop();

        proxy.cutAfter(direction, k);
        const r = makeAgent(name, new NvsFileStore(dir, { fsync: false }), proxy.port);
        const viaProxy = r.agent;
        const first = viaProxy.sendTelemetry({ m: 1 });
        viaProxy.start();
        await until(`${name}: online and telemetry acked`, () => viaProxy.state === "online" && r.fates.get(first) === "acked");
        viaProxy.stop();
        const cutHappened = !proxy.armed;
        expect(viaProxy.stats.provisionRequests).toBe(0);
        checkEnd(name, dir, r);
        checkTimeseries(name, "m", [1]);
        if (!cutHappened) {
          proxy.cutAfter(direction, 1e9);
          break;
        }
        covered[direction]++;
      }
    }
    // Up: CONNECT PUBLISH. Down: CONNACK PUBACK.
    expect(covered.up).toBeGreaterThanOrEqual(2);
    expect(covered.down).toBeGreaterThanOrEqual(2);
    console.log(`connection cut (restart + first telemetry): ${covered.up} up + ${covered.down} down cut points in ${Date.now() - started} ms`);
  });
});

describe("emulator fidelity", () => {
  // Found by the sweep above (scenario cut-up-3): the emulator used to drop a provision request whose connection
  // ended (FIN) right behind it. ThingsBoard acts on a request it has fully read; only the reply is lost. So the
  // device must recover through its pending token, with no second provision request reaching a decision.
  it("acts on a provision request whose connection closes right behind it (cut after up packet 3)", async () => {
    const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: emu.mqttPort } });
    try {
      const name = "fin-after-request";
      const dir = path.join(root, name);
      proxy.cutAfter("up", 3); // CONNECT, SUBSCRIBE, PUBLISH /provision/request, then FIN
      const d = makeAgent(name, new NvsFileStore(dir, { fsync: false }), proxy.port);
      const id = d.agent.sendTelemetry({ fin: 1 });
      d.agent.start();
      await until(`${name}: online and acked`, () => d.agent.state === "online" && d.fates.get(id) === "acked");
      d.agent.stop();
      expect(proxy.armed).toBe(false); // the cut happened
      expect(d.sink.lines.some((l) => l.includes("the server accepted the pending credentials"))).toBe(true);
      checkEnd(name, dir, d);
    } finally {
      await proxy.close();
    }
  });
});

describe("fault proxy delays", () => {
  it("delays each direction and the device still provisions and acks telemetry", async () => {
    const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: emu.mqttPort }, delayMs: { up: 25, down: 25 } });
    try {
      const name = "delayed";
      const d = makeAgent(name, new NvsFileStore(path.join(root, name), { fsync: false }), proxy.port);
      const started = Date.now();
      const id = d.agent.sendTelemetry({ d: 1 });
      d.agent.start();
      await until("online and acked", () => d.agent.state === "online" && d.fates.get(id) === "acked");
      const elapsed = Date.now() - started;
      d.agent.stop();
      // Two sessions (provisioning, device), each at least one delayed round trip.
      expect(elapsed).toBeGreaterThanOrEqual(100);
      expect(d.agent.stats.provisionRequests).toBe(1);
      checkEnd(name, path.join(root, name), d);
    } finally {
      await proxy.close();
    }
  });
});

describe("restart from stored credentials", () => {
  it("makes no provisioning request", async () => {
    const name = "restart-no-provision";
    const dir = path.join(root, name);
    const a = makeAgent(name, new NvsFileStore(dir, { fsync: false }));
    a.agent.start();
    await until("first boot online", () => a.agent.state === "online");
    expect(a.agent.stats.provisionRequests).toBe(1);
    a.agent.stop();
    const b = makeAgent(name, new NvsFileStore(dir, { fsync: false }));
    b.agent.start();
    await until("restart online", () => b.agent.state === "online");
    expect(b.agent.stats.provisionRequests).toBe(0);
    expect(b.agent.stats.connects).toBe(1);
    expect(b.sink.lines.some((l) => l.includes("Starting provision"))).toBe(false);
    expect(b.sink.lines.some((l) => l.includes("stored credentials loaded: ACCESS_TOKEN"))).toBe(true);
    b.agent.stop();
    checkEnd(name, dir, b);
  });
});

describe("lost provision response under CHECK_PRE_PROVISIONED_DEVICES (the device's own token is ignored)", () => {
  it.each(["strict", "legacy"] as const)("%s server", async (reprovision) => {
    const name = `pre-lost-${reprovision}`;
    const token = "pre-provisioned-token-lost-0001";
    const pre = await startEmulator({
      bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision, provisionCloseMs: 200, log: new Log(memorySink(), clock),
      config: {
        profiles: [{ name: "pre", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }],
        devices: [{ name, profile: "pre", credentials: { type: "ACCESS_TOKEN", token } }],
      },
    });
    const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: pre.mqttPort } });
    try {
      // The server has acted on the request (device marked provisioned); its response is lost on the way.
      proxy.cutBefore("down", 3);
      const sink = memorySink();
      const agent = new DeviceAgent({
        server: { host: "127.0.0.1", port: pre.mqttPort },
        connect: () => tcpConnector({ host: "127.0.0.1", port: proxy.port }),
        clock, random: cryptoRandom(),
        store: new CredentialStore(new NvsFileStore(path.join(root, name), { fsync: false })),
        log: new Log(sink, clock, { level: "D" }),
        deviceName: name, provisionDeviceKey: KEY, provisionDeviceSecret: SECRET,
        provisionTimeoutMs: 1500, connectTimeoutMs: 1500, backoff: { baseMs: 20, capMs: 150 },
      });
      agent.start();
      if (reprovision === "strict") {
        try {
          await until("FAILURE with the operator hint", () => agent.state === "waiting" && sink.lines.some((l) => l.includes("Provisioning refused: FAILURE")), 3000);
        } catch (e) {
          agent.stop();
          console.log(sink.lines.join("\n"));
          throw e;
        }
        agent.stop();
        const line = sink.lines.find((l) => l.includes("Provisioning refused: FAILURE"))!;
        expect(line).toMatch(/An earlier provision response was lost.*An operator must reset the provisionState of "pre-lost-strict"/);
        expect(agent.stats.connects).toBe(0);
        // The pending token was tried first and refused; the second request was refused.
        expect(sink.lines.some((l) => l.includes("refused the pending credentials"))).toBe(true);
        expect(agent.stats.provisionRequests).toBe(2);
      } else {
        await until("online", () => agent.state === "online");
        agent.stop();
        expect(agent.credentials?.credentials).toEqual({ type: "ACCESS_TOKEN", token });
        expect(agent.stats.provisionRequests).toBe(2);
      }
      expect(proxy.cuts).toBe(1);
      expect(pre.store.listDevices()).toHaveLength(1);
      for (const secret of [SECRET, KEY, token]) expect(sink.lines.filter((l) => l.includes(secret))).toEqual([]);
    } finally {
      await proxy.close();
      await pre.close();
    }
  });
});
