/**
 * Emulator load: provisions/s and telemetry messages/s the emulator sustains, driven by plain MQTT clients.
 *
 * The emulator runs in a child process (bench/emulator-load-server.ts), the load generator here, so each gets a
 * core of a 2-core machine. Clients are raw `net` sockets speaking MQTT 3.1.1 through `mqtt-packet` (generate
 * and parse), so the generator costs as little as a standard client can:
 * - phase 1 (provision): N devices, at most `provisionConcurrency` in flight; each opens a connection and writes
 *   CONNECT (username "provision") + SUBSCRIBE /provision/response + PUBLISH /provision/request (QoS 1, a
 *   device-chosen ACCESS_TOKEN and a unique name) in one write, waits for the response PUBLISH, checks it is the
 *   exact SUCCESS string, then acknowledges it and disconnects. Latency: CONNECT written → response received.
 * - phase 2a (connect): the N devices connect with their tokens, at most `connectConcurrency` in flight.
 * - phase 2b (telemetry): every device sends `messagesPerDevice` QoS 1 telemetry messages, at most `window` in
 *   flight per connection. Latency: PUBLISH written → PUBACK received.
 * One warm-up round (cold JIT in both processes, reported apart) is followed by `rounds` measured rounds, each with
 * fresh devices; each row is the median round. Every phase also records the CPU the server child, this process and
 * the rest of the machine (from /proc/stat) used: on a shared 2-core machine other load takes the server's core,
 * so `other_cpu` says how far a figure was disturbed, `quiet_median` is the median over undisturbed rounds, and
 * `server_cpu_us_per_op` is the server's own cost per operation, which bounds its rate whatever else runs.
 * At the end the server is asked (REST for the device count, IPC for the stored points) whether everything the
 * clients were told succeeded really happened; any failure throws. Every loop is bounded in count and every
 * phase in time; the child is stopped on success and on error.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as mqttPacket from "mqtt-packet";
import { BENCH_PROVISION_KEY, BENCH_PROVISION_SECRET, BENCH_SEQ_KEY, type ServerReady, type ServerStats } from "./emulator-load-server.js";

export interface EmulatorLoadOptions {
  devices: number;
  provisionConcurrency: number;
  connectConcurrency: number;
  messagesPerDevice: number;
  window: number;
  /** Upper bound of each phase; a phase that runs out counts its unfinished operations as failures. */
  phaseTimeoutMs: number;
  /** Each round provisions, connects and runs telemetry for `devices` fresh devices; the median round is reported. */
  rounds: number;
  /** Rounds run first and reported apart (JIT warm-up of server and client). */
  warmupRounds: number;
  /** Extra node flags for the server child (e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]). */
  serverExecArgv: string[];
}

export const DEFAULT_EMULATOR_LOAD_OPTIONS: EmulatorLoadOptions = {
  devices: 2000,
  provisionConcurrency: 200,
  connectConcurrency: 200,
  messagesPerDevice: 10,
  window: 10,
  phaseTimeoutMs: 15_000,
  rounds: 5,
  warmupRounds: 1,
  serverExecArgv: [],
};

export interface RateRow {
  value: number;
  target: number | null;
  ratio: number | null;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  ok: number;
  failed: number;
  elapsed_ms: number;
  concurrency: number;
  /** CPU the server child used during the phase, as a share of one core (1.0 = one core busy all the time). */
  server_cpu: number;
  /** CPU the load generator (this process) used during the phase, as a share of one core. */
  client_cpu: number;
  /** CPU the rest of the machine used during the phase (cores; null where /proc/stat is absent): other load skews the figures. */
  other_cpu: number | null;
  /** Server CPU time per operation in µs (all its threads): the cost that bounds the rate, whatever else runs. */
  server_cpu_us_per_op: number | null;
  /** The value of every measured round (the row shows the median round). */
  rounds?: number[];
  /** Median over the rounds in which the rest of the machine stayed under QUIET_OTHER_CPU cores (null: none). */
  quiet_median?: number | null;
  rounds_other_cpu?: (number | null)[];
  rounds_server_cpu_us_per_op?: number[];
  /** The value of each warm-up round (cold JIT in both processes; not in the median). */
  warmup_rounds?: number[];
}

