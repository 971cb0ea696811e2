/**
 * ESP-IDF NVS partition image generator, byte-identical to ESP-IDF's `nvs_partition_gen.py generate`
 * (package esp-idf-nvs-partition-gen) for the same input and size.
 *
 * Layout (ESP-IDF nvs_flash documentation): 4096-byte pages; a 32-byte header (state, sequence, version, CRC),
 * a 32-byte entry state bitmap, then 126 entries of 32 bytes. Strings and blob chunks take a header entry
 * followed by their bytes in the next entries. Version 2 (the default) splits blobs into BLOB_DATA chunks that
 * may cross pages, closed by a BLOB_IDX entry; version 1 stores a blob like a string (type 0x41, one page).
 *
 * Page-placement rules follow the reference generator exactly (they decide where every byte lands):
 * - a primitive goes to a new page only when all 126 entries are used;
 * - a string (or v1 blob) of n entries goes to a new page when `used + n >= 126`, so it never takes the last
 *   slot of a page — and one that would need all 126 entries of a fresh page cannot be written at all;
 * - a v2 blob fills the current page's free room (possibly a zero-byte first chunk when only one entry is left),
 *   continues on new pages, and a page it fills completely is closed at once (the index entry goes on the next).
 * - the page being left is marked FULL; pages after the last one used stay erased (0xFF, no header), and the
 *   last page of the partition is always left erased (NVS needs one free page to run).
 *
 * Deliberate departures from the reference (0.2.0), all on inputs where it misbehaves:
 * - returning to an earlier namespace in a CSV files later keys under that namespace (the reference keeps using
 *   the latest namespace's index);
 * - data before any namespace is an error (the reference writes it into namespace 0, the namespace table);
 * - keys `sta.ssid`, `sta.pswd`, `ap.ssid`, `ap.passwd`, `ap.authmode` are written as given (the reference adds
 *   Wi-Fi driver entries such as `sta.apinfo` and `ap.pmk_info` after them);
 * - a `binary` data cell must be ASCII (the reference sizes it in characters but writes UTF-8 bytes);
 * - read-only partitions (0x1000, 0x2000) are not supported.
 */
import { nvsCrc32 } from "./nvs-crc.js";

export const NVS_PAGE_SIZE = 4096;
export const NVS_ENTRY_SIZE = 32;
export const NVS_ENTRIES_PER_PAGE = 126;
export const NVS_BITMAP_OFFSET = 32;
export const NVS_FIRST_ENTRY_OFFSET = 64;
export const NVS_PAGE_ACTIVE = 0xfffffffe;
export const NVS_PAGE_FULL = 0xfffffffc;
/** Version byte in the page header: 0xFE for v2 (multipage blobs), 0xFF for v1. */
export const NVS_VERSION_BYTE = { 1: 0xff, 2: 0xfe } as const;
export const NVS_MAX_KEY_LENGTH = 15;
/** Chunk index of entries that are not blob chunks. */
export const NVS_CHUNK_ANY = 0xff;
/** Reference limits: strings (with their NUL) 4000 bytes, v1 blobs and v1 strings 1984 bytes. */
export const NVS_MAX_STRING_BYTES = 4000;
export const NVS_MAX_V1_BLOB_BYTES = 1984;

export const NVS_TYPE = {
  u8: 0x01,
  i8: 0x11,
  u16: 0x02,
  i16: 0x12,
  u32: 0x04,
  i32: 0x14,
  u64: 0x08,
  i64: 0x18,
  string: 0x21,
  blob: 0x41,
  blobData: 0x42,
  blobIndex: 0x48,
} as const;

export type NvsIntType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64";
export const NVS_INT_TYPES: readonly NvsIntType[] = ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"];

/** One item of an image, in write order; data entries belong to the namespace entry before them. */
export type NvsEntry =
  | { kind: "namespace"; name: string }
  | { kind: "int"; key: string; type: NvsIntType; value: number | bigint }
  | { kind: "string"; key: string; value: string }
  | { kind: "blob"; key: string; value: Uint8Array };

export type NvsImageErrorCode =
  | "key-too-long"
  | "unknown-encoding"
  | "unknown-type"
  | "value-out-of-range"
  | "invalid-value"
  | "string-too-long"
  | "blob-too-long"
  | "image-too-small"
  | "bad-size"
  | "no-namespace"
  | "csv-format";

