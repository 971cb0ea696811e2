/**
 * The firmware's factory settings (src/settings/keys.ts) as NVS entries for a per-device image.
 *
 * - Namespace FACTORY_NAMESPACE (`tb_factory`), keys and NVS types exactly as SETTINGS declares them, so Moddable's
 *   Preference reads them back: u8 (booleans, read as true/false), i32 (numbers), string, blob (read as ArrayBuffer).
 * - The values are validated by the firmware's own resolveSettings over an objectSource of the same values: an image
 *   the firmware would refuse at boot is refused here, with the firmware's message (key named, secret never shown).
 * - What is written is what the firmware resolved (a PEM CA becomes its DER bytes, "1"/"true" become u8 1, "1883"
 *   becomes i32 1883). Only the settings given are written: defaults are left to the firmware, so mc/config can
 *   still supply anything the image does not.
 */
import { FACTORY_NAMESPACE, SETTINGS, settingByKey, type SettingName } from "../../src/settings/keys.js";
import { objectSource, resolveSettings, SettingsError, type FirmwareSettings, type ResolvedSettings } from "../../src/settings/resolve.js";
import { PemError } from "../../src/settings/pem.js";
import { checkNvsInt, type NvsEntry } from "./nvs-image.js";

/** What a setting may be given as (JSON, a CSV cell, code): the same forms mc/config accepts. */
export type FactorySettingValue = string | number | boolean | Uint8Array;
export type FactorySettings = Partial<Record<SettingName, FactorySettingValue>>;

/** A factory input the firmware would refuse. `key` is the NVS key at fault; the message never holds a secret value. */
export class FactoryError extends Error {
  override readonly name = "FactoryError";
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

/** Settings keyed by NVS key (`tb_host`, as in common.json, devices.csv and mc/config) → keyed by SDK name (`host`). */
export function settingsFromKeys(values: Record<string, unknown>, where: string): FactorySettings {
  const out: FactorySettings = {};
  for (const [key, v] of Object.entries(values)) {
    const found = settingByKey(key);
    if (!found) throw new FactoryError(`${where}: unknown setting "${key}" (known: ${Object.values(SETTINGS).map((d) => d.key).join(", ")})`, key);
    if (!(typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v instanceof Uint8Array)) {
      throw new FactoryError(`${where}: ${key} must be a string, number or boolean`, key);
    }
    out[found[0]] = v;
  }
  return out;
}

/** The same settings keyed by NVS key, as the firmware's sources hand them over. */
export function settingsByKey(settings: FactorySettings): Record<string, FactorySettingValue> {
  const out: Record<string, FactorySettingValue> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const v = settings[name];
    if (v !== undefined) out[SETTINGS[name].key] = v;
  }
  return out;
}

/**
 * Runs the firmware's resolveSettings over the values, as the only source. `where` names the input in messages
 * ("devices.csv line 4 (ESP32-0003)"); the firmware's own message follows it.
 */
export function validateFactorySettings(settings: FactorySettings, where: string): ResolvedSettings {
  try {
    return resolveSettings([objectSource(where, settingsByKey(settings))]);
  } catch (e) {
    if (e instanceof SettingsError) {
      // "missing" messages do not name the source: prefix it unless the firmware's text already does.
      throw new FactoryError(e.message.includes(where) ? e.message : `${where}: ${e.message}`, e.key);
    }
    if (e instanceof PemError) throw new FactoryError(`${where}: ${SETTINGS.caCert.key}: ${e.message}`, SETTINGS.caCert.key);
    throw e;
  }
}

/**
 * The NVS entries of one device's factory namespace: the namespace entry, then every given setting in SETTINGS
 * order, typed as SETTINGS declares. Throws FactoryError for anything the firmware would refuse.
 */
export function factoryEntries(settings: FactorySettings, where = "factory settings"): NvsEntry[] {
  const resolved = validateFactorySettings(settings, where);
  const s = resolved.settings as unknown as Record<keyof FirmwareSettings, unknown>;
  const entries: NvsEntry[] = [{ kind: "namespace", name: FACTORY_NAMESPACE }];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    // Only what was given: resolveSettings marks the others "default".
    if (settings[name] === undefined || resolved.origins[name] !== where) continue;
    const d = SETTINGS[name];
    const v = s[name];
    switch (d.type) {
      case "u8":
        entries.push({ kind: "int", key: d.key, type: "u8", value: v === true ? 1 : 0 });
        break;
      case "i32":
        entries.push({ kind: "int", key: d.key, type: "i32", value: checkNvsInt(d.key, "i32", v as number) });
        break;
      case "string":
        entries.push({ kind: "string", key: d.key, value: v as string });
        break;
      case "blob":
        entries.push({ kind: "blob", key: d.key, value: v as Uint8Array });
        break;
    }
  }
  return entries;
}

/** Every secret value among the settings (for redaction of anything printed). */
export function secretValues(settings: FactorySettings): string[] {
  const out: string[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const v = settings[name];
    if (SETTINGS[name].secret && typeof v === "string" && v !== "") out.push(v);
  }
  return out;
}
