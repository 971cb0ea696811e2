/**
 * The Node host's NVS: a KeyValueStore (src/ports.ts) kept in files, behaving like ESP32 NVS under Moddable's
 * Preference, so the simulated device keeps its state across restarts and tests can cut its power mid-write.
 *
 * Layout: one directory per device; one file per namespace (Preference's "domain") in it,
 * `<dir>/<namespace>.nvs.json` = {"format":"tbsdk-nvs","version":1,"namespace":…,"entries":{key: base64}}.
 * One file per namespace (not per key) because that is what Moddable's own `lin` Preference does (one JSON
 * file), any key string is allowed (no escaping into file names), and the whole state of a device is
 * readable at a glance.
 *
 * Each flash step is one atomic, durable replacement of the file: write `<file>.tmp`, fsync it, rename it over
 * the file, fsync the directory. A set() of an existing key is two steps, as on the device (erase the old
 * entry, then write the new one, moddable-notes.md); a set() of a new key is one write; a delete() of an
 * existing key is one erase; a delete() of an absent key changes nothing and is no step. A kill -9 or a
 * power loss at any moment leaves the file as it was after some whole step, never torn.
 *
 * cutPowerAfter(n) makes step n (1-based) take effect and then throws NvsPowerCutError; the instance is dead
 * from then on, and reboot() (or a new instance on the same directory) is the next boot. Same rules as the
 * core tests' MemoryKeyValueStore, so fault-injection tests can run the same agent code on either.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES, type KeyValueStore } from "../../src/ports.js";

export const NVS_FILE_FORMAT = "tbsdk-nvs";
export const NVS_FILE_VERSION = 1;
export const DEFAULT_NVS_NAMESPACE = "tbsdk";
const NAMESPACE_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/;

/** Power was cut (by request) after flash step `step`; the store that threw it is off for good. */
export class NvsPowerCutError extends Error {
  readonly step: number;
  constructor(step: number) {
    super(`NVS emulation: power cut after flash step ${step}`);
    this.step = step;
    this.name = "NvsPowerCutError";
  }
}

/** A key, value or namespace NVS would refuse; nothing was changed. */
export class NvsLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NvsLimitError";
  }
}

