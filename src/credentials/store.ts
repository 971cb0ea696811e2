/**
 * The power-safe credential store: two slots on the key-value port, each holding a whole record (record.ts),
 * written so that a power cut at any single erase or write leaves the previous or the new record readable.
 *
 * Keys (prefix "cred" by default): slot a is "cred.a", then "cred.a1", "cred.a2", "cred.a3" for the 2nd to 4th
 * 4000-byte pieces of a record too long for one NVS value (X.509 certificate and key); slot b likewise.
 *
 * Why it survives power cuts:
 * - save() writes only the slot that does NOT hold the newest valid record, with that record's sequence + 1; the
 *   newest record is never touched, so it stays readable until the new one is complete.
 * - Within the slot being written, the first piece (which carries the header and is what load() looks at first)
 *   is removed before the other pieces are rewritten and written back last: a valid first piece therefore means
 *   every piece after it was written by the same save. The CRC over all pieces catches any damage besides.
 * - load() takes the valid record with the newest sequence; anything else is reported, never thrown.
 * - factoryReset() removes the older record first, so a cut half-way never brings back older credentials.
 */

import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES, type KeyValueStore } from "../ports.js";
import { CredentialStoreError, CredentialTooLargeError } from "./errors.js";
import {
  decodeRecord,
  encodeRecord,
  encodedRecordLength,
  isNewerSequence,
  readRecordHeader,
  type CredentialRecord,
  type RecordProblem,
} from "./record.js";

export type SlotName = "a" | "b";

/** What a slot held at load time. */
export type SlotState = "valid" | "empty" | "incomplete" | RecordProblem;

export interface SlotReport {
  slot: SlotName;
  state: SlotState;
  /** Sequence of a valid record. */
  sequence?: number;
  /** Why the slot is not valid, for a log line (never contains stored values). */
  detail?: string;
}

export interface CredentialLoadResult {
  /** The newest valid record, or undefined when neither slot holds one. */
  record: CredentialRecord | undefined;
  /** Its sequence number and slot. */
  sequence?: number;
  slot?: SlotName;
  /** Both slots, a then b: e.g. to log "slot b corrupt (CRC mismatch), using slot a". */
  slots: [SlotReport, SlotReport];
}

export interface CredentialSaveResult {
  slot: SlotName;
  sequence: number;
  /** Bytes of the encoded record. */
  bytes: number;
}

export interface CredentialStoreOptions {
  /** Start of every key (at most 12 characters, so keys stay within NVS's 15). Default "cred". */
  keyPrefix?: string;
  /**
   * How many 4000-byte values one record may span, 1 to 4. Default 2 (8000 bytes): room for an RSA-4096 key and
   * its certificate. Both slots may use this much of the NVS partition, which Wi-Fi shares.
   */
  maxParts?: number;
}

/** Most values a record can span in any configuration; load() reads records up to this size whatever maxParts says. */
export const MAX_PARTS_LIMIT = 4;
export const DEFAULT_KEY_PREFIX = "cred";
export const DEFAULT_MAX_PARTS = 2;

const SLOTS: readonly SlotName[] = Object.freeze(["a", "b"] as const);

interface SlotScan {
  report: SlotReport;
  /** The decoded record of a valid slot. */
  record?: CredentialRecord;
}

export class CredentialStore {
  private readonly kv: KeyValueStore;
  private readonly prefix: string;
  readonly maxParts: number;
  /** Largest encoded record save() accepts. */
  readonly maxRecordBytes: number;

