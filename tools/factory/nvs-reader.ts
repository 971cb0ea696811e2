/**
 * Reads an NVS partition image back: every page header (CRC checked), the entry state bitmap, every written
 * entry (entry CRC checked, and the data CRC of strings and blob chunks), reassembling v2 blobs from their
 * chunks. Used to verify generated factory images; any inconsistency throws an `NvsReadError`.
 */
import { nvsCrc32 } from "./nvs-crc.js";
import {
  NVS_BITMAP_OFFSET,
  NVS_CHUNK_ANY,
  NVS_ENTRIES_PER_PAGE,
  NVS_ENTRY_SIZE,
  NVS_FIRST_ENTRY_OFFSET,
  NVS_INT_TYPES,
  NVS_PAGE_SIZE,
  NVS_TYPE,
  nvsEntryCrc,
  type NvsIntType,
} from "./nvs-image.js";

export type NvsValue =
  | { type: Exclude<NvsIntType, "u64" | "i64">; value: number }
  | { type: "u64" | "i64"; value: bigint }
  | { type: "string"; value: string }
  | { type: "blob"; value: Uint8Array };

/** namespace → key → value. */
export type NvsContents = Record<string, Record<string, NvsValue>>;

export type NvsReadErrorCode = "page-crc" | "entry-crc" | "data-crc" | "format" | "blob";

export class NvsReadError extends Error {
  override readonly name = "NvsReadError";
  constructor(
    readonly code: NvsReadErrorCode,
    /** Byte offset in the image of the page, entry or data concerned. */
    readonly offset: number,
    message: string,
  ) {
    super(`${message} (at 0x${offset.toString(16)})`);
  }
}

export type NvsPageState = "uninitialized" | "active" | "full" | "freeing" | "corrupt" | "invalid";
export type NvsEntryState = "empty" | "written" | "erased" | "illegal";

export interface NvsEntryInfo {
  /** Entry slot 0..125 in its page. */
  index: number;
  offset: number;
  ns: number;
  type: number;
  span: number;
  chunkIndex: number;
  key: string;
}

export interface NvsPageInfo {
  index: number;
  offset: number;
  state: NvsPageState;
  seq: number;
  version: number;
  /** The state of each of the 126 entry slots, from the bitmap. */
  bitmap: NvsEntryState[];
  /** Entries whose header is marked written, in slot order (data entries of strings/blobs excluded). */
  entries: NvsEntryInfo[];
}

const STATE_NAMES: Record<number, NvsPageState> = {
  0xffffffff: "uninitialized",
  0xfffffffe: "active",
  0xfffffffc: "full",
  0xfffffff8: "freeing",
  0xfffffff0: "corrupt",
};
const ENTRY_STATES: NvsEntryState[] = ["erased", "illegal", "written", "empty"];
const INT_TYPE_BY_CODE = new Map<number, NvsIntType>(NVS_INT_TYPES.map((t) => [NVS_TYPE[t], t]));
const decoder = new TextDecoder("utf-8", { fatal: true });

interface Chunk {
  data: Uint8Array;
  offset: number;
}

