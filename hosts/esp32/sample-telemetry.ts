/**
 * The firmware's sample telemetry: uptime, and what the platform can tell about memory and radio. Keys are the
 * ones a ThingsBoard dashboard would chart; absent figures are left out rather than sent as 0.
 */
import Net from "net";
import type { KvValues } from "tbsdk/thingsboard/payloads";
import { memoryUsage } from "./memory.js";

export function sampleTelemetry(uptimeMs: number, sequence: number): KvValues {
  const values: KvValues = { uptime_s: Math.floor(uptimeMs / 1000), seq: sequence };
  const m = memoryUsage();
  if (m.systemFreeBytes !== undefined) values.free_heap = m.systemFreeBytes;
  if (m.slotHeapBytes !== undefined) values.xs_slot_used = m.slotHeapBytes;
  if (m.chunkHeapBytes !== undefined) values.xs_chunk_used = m.chunkHeapBytes;
  const rssi = wifiRssi();
  if (rssi !== undefined) values.rssi = rssi;
  return values;
}

function wifiRssi(): number | undefined {
  try {
    const r = Net.get("RSSI");
    return typeof r === "number" && r < 0 ? r : undefined; // 0 / undefined when not on Wi-Fi (lin, Ethernet)
  } catch {
    return undefined;
  }
}