  constructor(kv: KeyValueStore, options: CredentialStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
    if (typeof prefix !== "string" || prefix.length === 0 || prefix.length > KV_MAX_KEY_LENGTH - 3) {
      throw new CredentialStoreError("invalid-options", `keyPrefix must be 1 to ${KV_MAX_KEY_LENGTH - 3} characters (NVS keys are at most ${KV_MAX_KEY_LENGTH})`);
    }
    if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS_LIMIT) {
      throw new CredentialStoreError("invalid-options", `maxParts must be an integer from 1 to ${MAX_PARTS_LIMIT}`);
    }
    this.kv = kv;
    this.prefix = prefix;
    this.maxParts = maxParts;
    this.maxRecordBytes = maxParts * KV_MAX_VALUE_BYTES;
  }

  /** The key of piece `part` (0-based) of `slot`. */
  keyOf(slot: SlotName, part: number): string {
    return part === 0 ? `${this.prefix}.${slot}` : `${this.prefix}.${slot}${part}`;
  }

  /** Every key this store may use, for tools that build or inspect NVS images. */
  get keys(): string[] {
    const keys: string[] = [];
    for (const slot of SLOTS) for (let p = 0; p < MAX_PARTS_LIMIT; p++) keys.push(this.keyOf(slot, p));
    return keys;
  }

  /**
   * Validates `record` against the record rules and this store's size; returns its encoded size.
   * Throws InvalidCredentialRecordError or CredentialTooLargeError — what save() would throw, without writing.
   */
  check(record: CredentialRecord): number {
    const bytes = encodedRecordLength(record);
    if (bytes > this.maxRecordBytes) throw new CredentialTooLargeError(bytes, this.maxRecordBytes);
    return bytes;
  }

  /** The newest valid record, with a report on both slots. Never throws for bad data (only if the store fails). */
  load(): CredentialLoadResult {
    const a = this.scan("a");
    const b = this.scan("b");
    const newest = pickNewest(a, b);
    return {
      record: newest?.record,
      sequence: newest?.report.sequence,
      slot: newest?.report.slot,
      slots: [a.report, b.report],
    };
  }

  /**
   * Stores `record` as the newest one. Invalid or too-large records are refused before anything is written.
   * If power fails during save(), load() afterwards returns this record or the one that was newest before.
   */
  save(record: CredentialRecord): CredentialSaveResult {
    const size = this.check(record);
    const newest = this.newest();
    const slot: SlotName = newest ? (newest.slot === "a" ? "b" : "a") : "a";
    const sequence = newest ? (newest.sequence! + 1) >>> 0 : 1;
    const encoded = encodeRecord(record, sequence);
    const parts = Math.ceil(size / KV_MAX_VALUE_BYTES);
    const first = this.keyOf(slot, 0);
    if (parts > 1) {
      // Invalidate the slot before its later pieces change, and commit by writing the first piece last.
      this.kv.delete(first);
      for (let p = 1; p < parts; p++) {
        this.kv.set(this.keyOf(slot, p), encoded.subarray(p * KV_MAX_VALUE_BYTES, Math.min(size, (p + 1) * KV_MAX_VALUE_BYTES)));
      }
    }
    this.kv.set(first, parts > 1 ? encoded.subarray(0, KV_MAX_VALUE_BYTES) : encoded);
    // Pieces left over from a longer record in this slot: unread (the length field says where the record ends),
    // removed to give the NVS space back.
    for (let p = parts; p < MAX_PARTS_LIMIT; p++) this.kv.delete(this.keyOf(slot, p));
    return { slot, sequence, bytes: size };
  }

  /**
   * Marks the newest record confirmed (pending false) with the time provisioning succeeded, as a new save.
   * Throws CredentialStoreError "nothing-to-confirm" when no record is stored.
   */
  confirm(provisionedAtMs: number): CredentialSaveResult {
    const current = this.load().record;
    if (!current) throw new CredentialStoreError("nothing-to-confirm", "no stored credential record to confirm: save the pending record first");
    return this.save({ ...current, pending: false, provisionedAtMs });
  }

  /**
   * Erases both slots. The older record goes first, then the newest, then the extra pieces: a power cut half-way
   * leaves the newest record or nothing, never an older one.
   */
  factoryReset(): void {
    const order: SlotName[] = this.newest()?.slot === "a" ? ["b", "a"] : ["a", "b"];
    for (const slot of order) this.kv.delete(this.keyOf(slot, 0));
    for (const slot of order) for (let p = 1; p < MAX_PARTS_LIMIT; p++) this.kv.delete(this.keyOf(slot, p));
  }

  /** Report of the slot holding the newest valid record (the decoded record itself is dropped at once). */
  private newest(): SlotReport | undefined {
    return pickNewest(this.scan("a"), this.scan("b"))?.report;
  }

  /**
   * Reads and fully decodes one slot. save() and factoryReset() use the same check as load() (not a cheaper
   * CRC-only one): otherwise a slot load() rejects could count as "newest" there, and save() would overwrite the
   * record load() returns. They keep only the report, so the decoded strings are garbage at once.
   */
  private scan(slot: SlotName): SlotScan {
    const first = this.kv.get(this.keyOf(slot, 0));
    if (first === undefined) return { report: { slot, state: "empty" } };
    const header = readRecordHeader(first);
    if (!header.ok) return { report: { slot, state: header.problem, detail: header.detail } };
    const { length, sequence } = header;
    const parts = Math.ceil(length / KV_MAX_VALUE_BYTES);
    if (parts > MAX_PARTS_LIMIT) return { report: { slot, state: "corrupt", detail: "length field too large" } };
    const firstLength = Math.min(length, KV_MAX_VALUE_BYTES);
    if (first.length !== firstLength) {
      return { report: { slot, state: "corrupt", detail: `first piece is ${first.length} bytes, the length field implies ${firstLength}` } };
    }
    let whole = first;
    if (parts > 1) {
      whole = new Uint8Array(length);
      whole.set(first, 0);
      for (let p = 1; p < parts; p++) {
        const piece = this.kv.get(this.keyOf(slot, p));
        const expected = Math.min(length - p * KV_MAX_VALUE_BYTES, KV_MAX_VALUE_BYTES);
        if (piece === undefined) return { report: { slot, state: "incomplete", detail: `piece ${p + 1} of ${parts} is missing` } };
        if (piece.length !== expected) return { report: { slot, state: "corrupt", detail: `piece ${p + 1} of ${parts} is the wrong size` } };
        whole.set(piece, p * KV_MAX_VALUE_BYTES);
      }
    }
    const decoded = decodeRecord(whole);
    if (!decoded.ok) return { report: { slot, state: decoded.problem, detail: decoded.detail } };
    return { report: { slot, state: "valid", sequence }, record: decoded.record };
  }
}

/** The valid scan with the newer sequence (a on a tie, which save() never produces). */
function pickNewest(a: SlotScan, b: SlotScan): SlotScan | undefined {
  const aValid = a.report.state === "valid";
  const bValid = b.report.state === "valid";
  if (aValid && bValid) return isNewerSequence(b.report.sequence!, a.report.sequence!) ? b : a;
  if (aValid) return a;
  if (bValid) return b;
  return undefined;
}
