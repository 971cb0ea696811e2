/**
 * ESP-IDF's binary partition table (what gen_esp32part.py writes to 0x8000): 32-byte entries
 * `AA 50, type, subtype, offset u32 LE, size u32 LE, label[16] NUL-padded, flags u32 LE`,
 * optionally followed by an MD5 entry `EB EB, 14 x FF, md5[16]` over the entries before it, then 0xFF.
 */
import { createHash } from "node:crypto";
import { FlashError } from "./errors.js";

export const PARTITION_TABLE_OFFSET = 0x8000;
/** The table's space in flash: 0xC00 bytes (the rest of its sector holds nothing). */
export const PARTITION_TABLE_MAX_BYTES = 0xc00;
const ENTRY_SIZE = 32;
const MAGIC = [0xaa, 0x50];
const MD5_MAGIC = [0xeb, 0xeb];

export const PARTITION_TYPE = { app: 0x00, data: 0x01 } as const;
export const DATA_SUBTYPE = { ota: 0x00, phy: 0x01, nvs: 0x02, coredump: 0x03, nvs_keys: 0x04, efuse: 0x05, fat: 0x81, spiffs: 0x82, littlefs: 0x83 } as const;
export const APP_SUBTYPE = { factory: 0x00, ota_0: 0x10, test: 0x20 } as const;

export interface Partition {
  label: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: number;
}

export interface PartitionTable {
  partitions: Partition[];
  /** True if the table carried an MD5 entry (it matched: a mismatch throws). */
  md5: boolean;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

export function parsePartitionTable(bytes: Uint8Array, name = "partition table"): PartitionTable {
  const partitions: Partition[] = [];
  let md5 = false;
  const limit = Math.min(bytes.length, PARTITION_TABLE_MAX_BYTES);
  for (let at = 0; at + ENTRY_SIZE <= limit; at += ENTRY_SIZE) {
    const e = bytes.subarray(at, at + ENTRY_SIZE);
    if (e.every((b) => b === 0xff)) break;
    if (e[0] === MD5_MAGIC[0] && e[1] === MD5_MAGIC[1]) {
      const expected = Buffer.from(e.subarray(16, 32)).toString("hex");
      const actual = createHash("md5").update(bytes.subarray(0, at)).digest("hex");
      if (expected !== actual) throw new FlashError("bad-image", `${name}: MD5 entry at 0x${at.toString(16)} does not match the entries (corrupt table?)`);
      md5 = true;
      continue;
    }
    if (e[0] !== MAGIC[0] || e[1] !== MAGIC[1]) {
      throw new FlashError("bad-image", `${name}: entry at 0x${at.toString(16)} has no AA 50 magic (is this a partition-table.bin?)`);
    }
    const labelBytes = e.subarray(12, 28);
    const nul = labelBytes.indexOf(0);
    partitions.push({
      type: e[2],
      subtype: e[3],
      offset: u32(e, 4),
      size: u32(e, 8),
      label: new TextDecoder().decode(labelBytes.subarray(0, nul < 0 ? 16 : nul)),
      flags: u32(e, 28),
    });
  }
  if (partitions.length === 0) throw new FlashError("bad-image", `${name}: no partitions`);
  return { partitions, md5 };
}

/** The partition table gen_esp32part.py would write for `partitions` (with its MD5 entry), padded with 0xFF. */
export function encodePartitionTable(partitions: readonly Partition[]): Uint8Array {
  const out = new Uint8Array(PARTITION_TABLE_MAX_BYTES).fill(0xff);
  const view = new DataView(out.buffer);
  partitions.forEach((p, i) => {
    const at = i * ENTRY_SIZE;
    out.set(MAGIC, at);
    out[at + 2] = p.type;
    out[at + 3] = p.subtype;
    view.setUint32(at + 4, p.offset, true);
    view.setUint32(at + 8, p.size, true);
    out.fill(0, at + 12, at + 28);
    const label = new TextEncoder().encode(p.label);
    if (label.length > 16) throw new FlashError("bad-image", `partition label "${p.label}" is longer than 16 bytes`);
    out.set(label, at + 12);
    view.setUint32(at + 28, p.flags, true);
  });
  const md5At = partitions.length * ENTRY_SIZE;
  out.set(MD5_MAGIC, md5At);
  out.set(createHash("md5").update(out.subarray(0, md5At)).digest(), md5At + 16);
  return out;
}

export function findNvsPartition(table: PartitionTable): Partition | undefined {
  return table.partitions.find((p) => p.type === PARTITION_TYPE.data && p.subtype === DATA_SUBTYPE.nvs);
}

/** The partition the bootloader starts when no OTA data says otherwise: factory, else ota_0. */
export function findBootAppPartition(table: PartitionTable): Partition | undefined {
  const apps = table.partitions.filter((p) => p.type === PARTITION_TYPE.app);
  return apps.find((p) => p.subtype === APP_SUBTYPE.factory) ?? apps.find((p) => p.subtype === APP_SUBTYPE.ota_0) ?? apps[0];
}
