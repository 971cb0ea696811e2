/**
 * MQTT round trips after the transport is up, through a proxy that delays each direction (bench/delay-proxy.ts),
 * against the emulator (in-process, real sockets on 127.0.0.1):
 * - ours: DeviceAgent first boot (provision session: transport open → provision response) and reboot from stored
 *   credentials (device session: transport open → PUBACK of the first telemetry, which was queued at start);
 * - reference, the same SDK MqttClient used the way the usual SDKs do, one step at a time: connect → wait CONNACK
 *   → subscribe → wait SUBACK → publish → wait response; and connect → wait CONNACK → publish → wait PUBACK.
 *
 * Two counts per case:
 * - timed: (ms from the client's transport open to the awaited packet arriving at the client) / (2 × delay), rounded;
 * - structural (`*_waits`): client-side, every write and every received chunk is decoded (with mqtt-packet, not our
 *   codec); a "wait" is a write that follows at least one packet from the server (or the first write), counted up
 *   to the awaited packet: the number of times the client sent a flight and then had to hear from the server.
 * `*_exchange` shows the packets up to the awaited one ("→" client to server, "←" server to client, "|" a turn).
 * Each case runs 3 times (after one warm-up run that is not counted); the figures are medians.
 */
import * as mqttPacket from "mqtt-packet";
import { CredentialStore } from "../src/credentials/store.js";
import { DeviceAgent } from "../src/device/agent.js";
import { Log } from "../src/log.js";
import { MqttClient } from "../src/mqtt/client.js";
import type { KeyValueStore, LogSink, TransportConnector } from "../src/ports.js";
import { generateAccessToken, provisionRequestBytes } from "../src/thingsboard/provision-request.js";
import { PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, PROVISION_USERNAME, TELEMETRY_TOPIC } from "../src/thingsboard/topics.js";
import { cryptoRandom, systemClock, tcpConnector } from "../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../tools/emulator/index.js";
import { startDelayProxy, type DelayProxy } from "./delay-proxy.js";

export interface RoundTripRow {
  ours_round_trips: number;
  reference_round_trips: number;
  /** reference / ours (higher is better for us). */
  ratio: number | null;
  ours_ms: number;
  reference_ms: number;
  delay_ms: number;
  ours_waits: number;
  reference_waits: number;
  ours_exchange: string;
  reference_exchange: string;
}

export interface RoundTripsResult {
  provisioning: RoundTripRow;
  reconnect_first_telemetry: RoundTripRow;
  /** First boot to the first telemetry PUBACK: provision session + device session (MQTT round trips summed). */
  first_boot_first_telemetry: RoundTripRow;
  config: { delay_ms: number; repeats: number; statistic: string; transport: string; server: string };
}

const KEY = "bench-rt-provision-key";
const SECRET = "bench-rt-provision-secret";
const REPEATS = 3;
const TIMEOUT_MS = 15_000;

const nullSink: LogSink = { write: () => undefined };