export interface EmulatorLoadResult {
  provisions_per_s: RateRow;
  connects_per_s: RateRow;
  telemetry_msgs_per_s: RateRow;
  config: { devices: number; rounds: number; warmup_rounds: number; provision_concurrency: number; connect_concurrency: number; messages_per_device: number; window: number; transport: string; client: string };
  check: { devices_on_server: number; telemetry_points_on_server: number; expected_devices: number; expected_points: number; ok: boolean };
  server: { heap_used_mb: number; rss_mb: number };
}

const PROVISION_REQUEST_TOPIC = "/provision/request";
const PROVISION_RESPONSE_TOPIC = "/provision/response";
const TELEMETRY_TOPIC = "v1/devices/me/telemetry";

// ---------------------------------------------------------------------------------------------------------------
// Server child

interface ServerChild {
  ready: ServerReady;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

async function startServerChild(execArgv: string[]): Promise<ServerChild> {
  const entry = path.join(__dirname, "emulator-load-server.js");
  const child: ChildProcess = fork(entry, [], { stdio: ["ignore", "pipe", "inherit", "ipc"], execArgv });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => fail(new Error("emulator child did not start within 15 s")), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    const onEarlyExit = (code: number | null) => fail(new Error(`emulator child exited early (code ${code})`));
    child.once("exit", onEarlyExit);
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.off("exit", onEarlyExit);
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ServerReady);
      } catch (e) {
        fail(e as Error);
      }
    });
  });
  child.stdout!.resume();
  return {
    ready,
    stats: () =>
      new Promise<ServerStats>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("emulator child did not answer stats within 10 s")), 10_000);
        const onMessage = (m: { stats?: ServerStats }) => {
          if (!m?.stats) return;
          clearTimeout(timer);
          child.off("message", onMessage);
          resolve(m.stats);
        };
        child.on("message", onMessage);
        child.send({ cmd: "stats" });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.send({ cmd: "stop" });
      } catch {
        // IPC already gone
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement helpers

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

interface PhaseResult {
  ok: number;
  failed: number;
  elapsedMs: number;
  latencies: Float64Array;
  serverCpuMs: number;
  clientCpuMs: number;
  /** CPU the rest of the machine used meanwhile (other processes, kernel), when /proc/stat can tell. */
  otherCpuMs?: number;
  firstError?: string;
}

function rateRow(r: PhaseResult, target: number | null, concurrency: number): RateRow {
  const sorted = r.latencies.slice().sort();
  const value = r.elapsedMs > 0 ? (r.ok * 1000) / r.elapsedMs : 0;
  return {
    value: Math.round(value),
    target,
    ratio: target ? round(value / target) : null,
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.length ? sorted[sorted.length - 1] : NaN),
    ok: r.ok,
    failed: r.failed,
    elapsed_ms: Math.round(r.elapsedMs),
    concurrency,
    server_cpu: round(r.serverCpuMs / r.elapsedMs),
    client_cpu: round(r.clientCpuMs / r.elapsedMs),
    other_cpu: r.otherCpuMs === undefined ? null : round(r.otherCpuMs / r.elapsedMs),
    server_cpu_us_per_op: r.ok ? Math.round((r.serverCpuMs * 1000) / r.ok) : null,
  };
}

/** Busy CPU time of the whole machine in ms (Linux /proc/stat; undefined elsewhere). */
function machineBusyMs(): number | undefined {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) * 10; // USER_HZ = 100
  } catch {
    return undefined;
  }
}

