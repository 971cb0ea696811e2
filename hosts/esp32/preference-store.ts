/**
 * The key-value port over Moddable's Preference: NVS on ESP32 (namespace = domain), a JSON file on lin.
 * Values are blobs (ArrayBuffer). Preference.set on ESP32 erases the old entry before writing the new one, which
 * is exactly the non-atomic set() the port describes; src/credentials keeps two slots because of it.
 */
import Preference from "preference";
import { KV_MAX_KEY_LENGTH, KV_MAX_VALUE_BYTES, type KeyValueStore } from "tbsdk/ports";
import type { RawSettingValue, SettingsSource } from "tbsdk/settings/resolve";

export class PreferenceStore implements KeyValueStore {
  readonly domain: string;

  constructor(domain: string) {
    checkName("domain", domain);
    this.domain = domain;
  }

  get(key: string): Uint8Array | undefined {
    checkName("key", key);
    const v = Preference.get(this.domain, key);
    // Anything but a blob under our key was not written by us: treat it as absent (the CRC layer would reject it).
    return v instanceof ArrayBuffer ? new Uint8Array(v) : undefined;
  }

  set(key: string, value: Uint8Array): void {
    checkName("key", key);
    if (value.length > KV_MAX_VALUE_BYTES) throw new RangeError(`preference ${this.domain}/${key}: ${value.length} bytes > ${KV_MAX_VALUE_BYTES}`);
    // Preference stores a whole ArrayBuffer: a view into a larger buffer must be copied out first.
    const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
    Preference.set(this.domain, key, (whole ? value.buffer : value.slice().buffer) as ArrayBuffer);
  }

  delete(key: string): void {
    checkName("key", key);
    Preference.delete(this.domain, key);
  }
}

/** A read-only settings source over one Preference domain (the factory namespace). */
export function preferenceSource(domain: string, name = "factory NVS"): SettingsSource {
  checkName("domain", domain);
  return {
    name,
    get(key: string): RawSettingValue | undefined {
      return Preference.get(domain, key);
    },
  };
}

function checkName(what: string, name: string): void {
  if (name.length === 0 || name.length > KV_MAX_KEY_LENGTH) {
    throw new RangeError(`preference ${what} "${name}" must be 1..${KV_MAX_KEY_LENGTH} characters (NVS limit)`);
  }
}
