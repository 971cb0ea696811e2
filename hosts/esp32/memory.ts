/**
 * XS memory figures from Moddable's Instrumentation (debug -d and instrumented -i builds only; release builds
 * return nothing, and then so does this).
 */
import Instrumentation from "instrumentation";

export interface MemoryUsage {
  /** Bytes of the XS slot heap in use (16-byte slots on ESP32, 32 on 64-bit lin). */
  slotHeapBytes?: number;
  /** Bytes of the XS chunk heap in use (strings, buffers, bytecode of loaded closures…). */
  chunkHeapBytes?: number;
  /** Free memory of the system heap (ESP-IDF's), where the platform reports it. */
  systemFreeBytes?: number;
  gcCount?: number;
}

interface Ids {
  slot: number | undefined;
  chunk: number | undefined;
  free: number | undefined;
  gc: number | undefined;
}

// Looked up on first use, not at module load: the SDK's modules are preloaded, and preload runs no natives.
let ids: Ids | undefined;

function instrumentIds(): Ids {
  ids ??= {
    slot: Instrumentation.map("XS Slot Heap Used"),
    chunk: Instrumentation.map("XS Chunk Heap Used"),
    free: Instrumentation.map("System Free Memory"),
    gc: Instrumentation.map("XS Garbage Collection Count"),
  };
  return ids;
}

function read(id: number | undefined): number | undefined {
  if (id === undefined) return undefined;
  const v = Instrumentation.get(id);
  return typeof v === "number" ? v : undefined;
}

export function memoryUsage(): MemoryUsage {
  const ids = instrumentIds();
  const m: MemoryUsage = {};
  const slot = read(ids.slot);
  const chunk = read(ids.chunk);
  const free = read(ids.free);
  const gc = read(ids.gc);
  if (slot !== undefined) m.slotHeapBytes = slot;
  if (chunk !== undefined) m.chunkHeapBytes = chunk;
  if (free !== undefined) m.systemFreeBytes = free;
  if (gc !== undefined) m.gcCount = gc;
  return m;
}