export class NvsImageError extends Error {
  override readonly name = "NvsImageError";
  constructor(
    readonly code: NvsImageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface NvsBuildOptions {
  /** NVS format version: 2 (multipage blobs, the default) or 1. */
  version?: 1 | 2;
}

const INT_RANGE: Record<NvsIntType, { bytes: number; min: bigint; max: bigint }> = {
  u8: { bytes: 1, min: 0n, max: 0xffn },
  i8: { bytes: 1, min: -0x80n, max: 0x7fn },
  u16: { bytes: 2, min: 0n, max: 0xffffn },
  i16: { bytes: 2, min: -0x8000n, max: 0x7fffn },
  u32: { bytes: 4, min: 0n, max: 0xffffffffn },
  i32: { bytes: 4, min: -0x80000000n, max: 0x7fffffffn },
  u64: { bytes: 8, min: 0n, max: 0xffffffffffffffffn },
  i64: { bytes: 8, min: -0x8000000000000000n, max: 0x7fffffffffffffffn },
};

const utf8 = new TextEncoder();

/** Throws unless `size` is a usable read/write partition size. */
export function checkNvsSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % NVS_PAGE_SIZE !== 0) {
    throw new NvsImageError("bad-size", `NVS partition size ${size} is not a positive multiple of 4096`);
  }
  if (size < 3 * NVS_PAGE_SIZE) {
    throw new NvsImageError("bad-size", `NVS partition size 0x${size.toString(16)} is below the 0x3000 minimum of a read/write partition`);
  }
}

export function checkNvsKey(key: string): void {
  // The reference counts characters; NVS itself stores at most 15 bytes plus a NUL.
  if (key.length > NVS_MAX_KEY_LENGTH || utf8.encode(key).length > NVS_MAX_KEY_LENGTH) {
    throw new NvsImageError("key-too-long", `NVS key "${key}" is longer than ${NVS_MAX_KEY_LENGTH} characters`);
  }
}

/** Range-checks an integer value for its NVS type and returns it as a bigint. */
export function checkNvsInt(key: string, type: NvsIntType, value: number | bigint): bigint {
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new NvsImageError("invalid-value", `NVS key "${key}": ${value} is not an integer`);
  }
  const v = BigInt(value);
  const range = INT_RANGE[type];
  if (v < range.min || v > range.max) {
    throw new NvsImageError("value-out-of-range", `NVS key "${key}": ${v} is out of range for ${type} (${range.min}..${range.max})`);
  }
  return v;
}

/** Builds a `size`-byte NVS partition image holding `entries`. */
export function buildNvsImage(entries: readonly NvsEntry[], size: number, options: NvsBuildOptions = {}): Uint8Array {
  checkNvsSize(size);
  const version = options.version ?? 2;
  const writer = new PageWriter(size, version);
  const namespaces = new Map<string, number>();
  let ns = 0;
  for (const entry of entries) {
    if (entry.kind === "namespace") {
      checkNvsKey(entry.name);
      const known = namespaces.get(entry.name);
      if (known !== undefined) {
        // Going back to a namespace reuses its index. (The reference keeps writing to the latest namespace here.)
        ns = known;
        continue;
      }
      if (namespaces.size >= 254) throw new NvsImageError("value-out-of-range", "more than 254 NVS namespaces");
      ns = namespaces.size + 1;
      namespaces.set(entry.name, ns);
      // A namespace is a u8 entry in namespace 0 whose key is the name and whose value is the index.
      writer.writePrimitive(0, entry.name, "u8", BigInt(ns));
      continue;
    }
    checkNvsKey(entry.key);
    if (ns === 0) throw new NvsImageError("no-namespace", `NVS key "${entry.key}" comes before any namespace`);
    if (entry.kind === "int") writer.writePrimitive(ns, entry.key, entry.type, checkNvsInt(entry.key, entry.type, entry.value));
    else if (entry.kind === "string") writer.writeString(ns, entry.key, entry.value);
    else if (version === 2) writer.writeBlobV2(ns, entry.key, entry.value);
    else writer.writeBlobV1(ns, entry.key, entry.value);
  }
  return writer.image;
}

