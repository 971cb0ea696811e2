/**
 * An NVS image's namespace as the firmware sees it through Moddable's Preference.get on ESP32, which tries u8
 * (→ boolean), i32 (→ number), str, blob (→ ArrayBuffer) and reads nothing else. Used to check factory images
 * against the firmware's own settings resolver, and to plant them in the lin simulator.
 */
import type { RawSettingValue, SettingsSource } from "../../src/settings/resolve.js";
import type { NvsContents, NvsValue } from "./nvs-reader.js";

/** What Preference.get returns for this entry; throws for a type Preference cannot read. */
export function preferenceValue(v: NvsValue, key: string): boolean | number | string | ArrayBuffer {
  switch (v.type) {
    case "u8":
      return v.value !== 0;
    case "i32":
    case "string":
      return v.value;
    case "blob":
      return v.value.slice().buffer as ArrayBuffer;
    default:
      throw new Error(`Moddable's Preference cannot read ${key}: NVS type ${v.type}`);
  }
}

/** A settings source over one namespace of a read-back image, with Preference.get's semantics. */
export function nvsPreferenceSource(contents: NvsContents, namespace: string, name = "factory NVS"): SettingsSource {
  const ns = contents[namespace] ?? {};
  return {
    name,
    get(key: string): RawSettingValue | undefined {
      const v = ns[key];
      return v ? preferenceValue(v, key) : undefined;
    },
  };
}