/** The namespace file exists but is not one this emulation wrote. */
export class NvsFileFormatError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file} is not an NVS emulation file (${problem}): move it away or delete it to start with empty NVS`);
    this.file = file;
    this.name = "NvsFileFormatError";
  }
}

export type NvsStep = { kind: "erase" | "write"; key: string };

export interface NvsFileOptions {
  /** Preference domain: 1 to 15 characters of A-Z a-z 0-9 _ . - (it names the file). Default "tbsdk". */
  namespace?: string;
  /** Lose power right after this flash step (1-based), as cutPowerAfter() does. */
  cutPowerAfter?: number;
  /** fsync every step (default true). Off only where durability across an OS crash does not matter. */
  fsync?: boolean;
}

interface NvsFileContent {
  format: string;
  version: number;
  namespace: string;
  entries: Record<string, string>;
}

export class NvsFileStore implements KeyValueStore {
  readonly dir: string;
  readonly namespace: string;
  /** The namespace file. */
  readonly file: string;
  /** Steps taken by this instance, in order. */
  readonly steps: NvsStep[] = [];
  private readonly fsync: boolean;
  private cutAfter: number | undefined;
  private dead = false;

  constructor(dir: string, options: NvsFileOptions = {}) {
    const namespace = options.namespace ?? DEFAULT_NVS_NAMESPACE;
    if (typeof namespace !== "string" || !NAMESPACE_PATTERN.test(namespace)) {
      throw new NvsLimitError("NVS namespace must be 1 to 15 characters of A-Z a-z 0-9 _ . -");
    }
    this.dir = path.resolve(dir);
    this.namespace = namespace;
    this.file = path.join(this.dir, `${namespace}.nvs.json`);
    this.fsync = options.fsync ?? true;
    fs.mkdirSync(this.dir, { recursive: true });
    this.read(); // a file this emulation cannot read is reported now, not at the first get()
    if (options.cutPowerAfter !== undefined) this.cutPowerAfter(options.cutPowerAfter);
  }

  /** Lose power right after step `n` from now (1-based); undefined disarms. */
  cutPowerAfter(n: number | undefined): this {
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new RangeError("cutPowerAfter takes a step number from 1");
    this.cutAfter = n === undefined ? undefined : this.steps.length + n;
    return this;
  }

  /** True once power was cut: every further call throws NvsPowerCutError. */
  get poweredOff(): boolean {
    return this.dead;
  }

  /** The next boot: a new instance on the same directory and namespace, no cut armed. */
  reboot(): NvsFileStore {
    return new NvsFileStore(this.dir, { namespace: this.namespace, fsync: this.fsync });
  }

  /** Keys present, sorted (Preference.keys(domain)). */
  keys(): string[] {
    this.alive();
    return Object.keys(this.read()).sort();
  }

  get(key: string): Uint8Array | undefined {
    this.alive();
    checkKey(key);
    const value = this.read()[key];
    return value === undefined ? undefined : new Uint8Array(Buffer.from(value, "base64"));
  }

  set(key: string, value: Uint8Array): void {
    this.alive();
    checkKey(key);
    if (!(value instanceof Uint8Array)) throw new NvsLimitError("NVS values are byte arrays (Uint8Array)");
    if (value.length > KV_MAX_VALUE_BYTES) {
      throw new NvsLimitError(`NVS value for key "${key}" is ${value.length} bytes; the limit is ${KV_MAX_VALUE_BYTES}`);
    }
    const encoded = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
    const entries = this.read();
    if (Object.prototype.hasOwnProperty.call(entries, key)) {
      delete entries[key];
      this.step({ kind: "erase", key }, entries);
    }
    entries[key] = encoded;
    this.step({ kind: "write", key }, entries);
  }

  delete(key: string): void {
    this.alive();
    checkKey(key);
    const entries = this.read();
    if (!Object.prototype.hasOwnProperty.call(entries, key)) return;
    delete entries[key];
    this.step({ kind: "erase", key }, entries);
  }

  private step(step: NvsStep, entries: Record<string, string>): void {
    this.write(entries);
    this.steps.push(step);
    if (this.cutAfter !== undefined && this.steps.length >= this.cutAfter) {
      this.dead = true;
      throw new NvsPowerCutError(this.steps.length);
    }
  }

  private read(): Record<string, string> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return Object.create(null);
      throw error;
    }
    let content: NvsFileContent;
    try {
      content = JSON.parse(text);
    } catch {
      throw new NvsFileFormatError(this.file, "not JSON");
    }
    if (typeof content !== "object" || content === null || content.format !== NVS_FILE_FORMAT) {
      throw new NvsFileFormatError(this.file, `no "format": "${NVS_FILE_FORMAT}"`);
    }
    if (content.version !== NVS_FILE_VERSION) throw new NvsFileFormatError(this.file, `version ${content.version}, expected ${NVS_FILE_VERSION}`);
    if (typeof content.entries !== "object" || content.entries === null || Array.isArray(content.entries)) {
      throw new NvsFileFormatError(this.file, "no entries object");
    }
    const entries: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(content.entries)) {
      if (typeof value !== "string") throw new NvsFileFormatError(this.file, `entry "${key}" is not base64 text`);
      entries[key] = value;
    }
    return entries;
  }

  /** Replaces the file in one durable, atomic step. */
  private write(entries: Record<string, string>): void {
    const sorted: Record<string, string> = Object.create(null); // a key may be "__proto__"
    for (const key of Object.keys(entries).sort()) sorted[key] = entries[key];
    const content: NvsFileContent = { format: NVS_FILE_FORMAT, version: NVS_FILE_VERSION, namespace: this.namespace, entries: sorted };
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600); // credentials live here: owner only
    try {
      fs.writeSync(fd, JSON.stringify(content, null, 1) + "\n");
      if (this.fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    if (this.fsync) syncDirectory(this.dir);
  }

  private alive(): void {
    if (this.dead) throw new NvsPowerCutError(this.steps.length);
  }
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > KV_MAX_KEY_LENGTH) {
    throw new NvsLimitError(`NVS keys are 1 to ${KV_MAX_KEY_LENGTH} characters; got ${typeof key === "string" ? key.length : typeof key}`);
  }
}

/** Makes a rename durable (POSIX); some platforms cannot open a directory, and there nothing more can be done. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Windows: directories cannot be opened or fsynced; the rename itself is as durable as it gets there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