/** Lays entries into pages the way the reference generator does. */
class PageWriter {
  readonly image: Uint8Array;
  private readonly view: DataView;
  /** Pages that may hold data: the partition minus the one NVS keeps free. */
  private readonly usablePages: number;
  private page = -1;
  private used = 0;

  constructor(
    size: number,
    private readonly version: 1 | 2,
  ) {
    this.image = new Uint8Array(size).fill(0xff);
    this.view = new DataView(this.image.buffer);
    this.usablePages = size / NVS_PAGE_SIZE - 1;
    this.startPage();
  }

  writePrimitive(ns: number, key: string, type: NvsIntType, value: bigint): void {
    if (this.used >= NVS_ENTRIES_PER_PAGE) this.nextPage();
    const e = newEntry(ns, NVS_TYPE[type], 1, NVS_CHUNK_ANY, key);
    const dv = new DataView(e.buffer);
    const n = INT_RANGE[type].bytes;
    // Little-endian two's complement in the first n bytes of the data field; the rest stays 0xFF.
    const raw = BigInt.asUintN(64, value);
    for (let i = 0; i < n; i++) dv.setUint8(24 + i, Number((raw >> BigInt(8 * i)) & 0xffn));
    this.writeEntry(sealEntry(e));
  }

  writeString(ns: number, key: string, value: string): void {
    const data = utf8.encode(value + "\0");
    // Version 1 caps strings like blobs.
    const limit = this.version === 2 ? NVS_MAX_STRING_BYTES : NVS_MAX_V1_BLOB_BYTES;
    if (data.length > limit) {
      throw new NvsImageError("string-too-long", `NVS string "${key}" is ${data.length} bytes with its NUL; the limit is ${limit}`);
    }
    this.writeSinglePage(ns, key, NVS_TYPE.string, data, "string-too-long");
  }

  writeBlobV1(ns: number, key: string, data: Uint8Array): void {
    if (data.length > NVS_MAX_V1_BLOB_BYTES) {
      throw new NvsImageError("blob-too-long", `NVS blob "${key}" is ${data.length} bytes; version 1 allows ${NVS_MAX_V1_BLOB_BYTES}`);
    }
    this.writeSinglePage(ns, key, NVS_TYPE.blob, data, "blob-too-long");
  }

  /** A version-2 blob: BLOB_DATA chunks filling pages as they come, then one BLOB_IDX entry. */
  writeBlobV2(ns: number, key: string, data: Uint8Array): void {
    if (this.used >= NVS_ENTRIES_PER_PAGE) this.nextPage();
    let offset = 0;
    let chunk = 0;
    for (;;) {
      // The chunk takes whatever room the page has left after its header entry — possibly none.
      const room = (NVS_ENTRIES_PER_PAGE - this.used - 1) * NVS_ENTRY_SIZE;
      const chunkSize = Math.min(room, data.length - offset);
      if (chunk >= NVS_CHUNK_ANY) throw new NvsImageError("blob-too-long", `NVS blob "${key}" needs more than 255 chunks`);
      this.writeVarlen(ns, key, NVS_TYPE.blobData, chunk, data.subarray(offset, offset + chunkSize));
      offset += chunkSize;
      chunk++;
      const done = offset === data.length;
      // More data to go, or a page filled to the last entry: the next page starts now.
      if (!done || this.used >= NVS_ENTRIES_PER_PAGE) this.nextPage();
      if (done) break;
    }
    const e = newEntry(ns, NVS_TYPE.blobIndex, 1, NVS_CHUNK_ANY, key);
    const dv = new DataView(e.buffer);
    dv.setUint32(24, data.length, true);
    dv.setUint8(28, chunk); // chunk count
    dv.setUint8(29, 0); // chunk start (the reference always starts at 0)
    this.writeEntry(sealEntry(e));
  }

  /** A string or v1 blob: header and data on one page, moving to a new page unless it fits with a slot to spare. */
  private writeSinglePage(ns: number, key: string, type: number, data: Uint8Array, tooLong: NvsImageErrorCode): void {
    const span = 1 + Math.ceil(data.length / NVS_ENTRY_SIZE);
    if (this.used + span >= NVS_ENTRIES_PER_PAGE) {
      if (span >= NVS_ENTRIES_PER_PAGE) {
        // Even an empty page is "full" for it under the reference's rule (its generator dies here).
        throw new NvsImageError(tooLong, `NVS value "${key}" is ${data.length} bytes: it needs ${span} of a page's ${NVS_ENTRIES_PER_PAGE} entries, at most ${NVS_ENTRIES_PER_PAGE - 1} fit`);
      }
      this.nextPage();
    }
    this.writeVarlen(ns, key, type, NVS_CHUNK_ANY, data);
  }

