/**
 * Codec cost inside the real XS engine (xsnap): 1,000 encode + stream-decode round trips of a PUBLISH and of
 * a CONNECT, our codec vs mqtt-packet (bundled for XS with esbuild and npm polyfills for Buffer, events,
 * process, readable-stream …).
 *
 * Method. Each codec is bundled once. A run is that bundle preceded by a one-line prefix choosing the packet
 * kind and the number of round trips N; runs differ only in N, so `compute(N = 1000) - compute(N = 0)` is the
 * cost of the 1,000 round trips alone (module loading and setup cancel out). Each run is a fresh xsnap worker
 * in a child process (`test/xs/run-xs.js`): xsnap needs SES lockdown, which must not hit the bench process.
 * Every run is done 3 times: XS's meter is deterministic, so compute and heap counts must be identical across
 * repeats (checked; a mismatch is reported in `notes`), and the wall time is the median of the three.
 *
 * Both codecs do one warm-up round trip before the timed loop, in the baseline too, so the per-1000 figures are
 * steady state; what that first round trip costs on its own is reported as `*_first_use_*`. mqtt-packet runs
 * with writeToStream.cacheNumbers = false: see measureDefaultNumberCache for why, and for the default's cost.
 *
 * Figures, per codec (`ours_*`, `mqtt_packet_*`):
 *   compute      XS meter steps for the 1,000 round trips (run - baseline). The meter counts bytecode
 *                steps; a native call (TypedArray.set, String.fromCharCode.apply, …) counts as one step
 *                whatever it does, so this favours code that leans on natives — hence wall time too.
 *   heap_slots   `meterUsage.currentHeapCount` after a forced gc(), run - baseline: slots still live after
 *                the round trips (caches, buffers kept by the decoder, listeners …). ~0 means no leak.
 *                Slots are XS's fixed-size (16 or 32 bytes) value cells; byte storage of strings and
 *                ArrayBuffers lives in the separate chunk heap and is not counted here.
 *   alloc_bytes  `meterUsage.allocate` delta: how many bytes XS had to grow its slot + chunk heaps by (it
 *                grows only when a collection cannot free enough). A coarse peak-memory figure: it moves in
 *                whole heap increments (128 Ki slots, pages of chunks), so 0 means "fit in the heap it had".
 *   slots_per_rt Slots allocated per round trip (garbage included): (heap count without gc after 100 round
 *                trips - same with 0) / 100, valid only when no collection ran in between (checked against a
 *                50-round-trip run; null if not linear). This is the churn that drives GC on the device.
 *   wall_ms      Wall time of the 1,000-round-trip loop inside XS (performance.now around the loop, GC pauses
 *                included), median of 3; secondary (machine- and load-dependent), but it catches what the
 *                meter under-counts.
 *   first_use_*  compute / live slots of the warm-up round trip: (warm baseline - cold baseline).
 *   load_*       compute / live slots of the cold baseline (bundle evaluated, codec set up, no round trip);
 *                the slots include xsnap's own floor (~4,000 slots for an empty script), so compare the two.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { build, type BuildFailure } from "esbuild";
import { XSNAP_ONLY_GLOBALS } from "../test/xs/bundle.js";
import { TELEMETRY_120 } from "./codec-node.js";

export interface XsCodecFigure {
  ours_compute: number;
  mqtt_packet_compute: number | null;
  /** mqtt_packet_compute / ours_compute: > 1 means ours is cheaper. */
  compute_ratio: number | null;
  ours_heap_slots: number;
  mqtt_packet_heap_slots: number | null;
  ours_alloc_bytes: number;
  mqtt_packet_alloc_bytes: number | null;
  ours_slots_per_rt: number | null;
  mqtt_packet_slots_per_rt: number | null;
  ours_wall_ms: number;
  mqtt_packet_wall_ms: number | null;
  /** mqtt_packet_wall_ms / ours_wall_ms: > 1 means ours is faster. */
  wall_ratio: number | null;
  /** Compute of the first round trip of a freshly loaded codec (lazy initialisation included); compare with compute / 1000 … */
  ours_first_use_compute: number;
  mqtt_packet_first_use_compute: number | null;
  /** … and the slots that first round trip leaves live (caches built on first use). */
  ours_first_use_heap_slots: number;
  mqtt_packet_first_use_heap_slots: number | null;
  /**
   * Loading the bundle and setting up (no round trip): compute, and live slots after gc(). Includes the
   * small bench harness, identical for both codecs. Bundle size is the unminified esbuild output.
   */
  ours_load_compute: number;
  mqtt_packet_load_compute: number | null;
  ours_load_heap_slots: number;
  mqtt_packet_load_heap_slots: number | null;
  ours_bundle_bytes: number;
  mqtt_packet_bundle_bytes: number | null;
  /** mqtt-packet settings the figures above were taken with. */
  mqtt_packet_config: string;
  mqtt_packet_runs_on_xs: boolean;
  mqtt_packet_error?: string;
  /** Anything odd seen while measuring (non-deterministic meter, non-linear churn …). */
  notes?: string[];
}

