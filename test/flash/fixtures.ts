/** A realistic multi-image ESP32 flash set, built deterministically: bootloader, partition table, app, factory NVS. */
import { Log, type Logger } from "../../src/log.js";
import { memorySink, systemClock, type MemorySink } from "../../hosts/node/index.js";
import { buildNvsImage } from "../../tools/factory/nvs-image.js";
import { DATA_SUBTYPE, encodePartitionTable, PARTITION_TYPE, APP_SUBTYPE } from "../../tools/flash/partition-table.js";
import type { FlashImage } from "../../tools/flash/images.js";

/** xorshift32: the same bytes on every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Firmware-like bytes: runs of random code, repeated strings, zero-filled tables; compresses roughly 2:1. */
export function firmwareBytes(size: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  const text = new TextEncoder().encode("I (%d) provision: Starting provision to %s:%d\0E (%d) mqtt: connection refused\0");
  let at = 0;
  while (at < size) {
    const kind = next() % 4;
    const run = Math.min(size - at, 64 + (next() % 2048));
    for (let i = 0; i < run; i++) {
      out[at + i] = kind === 0 ? next() & 0xff : kind === 1 ? text[(at + i) % text.length] : kind === 2 ? 0 : (i * 7) & 0xff;
    }
    at += run;
  }
  out[0] = 0xe9; // ESP image magic
  return out;
}

export const NVS_OFFSET = 0x9000;
export const NVS_SIZE = 0x6000;
export const APP_OFFSET = 0x10000;
export const APP_PARTITION_SIZE = 0x180000;

export function partitionTable(): Uint8Array {
  return encodePartitionTable([
    { label: "nvs", type: PARTITION_TYPE.data, subtype: DATA_SUBTYPE.nvs, offset: NVS_OFFSET, size: NVS_SIZE, flags: 0 },
    { label: "phy_init", type: PARTITION_TYPE.data, subtype: DATA_SUBTYPE.phy, offset: 0xf000, size: 0x1000, flags: 0 },
    { label: "factory", type: PARTITION_TYPE.app, subtype: APP_SUBTYPE.factory, offset: APP_OFFSET, size: APP_PARTITION_SIZE, flags: 0 },
  ]);
}

export function nvsImage(): Uint8Array {
  return buildNvsImage(
    [
      { kind: "namespace", name: "tbsdk" },
      { kind: "string", key: "prov_key", value: "factory-provision-key" },
      { kind: "string", key: "prov_secret", value: "factory-provision-secret" },
      { kind: "int", key: "tb_port", type: "i32", value: 8883 },
    ],
    0x3000,
  );
}

export function buildImages(appSize = 300 * 1024): FlashImage[] {
  return [
    { name: "bootloader.bin", address: 0x1000, data: firmwareBytes(26 * 1024 + 123, 1) },
    { name: "partition-table.bin", address: 0x8000, data: partitionTable() },
    { name: "xs_esp32.bin", address: APP_OFFSET, data: firmwareBytes(appSize, 2) },
  ];
}

/** Images placed in a blank 0xFF flash of `size` bytes: what the chip must hold afterwards. */
export function expectedFlash(images: readonly FlashImage[], size: number): Uint8Array {
  const flash = new Uint8Array(size).fill(0xff);
  for (const img of images) flash.set(img.data, img.address);
  return flash;
}

/** Index of the first differing byte, or -1 (a readable failure instead of a 4 MB diff). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function testLog(): { log: Logger; sink: MemorySink } {
  const sink = memorySink();
  const root = new Log(sink, systemClock(), { level: "D" });
  return { log: root.tag("flash"), sink };
}