  /** Header entry `size u16, 0xFFFF, CRC32(data)` followed by the data, 0xFF-padded to whole entries. */
  private writeVarlen(ns: number, key: string, type: number, chunkIndex: number, data: Uint8Array): void {
    const dataEntries = Math.ceil(data.length / NVS_ENTRY_SIZE);
    const e = newEntry(ns, type, 1 + dataEntries, chunkIndex, key);
    const dv = new DataView(e.buffer);
    dv.setUint16(24, data.length, true);
    dv.setUint32(28, nvsCrc32(data), true);
    this.writeEntry(sealEntry(e));
    this.image.set(data, this.entryOffset(this.used));
    for (let i = 0; i < dataEntries; i++) this.markWritten();
  }

  private writeEntry(entry: Uint8Array): void {
    this.image.set(entry, this.entryOffset(this.used));
    this.markWritten();
  }

  private entryOffset(index: number): number {
    return this.page * NVS_PAGE_SIZE + NVS_FIRST_ENTRY_OFFSET + index * NVS_ENTRY_SIZE;
  }

  /** Bitmap: two bits per entry, LSB first; 11 empty → 10 written (clear the low bit). */
  private markWritten(): void {
    const bit = this.used * 2;
    this.image[this.page * NVS_PAGE_SIZE + NVS_BITMAP_OFFSET + (bit >> 3)] &= ~(1 << (bit & 7));
    this.used++;
  }

  private nextPage(): void {
    this.view.setUint32(this.page * NVS_PAGE_SIZE, NVS_PAGE_FULL, true);
    this.startPage();
  }

  private startPage(): void {
    if (this.page + 1 >= this.usablePages) {
      throw new NvsImageError(
        "image-too-small",
        `the entries need more than ${this.usablePages} NVS pages; a ${this.image.length}-byte partition has ${this.usablePages} plus the one NVS keeps free`,
      );
    }
    this.page++;
    this.used = 0;
    const base = this.page * NVS_PAGE_SIZE;
    // Header: state, sequence number, version, 19 bytes 0xFF, CRC32 of bytes 4..27.
    this.view.setUint32(base, NVS_PAGE_ACTIVE, true);
    this.view.setUint32(base + 4, this.page, true);
    this.image[base + 8] = NVS_VERSION_BYTE[this.version];
    this.view.setUint32(base + 28, nvsCrc32(this.image.subarray(base + 4, base + 28)), true);
  }
}

/** A 32-byte entry with 0xFF data and a NUL-padded key; CRC not yet set. */
function newEntry(ns: number, type: number, span: number, chunkIndex: number, key: string): Uint8Array {
  const e = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff);
  e[0] = ns;
  e[1] = type;
  e[2] = span;
  e[3] = chunkIndex;
  e.fill(0, 8, 24);
  e.set(utf8.encode(key), 8);
  return e;
}

/** The entry CRC covers bytes 0..3 and 8..31 (everything but itself). */
export function nvsEntryCrc(entry: Uint8Array): number {
  const covered = new Uint8Array(28);
  covered.set(entry.subarray(0, 4), 0);
  covered.set(entry.subarray(8, 32), 4);
  return nvsCrc32(covered);
}