class MapKeyValueStore implements KeyValueStore {
  readonly map = new Map<string, Uint8Array>();
  get(key: string): Uint8Array | undefined {
    const v = this.map.get(key);
    return v === undefined ? undefined : v.slice();
  }
  set(key: string, value: Uint8Array): void {
    this.map.set(key, value.slice());
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

// ---- client-side trace ----------------------------------------------------------------------------

type Dir = "out" | "in";
interface TraceEntry {
  at: number;
  dir: Dir;
  packets: mqttPacket.Packet[];
}
interface Trace {
  openAt: number | undefined;
  entries: TraceEntry[];
}

/** Wraps a connector: records when the transport opened, and every write / received chunk, decoded. */
function traced(inner: TransportConnector, trace: Trace): TransportConnector {
  return (events) => {
    const outParser = mqttPacket.parser({ protocolVersion: 4 });
    const inParser = mqttPacket.parser({ protocolVersion: 4 });
    let decoded: mqttPacket.Packet[] = [];
    const collect = (p: mqttPacket.Packet) => decoded.push(p);
    outParser.on("packet", collect);
    inParser.on("packet", collect);
    const record = (dir: Dir, chunk: Uint8Array) => {
      const at = performance.now();
      decoded = [];
      (dir === "out" ? outParser : inParser).parse(Buffer.from(chunk)); // a copy: the chunk is only lent
      trace.entries.push({ at, dir, packets: decoded });
    };
    const transport = inner({
      onOpen: () => {
        trace.openAt = performance.now();
        events.onOpen();
      },
      onData: (chunk) => {
        record("in", chunk);
        events.onData(chunk);
      },
      onClose: (info) => events.onClose(info),
    });
    return {
      write: (chunk) => {
        record("out", chunk);
        transport.write(chunk);
      },
      close: () => transport.close(),
    };
  };
}

interface Measured {
  ms: number;
  waits: number;
  exchange: string;
}

/** Time and waits from transport open to the first received packet matching `target`. */
function measure(trace: Trace, target: (p: mqttPacket.Packet) => boolean, what: string): Measured {
  if (trace.openAt === undefined) throw new Error(`${what}: the transport never opened`);
  let waits = 0;
  let heardSinceWrite = true;
  const turns: string[] = [];
  let lastDir: Dir | undefined;
  for (const e of trace.entries) {
    if (e.packets.length === 0) continue;
    if (e.dir === "out") {
      if (heardSinceWrite) waits++;
      heardSinceWrite = false;
    } else heardSinceWrite = true;
    const names: string[] = [];
    let hit = false;
    for (const p of e.packets) {
      names.push(p.cmd.toUpperCase());
      if (e.dir === "in" && target(p)) {
        hit = true;
        break;
      }
    }
    if (e.dir === lastDir) turns[turns.length - 1] += " " + names.join(" ");
    else turns.push((e.dir === "out" ? "→ " : "← ") + names.join(" "));
    lastDir = e.dir;
    if (hit) return { ms: e.at - trace.openAt, waits, exchange: turns.join(" | ") };
  }
  throw new Error(`${what}: the awaited packet never arrived`);
}

const isProvisionResponse = (p: mqttPacket.Packet) => p.cmd === "publish" && (p as mqttPacket.IPublishPacket).topic === PROVISION_RESPONSE_TOPIC;
const isPuback = (p: mqttPacket.Packet) => p.cmd === "puback";

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- the cases ------------------------------------------------------------------------------------

interface Env {
  proxy: DelayProxy;
  clock: ReturnType<typeof systemClock>;
  counter: number;
}

function connector(env: Env, trace: Trace): TransportConnector {
  return traced(tcpConnector({ host: "127.0.0.1", port: env.proxy.port }), trace);
}

interface OursRun {
  provisioning: Measured;
  firstBootDevice: Measured;
  reconnect: Measured;
}

/** Runs the agent until one telemetry message queued at start is acked; returns its session traces. */
async function runAgent(env: Env, kv: MapKeyValueStore, name: string): Promise<{ traces: { label: string; trace: Trace }[]; agent: DeviceAgent }> {
  const traces: { label: string; trace: Trace }[] = [];
  const agent = new DeviceAgent({
    server: { host: "127.0.0.1", port: env.proxy.port },
    connect: (_endpoint, credentials) => {
      const trace: Trace = { openAt: undefined, entries: [] };
      traces.push({ label: credentials ? "device" : "provision", trace });
      return connector(env, trace);
    },
    clock: env.clock,
    random: cryptoRandom(),
    store: new CredentialStore(kv),
    log: new Log(nullSink, env.clock, { level: "E" }),
    deviceName: name,
    provisionDeviceKey: KEY,
    provisionDeviceSecret: SECRET,
    provisionTimeoutMs: TIMEOUT_MS,
    backoff: { baseMs: 50, capMs: 500, maxAttempts: 3 },
    epochMs: () => Date.now(),
  });
  try {
    const acked = new Promise<void>((resolve, reject) => {
      agent.start();
      // Sampled right after boot, as firmware does: queued, it leaves with the device session's CONNECT.
      agent.sendTelemetry({ temperature: 21.5 }, (fate) => (fate === "acked" ? resolve() : reject(new Error(`telemetry ${fate}`))));
    });
    await withTimeout(acked, `agent ${name}`);
  } finally {
    agent.stop();
  }
  return { traces, agent };
}

function only(traces: { label: string; trace: Trace }[], label: string, what: string): Trace {
  const t = traces.filter((x) => x.label === label);
  if (t.length !== 1) throw new Error(`${what}: expected exactly one ${label} session, got ${t.length}`);
  return t[0].trace;
}

async function oursOnce(env: Env): Promise<OursRun> {
  const kv = new MapKeyValueStore();
  const name = `bench-rt-ours-${++env.counter}`;
  const first = await runAgent(env, kv, name);
  const provisioning = measure(only(first.traces, "provision", "first boot"), isProvisionResponse, "first boot provisioning");
  const firstBootDevice = measure(only(first.traces, "device", "first boot"), isPuback, "first boot telemetry");
  // Reboot: a new agent over the same flash.
  const second = await runAgent(env, kv, name);
  if (second.agent.stats.provisionRequests !== 0) throw new Error("reboot: the agent provisioned again");
  const reconnect = measure(only(second.traces, "device", "reboot"), isPuback, "reboot telemetry");
  return { provisioning, firstBootDevice, reconnect };
}

interface ReferenceRun {
  provisioning: Measured;
  reconnect: Measured;
}

/** The same MqttClient, one step at a time, as the usual SDKs and ThingsBoard's provisioning examples do. */
async function referenceOnce(env: Env): Promise<ReferenceRun> {
  const name = `bench-rt-ref-${++env.counter}`;
  const token = generateAccessToken(cryptoRandom(), 20);
  const provTrace: Trace = { openAt: undefined, entries: [] };
  let gotResponse: () => void = () => undefined;
  const response = new Promise<void>((resolve) => (gotResponse = resolve));
  const prov = new MqttClient({
    connector: connector(env, provTrace),
    clock: env.clock,
    clientId: name,
    username: PROVISION_USERNAME,
    onMessage: (m) => {
      if (m.topic === PROVISION_RESPONSE_TOPIC) gotResponse();
    },
  });
  try {
    await withTimeout((async () => {
      await prov.connect(); // wait CONNACK
      await prov.subscribe(PROVISION_RESPONSE_TOPIC, 1); // wait SUBACK
      const bytes = provisionRequestBytes({
        provisionDeviceKey: KEY,
        provisionDeviceSecret: SECRET,
        deviceName: name,
        credentials: { type: "ACCESS_TOKEN", token },
      });
      prov.publishWithCallback(PROVISION_REQUEST_TOPIC, bytes, { qos: 1 }, () => undefined);
      await response; // wait for the response (its PUBACK comes just before it)
    })(), "reference provisioning");
  } finally {
    prov.close();
  }

  const devTrace: Trace = { openAt: undefined, entries: [] };
  const dev = new MqttClient({ connector: connector(env, devTrace), clock: env.clock, clientId: name, username: token });
  try {
    await withTimeout((async () => {
      await dev.connect(); // wait CONNACK
      await dev.publish(TELEMETRY_TOPIC, new TextEncoder().encode(JSON.stringify({ ts: Date.now(), values: { temperature: 21.5 } })), { qos: 1 }); // wait PUBACK
    })(), "reference reconnect");
  } finally {
    dev.close();
  }
  return {
    provisioning: measure(provTrace, isProvisionResponse, "reference provisioning"),
    reconnect: measure(devTrace, isPuback, "reference reconnect"),
  };
}

// ---- aggregation ----------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function row(ours: Measured[], reference: Measured[], delayMs: number): RoundTripRow {
  const oursMs = median(ours.map((m) => m.ms));
  const refMs = median(reference.map((m) => m.ms));
  const oursRt = Math.round(oursMs / (2 * delayMs));
  const refRt = Math.round(refMs / (2 * delayMs));
  return {
    ours_round_trips: oursRt,
    reference_round_trips: refRt,
    ratio: oursRt > 0 ? refRt / oursRt : null,
    ours_ms: Math.round(oursMs * 10) / 10,
    reference_ms: Math.round(refMs * 10) / 10,
    delay_ms: delayMs,
    ours_waits: median(ours.map((m) => m.waits)),
    reference_waits: median(reference.map((m) => m.waits)),
    ours_exchange: ours[ours.length - 1].exchange,
    reference_exchange: reference[reference.length - 1].exchange,
  };
}

function sum(a: Measured, b: Measured): Measured {
  return { ms: a.ms + b.ms, waits: a.waits + b.waits, exchange: `${a.exchange} || ${b.exchange}` };
}

export async function benchRoundTrips(options: { delayMs?: number; repeats?: number } = {}): Promise<RoundTripsResult> {
  const delayMs = options.delayMs ?? 50;
  const repeats = options.repeats ?? REPEATS;
  const clock = systemClock();
  let emulator: RunningEmulator | undefined;
  let proxy: DelayProxy | undefined;
  try {
    emulator = await startEmulator({
      bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision: "strict", provisionCloseMs: 200,
      log: new Log(nullSink, clock, { level: "E" }),
      config: { profiles: [{ name: "bench-rt", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }] },
    });
    proxy = await startDelayProxy({ host: "127.0.0.1", port: emulator.mqttPort }, delayMs);
    const env: Env = { proxy, clock, counter: 0 };

    // Warm-up (JIT, the emulator's first use): not counted.
    await oursOnce(env);
    await referenceOnce(env);

    const ours: OursRun[] = [];
    const reference: ReferenceRun[] = [];
    for (let i = 0; i < repeats; i++) {
      // Alternate the order so neither side always runs first.
      if (i % 2 === 0) {
        ours.push(await oursOnce(env));
        reference.push(await referenceOnce(env));
      } else {
        reference.push(await referenceOnce(env));
        ours.push(await oursOnce(env));
      }
    }
    return {
      provisioning: row(ours.map((r) => r.provisioning), reference.map((r) => r.provisioning), delayMs),
      reconnect_first_telemetry: row(ours.map((r) => r.reconnect), reference.map((r) => r.reconnect), delayMs),
      first_boot_first_telemetry: row(
        ours.map((r) => sum(r.provisioning, r.firstBootDevice)),
        reference.map((r) => sum(r.provisioning, r.reconnect)),
        delayMs,
      ),
      config: {
        delay_ms: delayMs,
        repeats,
        statistic: "median",
        transport: "TCP on 127.0.0.1 through a proxy delaying each direction",
        server: "emulator (in-process), profile ALLOW_CREATE_NEW_DEVICES",
      },
    };
  } finally {
    await proxy?.close();
    await emulator?.close();
  }
}
