/**
 * The device's hot path inside XS: one QoS 1 telemetry publish through MqttClient, acknowledged by the peer,
 * against the bare codec work the same exchange needs (encode the PUBLISH, decode the PUBACK). The ratio is
 * what the session (ids, in-flight table, completion, buffers) costs on top of the codec.
 * Figures per 1,000 publishes (run with N = 1000 minus run with N = 0; compute is xsnap's deterministic meter):
 *   compute          meter steps
 *   live_slots       heap slots still live after gc(): anything above 0 is a leak
 *   slots_per_msg    slots allocated per publish, garbage included (heap count without gc at N = 100 vs 0,
 *                    / 100): the churn that drives the GC in a ~100 KB device heap
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { XSNAP_ONLY_GLOBALS } from "../test/xs/bundle.js";
import { TELEMETRY_120 } from "./codec-node.js";

export interface ClientXsFigure {
  client_compute: number;
  codec_compute: number;
  /** client / codec: the session's overhead factor (lower is better). */
  overhead_ratio: number;
  client_live_slots: number;
  codec_live_slots: number;
  client_slots_per_msg: number;
  codec_slots_per_msg: number;
}

type Mode = "client" | "codec";

const ENTRY = `
import { MqttClient } from "./src/mqtt/client.ts";
import { remainingLength, writePacket } from "./src/mqtt/encode.ts";
import { PacketReader } from "./src/mqtt/reader.ts";
const B = globalThis.__bench;
const TOPIC = "v1/devices/me/telemetry";
const PAYLOAD = ${JSON.stringify(TELEMETRY_120)};
let acked = 0;
let run;
if (B.mode === "client") {
  let events = null;
  let pendingId = 0;
  const clock = { now: () => 0, setTimer: () => 0, clearTimer: () => {} };
  const client = new MqttClient({
    clock, clientId: "ESP32-A1B2C3D4E5F6", keepaliveSec: 0, ackTimeoutMs: 0,
    connector: (e) => { events = e; return {
      write(chunk) {
        if ((chunk[0] >> 4) !== 3) return;
        // Packet id of a QoS 1 PUBLISH: after the fixed header and the topic.
        let i = 1; while (chunk[i] & 0x80) i++; i++;
        i += 2 + ((chunk[i] << 8) | chunk[i + 1]);
        pendingId = (chunk[i] << 8) | chunk[i + 1];
      },
      close() {},
    }; },
  });
  client.connectWithCallback(() => {});
  events.onOpen();
  events.onData(new Uint8Array([0x20, 2, 0, 0]));
  const done = (err) => { if (!err) acked++; };
  run = () => {
    client.publishWithCallback(TOPIC, PAYLOAD, { qos: 1 }, done);
    // A transport read hands over a fresh buffer, as on the device.
    events.onData(new Uint8Array([0x40, 2, pendingId >> 8, pendingId & 0xff]));
  };
} else {
  const out = new Uint8Array(256);
  const reader = new PacketReader(() => { acked++; });
  let id = 0;
  run = () => {
    id = id === 0xffff ? 1 : id + 1;
    const p = { type: 3, topic: TOPIC, payload: PAYLOAD, qos: 1, retain: false, dup: false, packetId: id };
    writePacket(p, remainingLength(p), out, 0);
    reader.feed(new Uint8Array([0x40, 2, id >> 8, id & 0xff]));
  };
}
run(); acked = 0; // first use outside the measurement
B.gc();
for (let i = 0; i < B.n; i++) run();
if (B.gcAfter) B.gc();
globalThis.__report({ acked });
`;

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "src", "mqtt", "client.ts"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("repository root not found");
    dir = up;
  }
  return dir;
}

function runXs(root: string, file: string): Promise<{ acked: number; compute: number; heap: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(root, "test/xs/run-xs.js"), file, "--timeout-ms=120000"], { cwd: root, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        try {
          const r = JSON.parse(stdout.trim().split("\n").pop() ?? "");
          if (r.error) throw new Error(r.error);
          resolve({ acked: r.acked, compute: r.meterUsage.compute, heap: r.meterUsage.currentHeapCount });
        } catch (e) {
          reject(new Error(`client XS bench failed: ${(e as Error).message}\n${err?.message ?? ""}\n${stderr.slice(-2000)}`));
        }
      });
  });
}

export async function benchClientXs(): Promise<{ publish_qos1_120b_x1000: ClientXsFigure }> {
  const root = repoRoot();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "client-xs-"));
  try {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: root, sourcefile: "client-xs-bench.ts", loader: "ts" },
      bundle: true, write: false, format: "iife", platform: "neutral", target: "es2022", logLevel: "silent",
    });
    const code = bundle.outputFiles[0].text;
    const once = async (mode: Mode, n: number, gcAfter: boolean) => {
      const file = path.join(tmp, `${mode}-${n}-${gcAfter}.js`);
      // Removes what xsnap has and the device lacks, after capturing gc for the measurement itself.
      const prefix = `(() => { const g = globalThis, gc = g.gc; g.__bench = { mode: "${mode}", n: ${n}, gcAfter: ${gcAfter}, gc: () => gc() }; ` +
        `for (const k of ${JSON.stringify(XSNAP_ONLY_GLOBALS)}) delete g[k]; })();\n`;
      await writeFile(file, prefix + code);
      const r = await runXs(root, file);
      if (r.acked !== n) throw new Error(`${mode}: ${r.acked} of ${n} publishes acknowledged`);
      return r;
    };
    const measure = async (mode: Mode) => {
      const base = await once(mode, 0, true);
      const full = await once(mode, 1000, true);
      const churnBase = await once(mode, 0, false);
      const churn = await once(mode, 100, false);
      return { compute: full.compute - base.compute, live: full.heap - base.heap, perMsg: Math.round((churn.heap - churnBase.heap) / 100) };
    };
    const client = await measure("client");
    const codec = await measure("codec");
    return {
      publish_qos1_120b_x1000: {
        client_compute: client.compute,
        codec_compute: codec.compute,
        overhead_ratio: Math.round((client.compute / codec.compute) * 100) / 100,
        client_live_slots: client.live,
        codec_live_slots: codec.live,
        client_slots_per_msg: client.perMsg,
        codec_slots_per_msg: codec.perMsg,
      },
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