function sealEntry(e: Uint8Array): Uint8Array {
  new DataView(e.buffer, e.byteOffset).setUint32(4, nvsEntryCrc(e), true);
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// Input formats: the reference's CSV, and a JSON object namespace → key → value.

/** CSV encodings of the reference generator. */
export type NvsEncoding = NvsIntType | "string" | "hex2bin" | "base64" | "binary";
const VARLEN_ENCODINGS = ["string", "hex2bin", "base64", "binary"] as const;

/**
 * Converts one CSV value — the cell text for `data` rows, the file's bytes for `file` rows — to an entry.
 * `string` gets a NUL on write; `binary` is the raw bytes (of the cell text as UTF-8, or of the file).
 */
export function nvsEntryFromEncoded(key: string, encoding: string, value: string | Uint8Array): NvsEntry {
  const text = () => (typeof value === "string" ? value : new TextDecoder("utf-8", { fatal: true }).decode(value));
  // The reference lower-cases integer encodings before use; the variable-length ones must be lower case.
  const lower = encoding.toLowerCase();
  if ((NVS_INT_TYPES as readonly string[]).includes(lower)) {
    const type = lower as NvsIntType;
    const t = text().trim();
    if (!/^[+-]?\d+$/.test(t)) throw new NvsImageError("invalid-value", `NVS key "${key}": "${t}" is not a decimal ${type}`);
    const v = BigInt(t);
    checkNvsInt(key, type, v);
    return { kind: "int", key, type, value: v };
  }
  switch (encoding) {
    case "string":
      return { kind: "string", key, value: text() };
    case "hex2bin":
      return { kind: "blob", key, value: hexToBytes(key, text()) };
    case "base64":
      return { kind: "blob", key, value: base64ToBytes(key, text()) };
    case "binary":
      if (typeof value !== "string") return { kind: "blob", key, value };
      // The reference sizes a `binary` cell by characters but writes UTF-8: only ASCII comes out consistent.
      if (!/^[\x00-\x7f]*$/.test(value)) throw new NvsImageError("invalid-value", `NVS key "${key}": a binary data cell must be ASCII (use hex2bin or base64)`);
      return { kind: "blob", key, value: utf8.encode(value) };
    default:
      throw new NvsImageError("unknown-encoding", `NVS key "${key}": unknown encoding "${encoding}" (expected one of ${[...NVS_INT_TYPES, ...VARLEN_ENCODINGS].join(", ")})`);
  }
}

function hexToBytes(key: string, text: string): Uint8Array {
  const hex = text.trim();
  if (hex.length % 2 !== 0) throw new NvsImageError("invalid-value", `NVS key "${key}": hex2bin value has an odd number of digits`);
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new NvsImageError("invalid-value", `NVS key "${key}": hex2bin value has non-hex characters`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Lenient like Python's `binascii.a2b_base64`: characters outside the alphabet are skipped; padding must be complete. */
function base64ToBytes(key: string, text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/=]/g, "");
  const pad = clean.indexOf("=");
  const body = pad < 0 ? clean : clean.slice(0, pad);
  const pads = pad < 0 ? 0 : clean.length - pad;
  if (body.length % 4 === 1 || (body.length % 4 !== 0 && pads < 4 - (body.length % 4))) {
    throw new NvsImageError("invalid-value", `NVS key "${key}": base64 value has incorrect padding`);
  }
  return new Uint8Array(Buffer.from(body, "base64"));
}

/**
 * Parses the reference generator's CSV (header `key,type,encoding,value`, in any column order; lines starting
 * with `#` skipped; RFC 4180 quoting). `file` rows name a file whose bytes are read with `readFile` (the reference
 * resolves relative paths against its working directory) and decoded by the row's encoding.
 */
export function parseNvsCsv(text: string, readFile?: (path: string) => Uint8Array): NvsEntry[] {
  // Comment lines become blank ones (not removed), so the line numbers in errors are the file's.
  const lines = text.replace(/\r\n?/g, "\n").split("\n").map((l) => (l.startsWith("#") ? "" : l));
  if (lines[lines.length - 1] === "") lines.pop();
  const rows = parseCsvRows(lines.join("\n")).filter((r) => r.fields.length > 0);
  const headerRow = rows.shift();
  if (!headerRow) throw new NvsImageError("csv-format", "NVS CSV is empty: the first line must be the header key,type,encoding,value");
  const header = headerRow.fields;
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new NvsImageError("csv-format", `NVS CSV header has no "${name}" column: ${header.join(",")}`);
    return i;
  };
  const [kc, tc, ec, vc] = [col("key"), col("type"), col("encoding"), col("value")];
  const entries: NvsEntry[] = [];
  for (const { fields: row, line } of rows) {
    const key = row[kc] ?? "";
    const type = row[tc] ?? "";
    const encoding = row[ec] ?? "";
    const value = row[vc] ?? "";
    try {
      checkNvsKey(key);
      if (type === "namespace") entries.push({ kind: "namespace", name: key });
      else if (type === "data") entries.push(nvsEntryFromEncoded(key, encoding, value));
      else if (type === "file") {
        if (!readFile) throw new NvsImageError("csv-format", "a file row needs a readFile function");
        entries.push(nvsEntryFromEncoded(key, encoding, readFile(value)));
      } else {
        throw new NvsImageError("unknown-type", `unknown type "${type}" (expected namespace, data or file)`);
      }
    } catch (e) {
      if (e instanceof NvsImageError) throw new NvsImageError(e.code, `NVS CSV line ${line}: ${e.message}`);
      throw e;
    }
  }
  return entries;
}