/** Runs `phase`, measuring wall time and the CPU both processes (and the rest of the machine) spent in it. */
async function measured(server: ServerChild, phase: () => Promise<Omit<PhaseResult, "serverCpuMs" | "clientCpuMs" | "otherCpuMs">>): Promise<PhaseResult> {
  const s0 = await server.stats();
  const m0 = machineBusyMs();
  const c0 = process.cpuUsage();
  const r = await phase();
  const c1 = process.cpuUsage(c0);
  const m1 = machineBusyMs();
  const s1 = await server.stats();
  const serverCpuMs = s1.cpuUserMs + s1.cpuSystemMs - s0.cpuUserMs - s0.cpuSystemMs;
  const clientCpuMs = (c1.user + c1.system) / 1000;
  return {
    ...r,
    serverCpuMs,
    clientCpuMs,
    ...(m0 !== undefined && m1 !== undefined ? { otherCpuMs: Math.max(0, m1 - m0 - serverCpuMs - clientCpuMs) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw MQTT connections

/** One client connection: a socket and an mqtt-packet parser. */
class RawConnection {
  /** Sockets opened and not yet closed, over all connections. */
  static open = 0;
  readonly socket: net.Socket;
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  closed = false;
  error: string | undefined;

  constructor(port: number, onPacket: (p: mqttPacket.Packet) => void, onClose: () => void) {
    this.socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
    RawConnection.open++;
    this.parser.on("packet", onPacket);
    this.parser.on("error", (e: Error) => {
      this.error ??= `parse error: ${e.message}`;
      this.socket.destroy();
    });
    this.socket.on("data", (d: Buffer) => this.parser.parse(d));
    this.socket.on("error", (e) => {
      this.error ??= e.message;
    });
    this.socket.on("close", () => {
      this.closed = true;
      RawConnection.open--;
      onClose();
    });
  }

  write(buf: Buffer): void {
    if (!this.closed) this.socket.write(buf);
  }

  end(): void {
    if (this.closed) return;
    this.socket.end(DISCONNECT);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const DISCONNECT = mqttPacket.generate({ cmd: "disconnect" });

function deviceName(run: string, i: number): string {
  return `bench-${run}-${i}`;
}

function deviceToken(run: string, i: number): string {
  return `bench-token-${run}-${i}`;
}

/**
 * Runs `total` tasks with at most `concurrency` in flight; each task calls `done(ok, latencyMs, error?)` once.
 * Resolves when every task finished or `timeoutMs` passed (unfinished tasks count as failed and are aborted).
 */
function runBounded(
  total: number,
  concurrency: number,
  timeoutMs: number,
  start: (i: number, done: (ok: boolean, latencyMs: number, error?: string) => void) => () => void,
): Promise<Omit<PhaseResult, "serverCpuMs" | "clientCpuMs">> {
  return new Promise((resolve) => {
    const latencies = new Float64Array(total);
    let ok = 0;
    let failed = 0;
    let next = 0;
    let inFlight = 0;
    let firstError: string | undefined;
    const aborts = new Map<number, () => void>();
    const t0 = performance.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const elapsedMs = performance.now() - t0;
      for (const abort of aborts.values()) abort();
      failed += aborts.size + (total - next);
      resolve({ ok, failed, elapsedMs, latencies: latencies.subarray(0, ok), ...(firstError ? { firstError } : {}) });
    };
    const timer = setTimeout(() => {
      firstError ??= `phase timed out after ${timeoutMs} ms`;
      finish();
    }, timeoutMs);
    const launch = () => {
      while (!finished && inFlight < concurrency && next < total) {
        const i = next++;
        inFlight++;
        let settled = false;
        const abort = start(i, (success, latencyMs, error) => {
          if (settled || finished) return;
          settled = true;
          aborts.delete(i);
          inFlight--;
          if (success) latencies[ok++] = latencyMs;
          else {
            failed++;
            firstError ??= error ?? "failed";
          }
          if (ok + failed === total) finish();
          else launch();
        });
        if (!settled) aborts.set(i, abort);
      }
    };
    launch();
  });
}

function provisionPhase(port: number, run: string, o: EmulatorLoadOptions) {
  return runBounded(o.devices, o.provisionConcurrency, o.phaseTimeoutMs, (i, done) => {
    const name = deviceName(run, i);
    const token = deviceToken(run, i);
    const expected = `{"credentialsValue":"${token}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`;
    const request = JSON.stringify({
      deviceName: name,
      provisionDeviceKey: BENCH_PROVISION_KEY,
      provisionDeviceSecret: BENCH_PROVISION_SECRET,
      credentialsType: "ACCESS_TOKEN",
      token,
    });
    let sentAt = 0;
    let answered = false;
    const conn: RawConnection = new RawConnection(
      port,
      (p) => {
        if (p.cmd === "connack" && p.returnCode !== 0) return done(false, 0, `provision CONNACK ${p.returnCode}`);
        if (p.cmd !== "publish") return;
        const latency = performance.now() - sentAt;
        answered = true;
        if (p.topic !== PROVISION_RESPONSE_TOPIC) return done(false, 0, `unexpected topic ${p.topic}`);
        const body = p.payload.toString();
        if (p.qos > 0) conn.write(mqttPacket.generate({ cmd: "puback", messageId: p.messageId! }));
        conn.end();
        if (body !== expected) return done(false, 0, `provision response ${body}`);
        done(true, latency);
      },
      () => {
        if (!answered) done(false, 0, conn.error ?? "provision connection closed before the response");
      },
    );
    conn.socket.once("connect", () => {
      const bytes = Buffer.concat([
        mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: `bench-prov-${i}`, username: "provision", clean: true, keepalive: 60 }),
        mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: PROVISION_RESPONSE_TOPIC, qos: 1 }] }),
        mqttPacket.generate({ cmd: "publish", topic: PROVISION_REQUEST_TOPIC, payload: Buffer.from(request), qos: 1, messageId: 2, retain: false, dup: false }),
      ]);
      sentAt = performance.now();
      conn.write(bytes);
    });
    return () => conn.destroy();
  });
}