export interface XsCodecFigures {
  publish_120b_qos1_x1000: XsCodecFigure;
  connect_x1000: XsCodecFigure;
  /** One-time cost of mqtt-packet's default number cache (null if mqtt-packet does not run on XS). */
  mqtt_packet_default_number_cache: NumberCacheFigure | null;
}

type Codec = "ours" | "mqtt_packet";
type Kind = "publish" | "connect";

const ROUND_TRIPS = 1000;
const CHURN_ROUND_TRIPS = 100;
const REPEATS = 3;
const RUN_TIMEOUT_MS = 300_000;
const MQTT_PACKET_CONFIG = "protocolVersion=4, writeToStream.cacheNumbers=false";

const TOPIC = "v1/devices/me/telemetry";
const CLIENT_ID = "ESP32-A1B2C3D4E5F6";
const USERNAME = "A1_TEST_TOKEN_0123456789";

/** The repo root (holds our package.json), from bench/ under ts-node/jest or dist/bench/ once compiled. */
function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "tb-esp32-sdk") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`codec-xs: repo root (package.json of tb-esp32-sdk) not found above ${__dirname}`);
    dir = parent;
  }
}

// ---------------------------------------------------------------------------------------------
// XS-side code. The harness part is the same for both codecs; only `codecSetup` differs.

/** Codec-specific setup: defines `roundTrip()` and `check(lastDecodedPacket) -> boolean`; counts into `decoded`. */
function codecSetup(codec: Codec): string {
  if (codec === "ours") {
    return `
import { encodePacket } from "./src/mqtt/encode.js";
import { PacketReader } from "./src/mqtt/reader.js";
const packet = KIND === "publish"
  ? { type: 3, topic: TOPIC, payload: PAYLOAD, qos: 1, retain: false, dup: false, packetId: 42 }
  : { type: 1, clientId: CLIENT_ID, keepalive: 60, cleanSession: true, username: USERNAME };
const reader = new PacketReader((p) => { decoded++; last = p; });
roundTrip = () => { reader.feed(encodePacket(packet)); };
check = (p) => KIND === "publish"
  ? p.type === 3 && p.topic === TOPIC && p.payload.length === PAYLOAD.length && p.qos === 1 && p.packetId === 42 && !p.retain && !p.dup
  : p.type === 1 && p.clientId === CLIENT_ID && p.keepalive === 60 && p.cleanSession === true && p.username === USERNAME;
`;
  }
  return `
import * as mqtt from "mqtt-packet";
const packet = KIND === "publish"
  ? { cmd: "publish", topic: TOPIC, payload: PAYLOAD, qos: 1, retain: false, dup: false, messageId: 42 }
  : { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: CLIENT_ID, keepalive: 60, clean: true, username: USERNAME };
mqtt.writeToStream.cacheNumbers = B.cache; // documented switch; true is the default
const parser = mqtt.parser({ protocolVersion: 4 });
parser.on("packet", (p) => { decoded++; last = p; });
parser.on("error", (e) => { throw e; });
roundTrip = () => { parser.parse(mqtt.generate(packet)); };
check = (p) => KIND === "publish"
  ? p.cmd === "publish" && p.topic === TOPIC && p.payload.length === PAYLOAD.length && p.qos === 1 && p.messageId === 42 && !p.retain && !p.dup
  : p.cmd === "connect" && p.clientId === CLIENT_ID && p.keepalive === 60 && p.clean === true && p.username === USERNAME;
`;
}