/** RFC 4180 rows (Python csv defaults: `"` quotes, `""` escapes, quoted fields may span lines), with the line each starts on. */
function parseCsvRows(text: string): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let any = false; // the current row has content
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && field === "") {
      quoted = true;
      any = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
      any = true;
    } else if (c === "\n") {
      if (any) row.push(field);
      rows.push({ fields: row, line: rowLine });
      row = [];
      field = "";
      any = false;
      rowLine = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new NvsImageError("csv-format", "NVS CSV ends inside a quoted field");
  if (any) {
    row.push(field);
    rows.push({ fields: row, line: rowLine });
  }
  return rows;
}

/** A JSON value for `nvsEntriesFromJson`. */
export type NvsJsonValue =
  | string
  | number
  | bigint
  | Uint8Array
  | { base64: string }
  | { type: NvsIntType; value: number | bigint | string }
  | { type: "string"; value: string }
  | { type: "blob"; value: Uint8Array | { base64: string } }
  | { type: "hex2bin" | "base64" | "binary"; value: string };

/**
 * Entries from `{namespace: {key: value}}`: strings → string, integers → i32 (bigints → i64),
 * Uint8Array or `{base64}` → blob, `{type, value}` for any other type (`type` an NVS type or a CSV encoding).
 */
export function nvsEntriesFromJson(obj: Record<string, Record<string, NvsJsonValue>>): NvsEntry[] {
  const entries: NvsEntry[] = [];
  for (const [ns, values] of Object.entries(obj)) {
    checkNvsKey(ns);
    entries.push({ kind: "namespace", name: ns });
    for (const [key, v] of Object.entries(values)) {
      checkNvsKey(key);
      entries.push(jsonEntry(key, v));
    }
  }
  return entries;
}

function jsonEntry(key: string, v: unknown): NvsEntry {
  if (typeof v === "string") return { kind: "string", key, value: v };
  if (typeof v === "number") return { kind: "int", key, type: "i32", value: checkNvsInt(key, "i32", v) };
  if (typeof v === "bigint") return { kind: "int", key, type: "i64", value: checkNvsInt(key, "i64", v) };
  if (v instanceof Uint8Array) return { kind: "blob", key, value: v };
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.base64 === "string" && !("type" in o)) return { kind: "blob", key, value: base64ToBytes(key, o.base64) };
    if (typeof o.type === "string" && "value" in o) {
      const { type, value } = o as { type: string; value: unknown };
      if ((NVS_INT_TYPES as readonly string[]).includes(type) && (typeof value === "number" || typeof value === "bigint")) {
        return { kind: "int", key, type: type as NvsIntType, value: checkNvsInt(key, type as NvsIntType, value) };
      }
      if (type === "blob") {
        if (value instanceof Uint8Array) return { kind: "blob", key, value };
        const b64 = (value as { base64?: unknown } | null)?.base64;
        if (typeof b64 === "string") return { kind: "blob", key, value: base64ToBytes(key, b64) };
        throw new NvsImageError("invalid-value", `NVS key "${key}": a blob value must be a Uint8Array or {base64}`);
      }
      if (typeof value === "string") return nvsEntryFromEncoded(key, type, value);
      throw new NvsImageError("invalid-value", `NVS key "${key}": value of type ${type} must be a ${NVS_INT_TYPES.includes(type as NvsIntType) ? "number, bigint or decimal string" : "string"}`);
    }
  }
  throw new NvsImageError("invalid-value", `NVS key "${key}": unsupported JSON value ${String(v)}`);
}
