/**
 * `npm run bench` prints each figure beside a reference measured in the same run, as a ratio;
 * `npm run bench -- --json` prints the same figures as one JSON object (keys documented in the README).
 */
import * as os from "node:os";
import { benchCodecNode } from "./codec-node.js";
import { benchClientXs } from "./client-xs.js";
import { benchCodecXs } from "./codec-xs.js";
import { benchEmulatorLoad } from "./emulator-load.js";
import { benchRoundTrips } from "./roundtrips.js";
import { benchNvs } from "./nvs.js";
import { benchFlash } from "./flash.js";

type Row = Record<string, number | string | boolean | null | undefined>;

function fmt(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(2);
  return v === null || v === undefined ? "-" : String(v);
}

function table(title: string, rows: Record<string, Row>, columns: string[]): string {
  const header = ["case", ...columns];
  const body = Object.entries(rows).map(([name, row]) => [name, ...columns.map((c) => fmt(row[c]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [title, line(header), ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const log = (s: string) => {
    if (!json) process.stdout.write(s + "\n");
  };
  log(`bench: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}`);

  const codecNode = benchCodecNode();
  log(table("\ncodec on Node: encode + stream decode, ops/s (median of 7 alternating rounds)", codecNode as unknown as Record<string, Row>,
    ["ours_ops_per_s", "mqtt_packet_ops_per_s", "ratio"]));

  const codecXs = await benchCodecXs();
  const { mqtt_packet_default_number_cache: numberCache, ...xsCases } = codecXs;
  log(table("\ncodec on XS (xsnap): cost of 1,000 encode + decode round trips; ratio = mqtt-packet / ours", xsCases as unknown as Record<string, Row>,
    ["ours_compute", "mqtt_packet_compute", "compute_ratio", "ours_slots_per_rt", "mqtt_packet_slots_per_rt", "ours_heap_slots", "mqtt_packet_heap_slots", "ours_wall_ms", "mqtt_packet_wall_ms"]));

  if (numberCache) {
    log(`mqtt-packet's default number cache on XS (first use): ${fmt(numberCache.first_use_compute)} compute, ` +
      `${fmt(numberCache.first_use_heap_slots)} live slots, ${fmt(numberCache.first_use_wall_ms)} ms; ` +
      "too big for an ESP32, so the rows above run it with cacheNumbers = false");
  }

  const clientXs = await benchClientXs();
  log(table("\nclient on XS: 1,000 QoS 1 publishes through MqttClient, acked; reference = the bare codec work (encode PUBLISH, decode PUBACK)",
    clientXs as unknown as Record<string, Row>,
    ["client_compute", "codec_compute", "overhead_ratio", "client_slots_per_msg", "codec_slots_per_msg", "client_live_slots", "codec_live_slots"]));

  const emulatorLoad = await benchEmulatorLoad();
  const { config: loadConfig, check: loadCheck } = emulatorLoad;
  log(table(`\nemulator under load (server in a child process, ${loadConfig.client}, ${loadConfig.transport}): ${loadConfig.devices} devices per round, ` +
    `median of ${loadConfig.rounds} rounds after ${loadConfig.warmup_rounds} warm-up; ${loadConfig.messages_per_device} QoS 1 messages per device, window ${loadConfig.window}; ` +
    `cpu = cores used; server check: ${loadCheck.devices_on_server} devices, ${loadCheck.telemetry_points_on_server} points (${loadCheck.ok ? "ok" : "MISMATCH"})`,
    { provisions_per_s: emulatorLoad.provisions_per_s, connects_per_s: emulatorLoad.connects_per_s, telemetry_msgs_per_s: emulatorLoad.telemetry_msgs_per_s } as unknown as Record<string, Row>,
    ["value", "target", "ratio", "p50_ms", "p99_ms", "concurrency", "server_cpu", "client_cpu", "other_cpu", "server_cpu_us_per_op", "quiet_median", "rounds", "warmup_rounds"]));

  const roundTrips = await benchRoundTrips();
  const { config: rtConfig, ...rtCases } = roundTrips;
  log(table(`\nMQTT round trips after the transport is up, through a proxy delaying each direction by ${rtConfig.delay_ms} ms ` +
    `(median of ${rtConfig.repeats}); round trips = ms / (2 x delay); waits = times the client sent and then had to hear from the server; ` +
    "reference = the same MqttClient one step at a time (CONNACK, then SUBACK, then the response / PUBACK); ratio = reference / ours",
    rtCases as unknown as Record<string, Row>,
    ["ours_round_trips", "reference_round_trips", "ratio", "ours_waits", "reference_waits", "ours_ms", "reference_ms", "delay_ms"]));

  const nvs = benchNvs();
  log(table("\nfactory NVS images: 1,000 per-device 0x6000-byte images (settings validated by the firmware's resolver, laid out " +
    "byte-exact); reference = reading the same 1,000 images back with every CRC checked; ratio = reference ms / ours ms",
    { generate_1000: { ours_ms: nvs.ms, reference_ms: nvs.readBackMs, ratio: nvs.readBackMs / nvs.ms, images_per_s: nvs.imagesPerSec, bytes_per_image: nvs.bytesPerImage } } as unknown as Record<string, Row>,
    ["ours_ms", "reference_ms", "ratio", "images_per_s", "bytes_per_image"]));

  const flash = await benchFlash();
  const { config: flashConfig, ...flashCases } = flash;
  const flashRows: Record<string, Row> = {};
  for (const [name, c] of Object.entries(flashCases)) {
    flashRows[name] = { ...c, ratio_vs_uncompressed: c.bytesPerSec / flash.uncompressed.bytesPerSec, ratio_vs_uart: c.bytesPerSec / c.uart_bound_bytes_per_sec } as unknown as Row;
  }
  log(table(`\nflashing through the ROM-loader simulator over an in-memory Web Serial port (esptool-js, ${flashConfig.image_bytes} B app, ` +
    `no UART model: host tool + protocol cost); reference = the same image uncompressed, and the ${flashConfig.baud}-baud UART ceiling`,
    flashRows, ["bytesPerSec", "ratio_vs_uncompressed", "uart_bound_bytes_per_sec", "ratio_vs_uart", "wireBytes", "ms", "connectMs"]));

  if (json) {
    const result = {
      schema: 1,
      machine: { node: process.version, cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? null },
      codec_node: codecNode,
      codec_xs: codecXs,
      client_xs: clientXs,
      emulator_load: emulatorLoad,
      round_trips: roundTrips,
      factory_nvs: nvs,
      flash,
    };
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
