/**
 * An in-memory KeyValueStore (src/ports.ts) that behaves like ESP32 NVS under Moddable's Preference, with
 * power-cut injection for the credential store's tests.
 *
 * Flash steps, as NVS does them (see moddable-notes.md): set() of an existing key = 1 erase the old entry,
 * 2 write the new one; set() of a new key = 1 write; delete() of an existing key = 1 erase; delete() of an
 * absent key changes nothing and is no step. cutPowerAfter(n) makes the n-th step from then on (counted from
 * 1) take effect and then throws PowerCut: the flash holds exactly what a real device
 * would hold after losing power there. The instance is dead afterwards; reboot() gives a new one over the
 * surviving flash, as the device's next boot would.
 */
import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES, type KeyValueStore } from "../../../src/ports.js";

export class PowerCut extends Error {
  override name = "PowerCut";
  constructor(readonly step: number) {
    super(`power cut after flash step ${step}`);
  }
}

/** A refused key or value: the contract says the call throws and nothing changes. */
export class KvLimitError extends Error {
  override name = "KvLimitError";
  constructor(message: string) {
    super(message);
  }
}

export type FlashStep = { kind: "erase" | "write"; key: string };

export class MemoryKeyValueStore implements KeyValueStore {
  /** The flash: survives reboot(). Values are private copies. */
  readonly flash: Map<string, Uint8Array>;
  /** Steps taken by this instance, in order. */
  readonly steps: FlashStep[] = [];
  private cutAfter: number | undefined;
  private dead = false;

  constructor(flash: Map<string, Uint8Array> = new Map()) {
    this.flash = flash;
  }

  /** Lose power right after step `n` (1-based, counted from now on this instance's total); undefined disarms. */
  cutPowerAfter(n: number | undefined): this {
    this.cutAfter = n === undefined ? undefined : this.steps.length + n;
    return this;
  }

  /** True once power was cut: every further call throws PowerCut. */
  get poweredOff(): boolean {
    return this.dead;
  }

  /** The next boot: a fresh store over the same flash, no cut armed, no steps counted. */
  reboot(): MemoryKeyValueStore {
    return new MemoryKeyValueStore(this.flash);
  }

  get(key: string): Uint8Array | undefined {
    this.alive();
    checkKey(key);
    const value = this.flash.get(key);
    return value === undefined ? undefined : value.slice();
  }

  set(key: string, value: Uint8Array): void {
    this.alive();
    checkKey(key);
    if (!(value instanceof Uint8Array)) throw new KvLimitError("value must be a Uint8Array");
    if (value.length > KV_MAX_VALUE_BYTES) throw new KvLimitError(`value of ${value.length} bytes is over the ${KV_MAX_VALUE_BYTES}-byte limit`);
    const copy = value.slice();
    if (this.flash.has(key)) this.step("erase", key, () => this.flash.delete(key));
    this.step("write", key, () => this.flash.set(key, copy));
  }

  delete(key: string): void {
    this.alive();
    checkKey(key);
    if (this.flash.has(key)) this.step("erase", key, () => this.flash.delete(key));
  }

  private step(kind: FlashStep["kind"], key: string, apply: () => void): void {
    apply();
    this.steps.push({ kind, key });
    if (this.cutAfter !== undefined && this.steps.length >= this.cutAfter) {
      this.dead = true;
      throw new PowerCut(this.steps.length);
    }
  }

  private alive(): void {
    if (this.dead) throw new PowerCut(this.steps.length);
  }
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > KV_MAX_KEY_LENGTH) {
    throw new KvLimitError(`key must be 1 to ${KV_MAX_KEY_LENGTH} characters`);
  }
}