/**
 * Entry module. ESM imports are hoisted, so the codec's modules load before this body runs; the prefix
 * (a plain script line before the bundle) has already captured the host hooks and removed xsnap-only globals.
 */
function entrySource(codec: Codec): string {
  return `
const B = globalThis.__bench;
const KIND = B.kind;
const TOPIC = ${JSON.stringify(TOPIC)};
const PAYLOAD = ${JSON.stringify(TELEMETRY_120)};
const CLIENT_ID = ${JSON.stringify(CLIENT_ID)};
const USERNAME = ${JSON.stringify(USERNAME)};
let decoded = 0;
let last = null;
let roundTrip;
let check;
${codecSetup(codec)}
let ok = true;
let error = null;
let warmMs = 0;
let wallMs = 0;
try {
  if (B.warm) {
    // One untimed-for-the-result round trip, so lazy first-use work (caches …) is part of the baseline.
    const t = B.now();
    roundTrip();
    warmMs = B.now() - t;
    ok = decoded === 1 && check(last);
    decoded = 0;
    last = null;
  }
  B.gc();
  const t0 = B.now();
  for (let i = 0; i < B.n; i++) roundTrip();
  wallMs = B.now() - t0;
  ok = ok && decoded === B.n && (B.n === 0 || check(last));
} catch (e) {
  ok = false;
  error = String((e && e.stack) || e);
}
last = null;
if (B.gcAfter) B.gc();
globalThis.__report({ ok, decoded, warmMs, wallMs, error });
`;
}

/** Plain-script prefix: per-run parameters; captures gc/performance.now, then removes xsnap-only globals. */
function prefixSource(run: RunSpec): string {
  const { kind, n, gcAfter, warm, cache } = run;
  return (
    `(() => { const g = globalThis, gc = g.gc, now = g.performance.now; ` +
    `g.__bench = { kind: ${JSON.stringify(kind)}, n: ${n}, gcAfter: ${gcAfter}, warm: ${warm}, cache: ${cache}, gc: () => gc(), now: () => now() }; ` +
    `for (const k of ${JSON.stringify(XSNAP_ONLY_GLOBALS)}) delete g[k]; })();\n`
  );
}

/**
 * mqtt-packet needs Node's Buffer, events, process (nextTick, env), and through `bl` readable-stream (+ its
 * abort-controller, string_decoder, inherits) and `debug`. With platform "browser" esbuild resolves the
 * built-in names to the npm polyfills of the same name (buffer, events, process, string_decoder) and honours
 * the packages' browser fields; the free globals `Buffer` and `process` are injected from those polyfills, and
 * `console` (read by debug's browser build at load time; XS has none) as a silent stub.
 */
const MQTT_PACKET_INJECT = `
import { Buffer } from "buffer";
import process from "process";
const noop = () => {};
const console = { log: noop, debug: noop, info: noop, warn: noop, error: noop };
export { Buffer, process, console };
`;