interface DeviceSession {
  conn: RawConnection;
  index: number;
}

async function connectPhase(port: number, run: string, o: EmulatorLoadOptions, sessions: (DeviceSession | undefined)[], onPublishAck: (s: DeviceSession, messageId: number) => void) {
  return runBounded(o.devices, o.connectConcurrency, o.phaseTimeoutMs, (i, done) => {
    let sentAt = 0;
    let connected = false;
    const session: DeviceSession = { conn: undefined as unknown as RawConnection, index: i };
    session.conn = new RawConnection(
      port,
      (p) => {
        if (p.cmd === "connack") {
          if (p.returnCode !== 0) return done(false, 0, `device CONNACK ${p.returnCode}`);
          connected = true;
          sessions[i] = session;
          done(true, performance.now() - sentAt);
        } else if (p.cmd === "puback") {
          onPublishAck(session, p.messageId!);
        }
      },
      () => {
        sessions[i] = undefined;
        if (!connected) done(false, 0, session.conn.error ?? "device connection closed before CONNACK");
      },
    );
    session.conn.socket.once("connect", () => {
      sentAt = performance.now();
      session.conn.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: `bench-dev-${i}`, username: deviceToken(run, i), clean: true, keepalive: 60 }));
    });
    return () => session.conn.destroy();
  });
}

/** Every connected device sends `messagesPerDevice` QoS 1 messages, `window` in flight; resolves on the last PUBACK or the timeout. */
function telemetryPhase(
  sessions: (DeviceSession | undefined)[],
  o: EmulatorLoadOptions,
  setAckHandler: (h: (s: DeviceSession, messageId: number) => void) => void,
): Promise<Omit<PhaseResult, "serverCpuMs" | "clientCpuMs">> {
  return new Promise((resolve) => {
    const n = o.devices;
    const m = o.messagesPerDevice;
    const total = n * m;
    const sentAt = new Float64Array(total);
    const acked = new Uint8Array(total);
    const sentCount = new Uint32Array(n);
    const latencies = new Float64Array(total);
    const baseTs = Date.now() - 3_600_000;
    let ok = 0;
    let failed = 0;
    let firstError: string | undefined;
    let finished = false;
    const publishBytes = (i: number, k: number): Buffer =>
      mqttPacket.generate({
        cmd: "publish",
        topic: TELEMETRY_TOPIC,
        // An explicit ts per message, so every message is a distinct stored point the final check can count.
        payload: Buffer.from(`{"ts":${baseTs + k},"values":{"${BENCH_SEQ_KEY}":${k},"temperature":${20 + (k % 10) / 10},"humidity":${40 + (i % 20)}}}`),
        qos: 1,
        messageId: k + 1,
        retain: false,
        dup: false,
      });
    const sendMore = (s: DeviceSession, limit: number) => {
      const i = s.index;
      const chunks: Buffer[] = [];
      const now = performance.now();
      while (sentCount[i] < m && chunks.length < limit) {
        const k = sentCount[i]++;
        sentAt[i * m + k] = now;
        chunks.push(publishBytes(i, k));
      }
      if (chunks.length) s.conn.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const t0 = performance.now();
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      setAckHandler(() => {});
      failed = total - ok;
      resolve({ ok, failed, elapsedMs: performance.now() - t0, latencies: latencies.subarray(0, ok), ...(firstError ? { firstError } : {}) });
    };
    const timer = setTimeout(() => {
      firstError ??= `telemetry phase timed out after ${o.phaseTimeoutMs} ms`;
      finish();
    }, o.phaseTimeoutMs);
    setAckHandler((s, messageId) => {
      const k = messageId - 1;
      const slot = s.index * m + k;
      if (k < 0 || k >= m || acked[slot]) {
        firstError ??= `unexpected PUBACK ${messageId}`;
        return;
      }
      acked[slot] = 1;
      latencies[ok++] = performance.now() - sentAt[slot];
      if (ok === total) return finish();
      sendMore(s, 1);
    });
    let live = 0;
    for (let i = 0; i < n; i++) {
      const s = sessions[i];
      if (!s) continue;
      live++;
      s.conn.socket.once("close", () => {
        if (finished) return;
        firstError ??= `device ${i} disconnected during telemetry: ${s.conn.error ?? "closed by server"}`;
      });
      sendMore(s, o.window);
    }
    if (live === 0) {
      firstError = "no device connected";
      finish();
    } else if (total === 0) finish();
  });
}