/** Every page and the contents; throws `NvsReadError` on a CRC mismatch or malformed structure. */
export function parseNvsImage(image: Uint8Array): { pages: NvsPageInfo[]; contents: NvsContents } {
  if (image.length === 0 || image.length % NVS_PAGE_SIZE !== 0) {
    throw new NvsReadError("format", 0, `image size ${image.length} is not a multiple of ${NVS_PAGE_SIZE}`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const pages: NvsPageInfo[] = [];
  for (let p = 0; p < image.length / NVS_PAGE_SIZE; p++) pages.push(readPage(image, view, p));

  // NVS replays pages in sequence order, so a later write of a key wins.
  const live = pages.filter((p) => p.state === "active" || p.state === "full").sort((a, b) => a.seq - b.seq);
  const names = new Map<number, string>();
  const values = new Map<string, { ns: number; key: string; value: NvsValue }>();
  const chunks = new Map<string, Chunk>();
  const indexes: { ns: number; key: string; size: number; count: number; start: number; offset: number }[] = [];
  const id = (ns: number, key: string) => `${ns}\u0000${key}`;

  for (const page of live) {
    for (const e of page.entries) {
      const data = image.subarray(e.offset + 24, e.offset + 32);
      const intType = INT_TYPE_BY_CODE.get(e.type);
      if (e.ns === 0) {
        // Namespace 0 holds the namespace table: u8 entries name → index.
        if (e.type !== NVS_TYPE.u8) throw new NvsReadError("format", e.offset, `entry "${e.key}" in namespace 0 is not a namespace (type 0x${e.type.toString(16)})`);
        names.set(data[0], e.key);
      } else if (intType) {
        values.set(id(e.ns, e.key), { ns: e.ns, key: e.key, value: readInt(view, e.offset + 24, intType) });
      } else if (e.type === NVS_TYPE.string || e.type === NVS_TYPE.blob) {
        const bytes = varlenData(image, view, e);
        if (e.type === NVS_TYPE.blob) values.set(id(e.ns, e.key), { ns: e.ns, key: e.key, value: { type: "blob", value: bytes } });
        else {
          if (bytes.length === 0 || bytes[bytes.length - 1] !== 0) throw new NvsReadError("format", e.offset, `string "${e.key}" is not NUL-terminated`);
          let text: string;
          try {
            text = decoder.decode(bytes.subarray(0, bytes.length - 1));
          } catch {
            throw new NvsReadError("format", e.offset, `string "${e.key}" is not valid UTF-8`);
          }
          values.set(id(e.ns, e.key), { ns: e.ns, key: e.key, value: { type: "string", value: text } });
        }
      } else if (e.type === NVS_TYPE.blobData) {
        chunks.set(`${id(e.ns, e.key)}\u0000${e.chunkIndex}`, { data: varlenData(image, view, e), offset: e.offset });
      } else if (e.type === NVS_TYPE.blobIndex) {
        indexes.push({ ns: e.ns, key: e.key, size: view.getUint32(e.offset + 24, true), count: data[4], start: data[5], offset: e.offset });
      } else {
        throw new NvsReadError("format", e.offset, `entry "${e.key}" has unknown type 0x${e.type.toString(16)}`);
      }
    }
  }

  // A v2 blob is its index entry's chunks start..start+count-1, concatenated.
  for (const ix of indexes) {
    const parts: Uint8Array[] = [];
    for (let c = ix.start; c < ix.start + ix.count; c++) {
      const chunk = chunks.get(`${id(ix.ns, ix.key)}\u0000${c}`);
      if (!chunk) throw new NvsReadError("blob", ix.offset, `blob "${ix.key}" lacks chunk ${c}`);
      parts.push(chunk.data);
    }
    const value = new Uint8Array(Buffer.concat(parts));
    if (value.length !== ix.size) throw new NvsReadError("blob", ix.offset, `blob "${ix.key}" chunks hold ${value.length} bytes, its index says ${ix.size}`);
    values.set(id(ix.ns, ix.key), { ns: ix.ns, key: ix.key, value: { type: "blob", value } });
  }

  const contents: NvsContents = {};
  for (const name of names.values()) contents[name] = {};
  for (const { ns, key, value } of values.values()) {
    const name = names.get(ns);
    if (name === undefined) throw new NvsReadError("format", 0, `key "${key}" is in namespace index ${ns}, which has no namespace entry`);
    contents[name]![key] = value;
  }
  return { pages, contents };
}

/** namespace → key → {type, value}. */
export function readNvsImage(image: Uint8Array): NvsContents {
  return parseNvsImage(image).contents;
}

function readPage(image: Uint8Array, view: DataView, index: number): NvsPageInfo {
  const base = index * NVS_PAGE_SIZE;
  const raw = view.getUint32(base, true);
  const page: NvsPageInfo = {
    index,
    offset: base,
    state: STATE_NAMES[raw] ?? "invalid",
    seq: view.getUint32(base + 4, true),
    version: image[base + 8],
    bitmap: [],
    entries: [],
  };
  if (page.state === "uninitialized") {
    // An erased page must be erased throughout.
    const bad = image.subarray(base, base + NVS_PAGE_SIZE).findIndex((b) => b !== 0xff);
    if (bad >= 0) throw new NvsReadError("format", base + bad, `page ${index} has no header but is not erased`);
    return page;
  }
  if (page.state === "invalid") throw new NvsReadError("format", base, `page ${index} has an invalid state 0x${raw.toString(16)}`);
  const crc = view.getUint32(base + 28, true);
  if (nvsCrc32(image.subarray(base + 4, base + 28)) !== crc) throw new NvsReadError("page-crc", base, `page ${index} header CRC mismatch`);
  if (page.version !== 0xfe && page.version !== 0xff) throw new NvsReadError("format", base + 8, `page ${index} has unknown version 0x${page.version.toString(16)}`);

  for (let i = 0; i < NVS_ENTRIES_PER_PAGE; i++) {
    const bit = i * 2;
    page.bitmap.push(ENTRY_STATES[(image[base + NVS_BITMAP_OFFSET + (bit >> 3)] >> (bit & 7)) & 3]);
  }
  for (let i = 0; i < NVS_ENTRIES_PER_PAGE; ) {
    const state = page.bitmap[i];
    if (state !== "written") {
      i++;
      continue;
    }
    const offset = base + NVS_FIRST_ENTRY_OFFSET + i * NVS_ENTRY_SIZE;
    const entry = image.subarray(offset, offset + NVS_ENTRY_SIZE);
    if (nvsEntryCrc(entry) !== view.getUint32(offset + 4, true)) throw new NvsReadError("entry-crc", offset, `page ${index} entry ${i} CRC mismatch`);
    const keyBytes = entry.subarray(8, 24);
    const nul = keyBytes.indexOf(0);
    if (nul < 0) throw new NvsReadError("format", offset + 8, `page ${index} entry ${i} key is not NUL-terminated`);
    const info: NvsEntryInfo = {
      index: i,
      offset,
      ns: entry[0],
      type: entry[1],
      span: entry[2],
      chunkIndex: entry[3],
      key: decoder.decode(keyBytes.subarray(0, nul)),
    };
    if (info.span < 1 || i + info.span > NVS_ENTRIES_PER_PAGE) throw new NvsReadError("format", offset, `page ${index} entry ${i} span ${info.span} overruns the page`);
    for (let k = 1; k < info.span; k++) {
      if (page.bitmap[i + k] !== "written") throw new NvsReadError("format", offset, `page ${index} entry ${i}: data entry ${i + k} is not marked written`);
    }
    const isChunk = info.type === NVS_TYPE.blobData;
    if (isChunk !== (info.chunkIndex !== NVS_CHUNK_ANY)) throw new NvsReadError("format", offset, `page ${index} entry ${i}: chunk index 0x${info.chunkIndex.toString(16)} for type 0x${info.type.toString(16)}`);
    page.entries.push(info);
    i += info.span;
  }
  return page;
}

function readInt(view: DataView, at: number, type: NvsIntType): NvsValue {
  switch (type) {
    case "u8":
      return { type, value: view.getUint8(at) };
    case "i8":
      return { type, value: view.getInt8(at) };
    case "u16":
      return { type, value: view.getUint16(at, true) };
    case "i16":
      return { type, value: view.getInt16(at, true) };
    case "u32":
      return { type, value: view.getUint32(at, true) };
    case "i32":
      return { type, value: view.getInt32(at, true) };
    case "u64":
      return { type, value: view.getBigUint64(at, true) };
    case "i64":
      return { type, value: view.getBigInt64(at, true) };
  }
}

/** The bytes after a string/blob/chunk header, checked against its size and data CRC. */
function varlenData(image: Uint8Array, view: DataView, e: NvsEntryInfo): Uint8Array {
  const size = view.getUint16(e.offset + 24, true);
  const room = (e.span - 1) * NVS_ENTRY_SIZE;
  if (size > room || size <= room - NVS_ENTRY_SIZE) throw new NvsReadError("format", e.offset, `entry "${e.key}": ${size} bytes do not match a span of ${e.span}`);
  const data = image.subarray(e.offset + NVS_ENTRY_SIZE, e.offset + NVS_ENTRY_SIZE + size);
  if (nvsCrc32(data) !== view.getUint32(e.offset + 28, true)) throw new NvsReadError("data-crc", e.offset + NVS_ENTRY_SIZE, `entry "${e.key}" data CRC mismatch`);
  return data.slice();
}