async function bundle(codec: Codec, root: string, tmp: string): Promise<string> {
  let inject: string[] = [];
  if (codec === "mqtt_packet") {
    const file = path.join(tmp, "mqtt-packet-inject.js");
    await writeFile(file, MQTT_PACKET_INJECT);
    inject = [file];
  }
  try {
    const result = await build({
      stdin: { contents: entrySource(codec), resolveDir: root, sourcefile: `xs-bench-${codec}.js`, loader: "js" },
      bundle: true,
      write: false,
      format: "iife",
      platform: codec === "ours" ? "neutral" : "browser",
      mainFields: codec === "ours" ? ["module", "main"] : ["browser", "module", "main"],
      target: "es2022",
      inject,
      nodePaths: [path.join(root, "node_modules")], // lets the injected file (in tmp) find the polyfills
      // abort-controller's browser entry only re-exports self.AbortController (absent on XS): use its polyfill.
      alias: codec === "ours" ? {} : { "abort-controller": "abort-controller/dist/abort-controller.js" },
      logLevel: "silent",
      charset: "ascii",
      legalComments: "none",
      absWorkingDir: root,
    });
    const code = result.outputFiles?.[0]?.text ?? "";
    if (/\b__require\s*=/.test(code)) throw new Error("bundle contains a dynamic require() esbuild could not resolve");
    return code;
  } catch (error) {
    const failure = error as BuildFailure;
    if (Array.isArray(failure.errors) && failure.errors.length) {
      throw new Error(`esbuild failed for ${codec}: ${failure.errors.map((m) => m.text).join("; ")}`);
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Running

interface RunSpec {
  kind: Kind;
  /** Timed round trips. */
  n: number;
  /** gc() before reporting, so currentHeapCount is the live heap (else it includes garbage since the last GC). */
  gcAfter: boolean;
  /** One round trip before the timed loop (and before its gc()), so lazy first-use work is in the baseline. */
  warm: boolean;
  /** mqtt-packet's writeToStream.cacheNumbers (ignored by ours). */
  cache: boolean;
}

interface RunOutput {
  ok: boolean;
  decoded: number;
  warmMs: number;
  wallMs: number;
  error: string | null;
  compute: number;
  allocate: number;
  heap: number;
}

function runChild(root: string, file: string): Promise<RunOutput> {
  const runner = path.join(root, "test", "xs", "run-xs.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [runner, file, `--timeout-ms=${RUN_TIMEOUT_MS}`],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: RUN_TIMEOUT_MS + 30_000 },
      (err, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(line);
        } catch {
          /* reported below */
        }
        if (!parsed || typeof parsed.error === "string" || !parsed.meterUsage) {
          const why = typeof parsed?.error === "string" ? parsed.error : err ? err.message : `unexpected output ${line.slice(0, 200)}`;
          reject(new Error(`${why}${stderr.trim() ? `\n${stderr.trim().slice(-2000)}` : ""}`));
          return;
        }
        const mu = parsed.meterUsage as { compute: number; allocate: number; currentHeapCount: number };
        resolve({
          ok: parsed.ok === true,
          decoded: Number(parsed.decoded),
          warmMs: Number(parsed.warmMs),
          wallMs: Number(parsed.wallMs),
          error: typeof parsed.error === "string" ? parsed.error : null,
          compute: mu.compute,
          allocate: mu.allocate,
          heap: mu.currentHeapCount,
        });
      },
    );
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

interface Measured {
  compute: number;
  heap: number;
  allocate: number;
  warmMs: number;
  wallMs: number;
}

/** Runs one spec `repeats` times; compute/heap/allocate must not vary (noted if they do); wall = median. */
async function measure(ctx: Context, codec: Codec, run: RunSpec, repeats = REPEATS): Promise<Measured> {
  const code = ctx.code[codec];
  if (code === null) throw new Error(`${codec}: no bundle`);
  const label = `${codec} ${run.kind} n=${run.n}${run.warm ? " warm" : " cold"}${run.gcAfter ? "" : " no-gc"}${codec === "mqtt_packet" ? ` cacheNumbers=${run.cache}` : ""}`;
  const file = path.join(ctx.tmp, `${label.replace(/[^\w=-]+/g, "_")}.js`);
  await writeFile(file, prefixSource(run) + code);
  const runs: RunOutput[] = [];
  for (let r = 0; r < repeats; r++) {
    const out = await runChild(ctx.root, file);
    if (!out.ok) throw new Error(out.error ?? `${label}: decoded ${out.decoded} packets, or a decoded packet did not match`);
    runs.push(out);
  }
  for (const key of ["compute", "heap", "allocate"] as const) {
    const values = runs.map((x) => x[key]);
    if (new Set(values).size !== 1) ctx.notes.push(`${label}: ${key} differed across repeats: ${values.join(", ")} (median used)`);
  }
  return {
    compute: median(runs.map((x) => x.compute)),
    heap: median(runs.map((x) => x.heap)),
    allocate: median(runs.map((x) => x.allocate)),
    warmMs: median(runs.map((x) => x.warmMs)),
    wallMs: median(runs.map((x) => x.wallMs)),
  };
}

interface Context {
  root: string;
  tmp: string;
  code: Record<Codec, string | null>;
  notes: string[];
}

interface CodecFigures {
  compute: number;
  heapSlots: number;
  allocBytes: number;
  slotsPerRt: number | null;
  wallMs: number;
  firstUseCompute: number;
  firstUseHeapSlots: number;
  loadCompute: number;
  loadHeapSlots: number;
}

/** mqtt-packet runs with cacheNumbers=false (see MQTT_PACKET_NUMBER_CACHE_NOTE); ours ignores the flag. */
async function measureCodec(ctx: Context, codec: Codec, kind: Kind): Promise<CodecFigures> {
  const spec = (n: number, gcAfter: boolean, warm: boolean): RunSpec => ({ kind, n, gcAfter, warm, cache: false });
  const cold = await measure(ctx, codec, spec(0, true, false));
  const base = await measure(ctx, codec, spec(0, true, true));
  const full = await measure(ctx, codec, spec(ROUND_TRIPS, true, true));
  // Churn: no gc() after the loop, short runs so that (normally) no collection happens inside them.
  const churnBase = await measure(ctx, codec, spec(0, false, true));
  const churnHalf = await measure(ctx, codec, spec(CHURN_ROUND_TRIPS / 2, false, true));
  const churnFull = await measure(ctx, codec, spec(CHURN_ROUND_TRIPS, false, true));
  const half = churnHalf.heap - churnBase.heap;
  const whole = churnFull.heap - churnBase.heap;
  let slotsPerRt: number | null = null;
  // Linear (within 10%) means no collection ran inside the measured window.
  if (half > 0 && whole > 0 && Math.abs(whole - 2 * half) <= 0.1 * whole) slotsPerRt = Math.round((whole / CHURN_ROUND_TRIPS) * 10) / 10;
  else ctx.notes.push(`${codec} ${kind}: slot churn not linear (${half} slots for ${CHURN_ROUND_TRIPS / 2} rt, ${whole} for ${CHURN_ROUND_TRIPS}): a GC ran, figure omitted`);
  return {
    compute: full.compute - base.compute,
    heapSlots: full.heap - base.heap,
    allocBytes: full.allocate - base.allocate,
    slotsPerRt,
    wallMs: round2(full.wallMs),
    firstUseCompute: base.compute - cold.compute,
    firstUseHeapSlots: base.heap - cold.heap,
    loadCompute: cold.compute,
    loadHeapSlots: cold.heap,
  };
}

/**
 * mqtt-packet's default (writeToStream.cacheNumbers = true) builds, on the first generate(), a cache of 65,536
 * two-byte Buffers (one per packet id). On XS that is hundreds of thousands of live slots (megabytes: more than
 * an ESP32 has) and, because the cache is an ordinary object with 65,536 integer keys holding objects, tens of
 * seconds of wall time (XS handles such objects badly under GC). Its README documents cacheNumbers = false for
 * exactly this; no device deployment could keep the default, so the per-1000 figures use cacheNumbers = false
 * and the default's one-time cost is measured separately, once (REPEATS runs would cost minutes).
 */
async function measureDefaultNumberCache(ctx: Context): Promise<NumberCacheFigure> {
  const spec = (warm: boolean): RunSpec => ({ kind: "publish", n: 0, gcAfter: true, warm, cache: true });
  const cold = await measure(ctx, "mqtt_packet", spec(false));
  const warm = await measure(ctx, "mqtt_packet", spec(true), 1);
  return {
    first_use_compute: warm.compute - cold.compute,
    first_use_heap_slots: warm.heap - cold.heap,
    first_use_alloc_bytes: warm.allocate - cold.allocate,
    first_use_wall_ms: round2(warm.warmMs),
    runs: 1,
  };
}

/** mqtt-packet's default number cache, built on its first generate(); see measureDefaultNumberCache. */
export interface NumberCacheFigure {
  /** Compute, live slots (after gc) and heap growth of the first PUBLISH round trip minus a cold baseline. */
  first_use_compute: number;
  first_use_heap_slots: number;
  first_use_alloc_bytes: number;
  first_use_wall_ms: number;
  /** How many runs the figures come from (1: wall time is a single sample). */
  runs: number;
}

function ratio(theirs: number | null, ours: number): number | null {
  return theirs === null || ours <= 0 ? null : round2(theirs / ours);
}

/** Measures both codecs on XS; see the header comment for what each figure means. */
export async function benchCodecXs(): Promise<XsCodecFigures> {
  const root = repoRoot();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "codec-xs-"));
  try {
    const ctx: Context = { root, tmp, code: { ours: await bundle("ours", root, tmp), mqtt_packet: null }, notes: [] };
    let theirsError: string | undefined;
    try {
      ctx.code.mqtt_packet = await bundle("mqtt_packet", root, tmp);
    } catch (e) {
      theirsError = e instanceof Error ? e.message : String(e);
    }

    const figure = async (kind: Kind): Promise<XsCodecFigure> => {
      ctx.notes = [];
      const ours = await measureCodec(ctx, "ours", kind);
      let theirs: CodecFigures | null = null;
      let error = theirsError;
      if (ctx.code.mqtt_packet !== null) {
        try {
          theirs = await measureCodec(ctx, "mqtt_packet", kind);
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      }
      const out: XsCodecFigure = {
        ours_compute: ours.compute,
        mqtt_packet_compute: theirs?.compute ?? null,
        compute_ratio: ratio(theirs?.compute ?? null, ours.compute),
        ours_heap_slots: ours.heapSlots,
        mqtt_packet_heap_slots: theirs?.heapSlots ?? null,
        ours_alloc_bytes: ours.allocBytes,
        mqtt_packet_alloc_bytes: theirs?.allocBytes ?? null,
        ours_slots_per_rt: ours.slotsPerRt,
        mqtt_packet_slots_per_rt: theirs?.slotsPerRt ?? null,
        ours_wall_ms: ours.wallMs,
        mqtt_packet_wall_ms: theirs?.wallMs ?? null,
        wall_ratio: ratio(theirs?.wallMs ?? null, ours.wallMs),
        ours_first_use_compute: ours.firstUseCompute,
        mqtt_packet_first_use_compute: theirs?.firstUseCompute ?? null,
        ours_first_use_heap_slots: ours.firstUseHeapSlots,
        mqtt_packet_first_use_heap_slots: theirs?.firstUseHeapSlots ?? null,
        ours_load_compute: ours.loadCompute,
        mqtt_packet_load_compute: theirs?.loadCompute ?? null,
        ours_load_heap_slots: ours.loadHeapSlots,
        mqtt_packet_load_heap_slots: theirs?.loadHeapSlots ?? null,
        ours_bundle_bytes: Buffer.byteLength(ctx.code.ours ?? ""),
        mqtt_packet_bundle_bytes: ctx.code.mqtt_packet === null ? null : Buffer.byteLength(ctx.code.mqtt_packet),
        mqtt_packet_config: MQTT_PACKET_CONFIG,
        mqtt_packet_runs_on_xs: theirs !== null,
      };
      if (theirs === null) out.mqtt_packet_error = error ?? "unknown failure";
      if (ctx.notes.length) out.notes = ctx.notes;
      return out;
    };

    const publish = await figure("publish");
    const connect = await figure("connect");
    let cache: NumberCacheFigure | null = null;
    if (publish.mqtt_packet_runs_on_xs) {
      ctx.notes = [];
      try {
        cache = await measureDefaultNumberCache(ctx);
      } catch (e) {
        publish.notes = [...(publish.notes ?? []), `default cacheNumbers run failed: ${e instanceof Error ? e.message : String(e)}`];
      }
      if (ctx.notes.length) publish.notes = [...(publish.notes ?? []), ...ctx.notes];
    }
    return { publish_120b_qos1_x1000: publish, connect_x1000: connect, mqtt_packet_default_number_cache: cache };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