async function restDeviceCount(httpPort: number): Promise<number> {
  const base = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
    signal: AbortSignal.timeout(10_000),
  });
  const { token } = (await login.json()) as { token: string };
  const r = await fetch(`${base}/api/tenant/devices?pageSize=1&page=0`, { headers: { "X-Authorization": `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  const body = (await r.json()) as { totalElements: number };
  return body.totalElements;
}

// ---------------------------------------------------------------------------------------------------------------

/** Resolves once every client socket opened so far has closed, or after `timeoutMs`. */
async function socketsClosed(timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (RawConnection.open > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** Rounds during which the rest of the machine used at most this many cores count as undisturbed. */
export const QUIET_OTHER_CPU = 0.25;

/** Median rate over the undisturbed rounds only; null when /proc/stat is unavailable or no round was quiet. */
function quietMedian(results: PhaseResult[]): number | null {
  const quiet = results.filter((r) => r.otherCpuMs !== undefined && r.otherCpuMs / r.elapsedMs <= QUIET_OTHER_CPU);
  if (quiet.length === 0) return null;
  const m = median(quiet, (r) => r.ok / r.elapsedMs);
  return Math.round((m.ok * 1000) / m.elapsedMs);
}

function median<T>(rounds: T[], key: (r: T) => number): T {
  return [...rounds].sort((a, b) => key(a) - key(b))[Math.floor(rounds.length / 2)];
}

export async function benchEmulatorLoad(options: Partial<EmulatorLoadOptions> = {}): Promise<EmulatorLoadResult> {
  const o: EmulatorLoadOptions = { ...DEFAULT_EMULATOR_LOAD_OPTIONS, ...options };
  const server = await startServerChild(o.serverExecArgv);
  let sessions: (DeviceSession | undefined)[] = [];
  try {
    const port = server.ready.mqttPort;
    const rounds: { provision: PhaseResult; connect: PhaseResult; telemetry: PhaseResult }[] = [];
    const warmup: typeof rounds = [];
    for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
      const run = `${Date.now().toString(36)}-${round}`;
      const provision = await measured(server, () => provisionPhase(port, run, o));
      if (provision.ok !== o.devices) throw new Error(`provisioning: ${provision.failed} of ${o.devices} failed (${provision.firstError})`);
      await socketsClosed(5000);

      sessions = new Array(o.devices);
      let ackHandler: (s: DeviceSession, messageId: number) => void = () => {};
      const connect = await measured(server, () => connectPhase(port, run, o, sessions, (s, id) => ackHandler(s, id)));
      if (connect.ok !== o.devices) throw new Error(`connecting: ${connect.failed} of ${o.devices} failed (${connect.firstError})`);

      const telemetry = await measured(server, () => telemetryPhase(sessions, o, (h) => (ackHandler = h)));
      if (telemetry.failed > 0) throw new Error(`telemetry: ${telemetry.failed} of ${o.devices * o.messagesPerDevice} not acknowledged (${telemetry.firstError})`);

      for (const s of sessions) s?.conn.end();
      await socketsClosed(5000);
      (round < o.warmupRounds ? warmup : rounds).push({ provision, connect, telemetry });
    }

    const stats = await server.stats();
    const devicesOnServer = await restDeviceCount(server.ready.httpPort);
    const expectedDevices = (o.warmupRounds + o.rounds) * o.devices;
    const expectedPoints = expectedDevices * o.messagesPerDevice;
    const check = {
      devices_on_server: devicesOnServer,
      telemetry_points_on_server: stats.seqPoints,
      expected_devices: expectedDevices,
      expected_points: expectedPoints,
      ok: devicesOnServer === expectedDevices && stats.seqPoints === expectedPoints,
    };
    if (!check.ok) throw new Error(`server state check failed: ${JSON.stringify(check)}`);
    const rate = (r: PhaseResult) => r.ok / r.elapsedMs;
    const pick = (phase: "provision" | "connect" | "telemetry", target: number | null, concurrency: number): RateRow => ({
      ...rateRow(median(rounds.map((r) => r[phase]), rate), target, concurrency),
      rounds: rounds.map((r) => Math.round(rate(r[phase]) * 1000)),
      quiet_median: quietMedian(rounds.map((r) => r[phase])),
      warmup_rounds: warmup.map((r) => Math.round(rate(r[phase]) * 1000)),
      rounds_other_cpu: rounds.map((r) => (r[phase].otherCpuMs === undefined ? null : round(r[phase].otherCpuMs! / r[phase].elapsedMs))),
      rounds_server_cpu_us_per_op: rounds.map((r) => Math.round((r[phase].serverCpuMs * 1000) / r[phase].ok)),
    });
    return {
      provisions_per_s: pick("provision", 1000, o.provisionConcurrency),
      connects_per_s: pick("connect", null, o.connectConcurrency),
      telemetry_msgs_per_s: pick("telemetry", 20000, o.window),
      config: {
        devices: o.devices,
        rounds: o.rounds,
        warmup_rounds: o.warmupRounds,
        provision_concurrency: o.provisionConcurrency,
        connect_concurrency: o.connectConcurrency,
        messages_per_device: o.messagesPerDevice,
        window: o.window,
        transport: "plain TCP, 127.0.0.1",
        client: "raw net sockets + mqtt-packet (MQTT 3.1.1)",
      },
      check,
      server: { heap_used_mb: round(stats.heapUsedMb, 1), rss_mb: round(stats.rssMb, 1) },
    };
  } finally {
    for (const s of sessions) s?.conn.destroy();
    await server.stop();
  }
}

/** `node dist/bench/emulator-load.js [--devices N] [--window W] [--messages M] [--concurrency C] [--rounds R] [--warmup W] [--server-prof DIR]`: one JSON object. */
if (require.main === module) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  const prof = arg("--server-prof");
  const options: Partial<EmulatorLoadOptions> = {
    ...(num("--devices") !== undefined ? { devices: num("--devices")! } : {}),
    ...(num("--window") !== undefined ? { window: num("--window")! } : {}),
    ...(num("--messages") !== undefined ? { messagesPerDevice: num("--messages")! } : {}),
    ...(num("--rounds") !== undefined ? { rounds: num("--rounds")! } : {}),
    ...(num("--warmup") !== undefined ? { warmupRounds: num("--warmup")! } : {}),
    ...(num("--concurrency") !== undefined ? { provisionConcurrency: num("--concurrency")!, connectConcurrency: num("--concurrency")! } : {}),
    ...(prof ? { serverExecArgv: ["--cpu-prof", `--cpu-prof-dir=${prof}`] } : {}),
  };
  benchEmulatorLoad(options).then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"),
    (e) => {
      process.stderr.write(`emulator load bench failed: ${e instanceof Error ? e.stack : e}\n`);
      process.exit(1);
    },
  );
}
