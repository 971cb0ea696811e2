/**
 * Resolves the firmware's settings from layered sources — highest priority first, e.g. the factory NVS namespace,
 * then mc/config (manifest config and `mcconfig key=value` arguments) — into one validated, typed object.
 * A bad or missing value is a SettingsError naming the key and the source it came from, never a secret's value.
 */
import { SdkError } from "../errors.js";
import type { LogLevel } from "../ports.js";
import { CREDENTIAL_MODES, LOG_LEVELS, SETTINGS, type CredentialMode, type SettingDefinition, type SettingName } from "./keys.js";
import { pemLabel, pemToDer, PemError } from "./pem.js";

/** What Preference.get or mc/config can hand back. */
export type RawSettingValue = string | number | boolean | ArrayBuffer | Uint8Array;

export interface SettingsSource {
  /** For messages: "factory NVS", "mc/config". */
  readonly name: string;
  get(key: string): RawSettingValue | undefined;
}

export interface FirmwareSettings {
  host: string;
  port: number;
  tls: boolean;
  serverName?: string;
  /** DER. */
  caCert?: Uint8Array;
  provisionKey: string;
  provisionSecret: string;
  deviceName?: string;
  credentials: CredentialMode;
  mqttClientId?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  deviceCert?: string;
  deviceKey?: string;
  telemetryIntervalMs: number;
  telemetryGc: boolean;
  logLevel: LogLevel;
}

export interface ResolvedSettings {
  settings: FirmwareSettings;
  /** Which source each setting came from ("default" when none had it). */
  origins: Record<SettingName, string>;
}

export class SettingsError extends SdkError {
  override name = "SettingsError";
  /** The NVS / mc/config key at fault. */
  readonly key: string;
  constructor(code: "missing-setting" | "invalid-setting", key: string, message: string) {
    super(code, message);
    this.key = key;
  }
}

export const DEFAULT_TELEMETRY_INTERVAL_MS = 10_000;
const MIN_TELEMETRY_INTERVAL_MS = 10;

/** A plain object (mc/config, a JSON file) as a source. */
export function objectSource(name: string, values: Record<string, unknown>): SettingsSource {
  return {
    name,
    get(key: string): RawSettingValue | undefined {
      const v = values[key];
      return typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v instanceof ArrayBuffer || v instanceof Uint8Array
        ? v
        : undefined;
    },
  };
}

export function resolveSettings(sources: readonly SettingsSource[]): ResolvedSettings {
  const origins = {} as Record<SettingName, string>;
  /** The first source with a non-empty value for `name` (an empty string, e.g. `tb_host=`, counts as unset). */
  const pick = (name: SettingName): { value: RawSettingValue; source: string } | undefined => {
    const key = SETTINGS[name].key;
    for (const s of sources) {
      const v = s.get(key);
      if (v === undefined || v === "") continue;
      origins[name] = s.name;
      return { value: v, source: s.name };
    }
    origins[name] = "default";
    return undefined;
  };
  const str = (name: SettingName): string | undefined => {
    const p = pick(name);
    if (!p) return undefined;
    if (typeof p.value !== "string") throw invalid(name, p.source, "expected a string");
    return p.value;
  };
  const required = (name: SettingName): string => {
    const v = str(name);
    if (v === undefined) throw new SettingsError("missing-setting", SETTINGS[name].key, `${SETTINGS[name].key} is not set (${SETTINGS[name].description}): set it in mc/config or the factory NVS image`);
    return v;
  };
  const int = (name: SettingName, min: number, max: number): number | undefined => {
    const p = pick(name);
    if (!p) return undefined;
    const n = typeof p.value === "number" ? p.value : typeof p.value === "string" && /^-?\d+$/.test(p.value) ? Number(p.value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw invalid(name, p.source, `expected an integer ${min}..${max}`);
    return n;
  };
  const bool = (name: SettingName): boolean | undefined => {
    const p = pick(name);
    if (!p) return undefined;
    const v = p.value;
    if (v === true || v === 1 || v === "1" || v === "true") return true;
    if (v === false || v === 0 || v === "0" || v === "false") return false;
    throw invalid(name, p.source, "expected 1/0 or true/false");
  };
  const der = (name: SettingName): Uint8Array | undefined => {
    const p = pick(name);
    if (!p) return undefined;
    const v = p.value;
    if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
    if (v instanceof Uint8Array) return v.slice();
    if (typeof v === "string") {
      try {
        return pemToDer(v, "CERTIFICATE");
      } catch (e) {
        if (e instanceof PemError) throw invalid(name, p.source, e.message);
        throw e;
      }
    }
    throw invalid(name, p.source, "expected DER bytes or a PEM certificate");
  };
  const oneOf = <T extends string>(name: SettingName, allowed: readonly T[]): T | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if ((allowed as readonly string[]).indexOf(v) < 0) throw invalid(name, origins[name], `expected one of ${allowed.join(", ")}`);
    return v as T;
  };

  const host = required("host");
  const tls = bool("tls") ?? true;
  const settings: FirmwareSettings = {
    host,
    tls,
    port: int("port", 1, 65535) ?? (tls ? 8883 : 1883),
    provisionKey: required("provisionKey"),
    provisionSecret: required("provisionSecret"),
    credentials: oneOf("credentials", CREDENTIAL_MODES) ?? "token",
    telemetryIntervalMs: int("telemetryIntervalMs", MIN_TELEMETRY_INTERVAL_MS, 0x7fffffff) ?? DEFAULT_TELEMETRY_INTERVAL_MS,
    telemetryGc: bool("telemetryGc") ?? false,
    logLevel: oneOf("logLevel", LOG_LEVELS) ?? "I",
  };
  const optional: [SettingName, string | undefined][] = [
    ["serverName", str("serverName")],
    ["deviceName", str("deviceName")],
    ["mqttClientId", str("mqttClientId")],
    ["mqttUsername", str("mqttUsername")],
    ["mqttPassword", str("mqttPassword")],
    ["deviceCert", str("deviceCert")],
    ["deviceKey", str("deviceKey")],
  ];
  for (const [name, v] of optional) if (v !== undefined) (settings as unknown as Record<string, unknown>)[name] = v;
  const ca = der("caCert");
  if (ca) settings.caCert = ca;

  if (settings.credentials === "x509") {
    if (!settings.deviceCert || !settings.deviceKey) {
      throw new SettingsError("missing-setting", SETTINGS.deviceCert.key, "cred_type x509 needs dev_cert and dev_key");
    }
    if (!tls) throw new SettingsError("invalid-setting", SETTINGS.tls.key, "cred_type x509 needs tb_tls=1: the certificate is the TLS client credential");
    // Moddable's TLS takes only unencrypted PKCS#8 keys ("BEGIN PRIVATE KEY"), not PKCS#1 or encrypted ones.
    if (pemLabel(settings.deviceKey) !== "PRIVATE KEY") {
      throw new SettingsError("invalid-setting", SETTINGS.deviceKey.key, "dev_key must be an unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY); convert with: openssl pkcs8 -topk8 -nocrypt");
    }
    if (!hasRsaAlgorithm(pemDer("deviceKey", settings.deviceKey, "PRIVATE KEY"))) {
      throw new SettingsError("invalid-setting", SETTINGS.deviceKey.key, "dev_key must be an RSA key: Moddable's TLS signs client certificates with RSA only (EC keys fail the handshake)");
    }
    pemDer("deviceCert", settings.deviceCert, "CERTIFICATE");
  }
  return { settings, origins };
}

/** DER of OBJECT IDENTIFIER 1.2.840.113549.1.1.1 (rsaEncryption). */
const RSA_ENCRYPTION_OID: readonly number[] = Object.freeze([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

/** Whether a PKCS#8 PrivateKeyInfo names rsaEncryption in its AlgorithmIdentifier (within its first bytes). */
function hasRsaAlgorithm(der: Uint8Array): boolean {
  const end = Math.min(der.length - RSA_ENCRYPTION_OID.length, 32);
  for (let i = 0; i <= end; i++) {
    let j = 0;
    while (j < RSA_ENCRYPTION_OID.length && der[i + j] === RSA_ENCRYPTION_OID[j]) j++;
    if (j === RSA_ENCRYPTION_OID.length) return true;
  }
  return false;
}

/** The DER of a PEM setting, or a SettingsError naming the key (the PEM itself is never quoted). */
function pemDer(name: SettingName, pem: string, label: string): Uint8Array {
  try {
    return pemToDer(pem, label);
  } catch (e) {
    if (e instanceof PemError) throw new SettingsError("invalid-setting", SETTINGS[name].key, `${SETTINGS[name].key}: ${e.message}`);
    throw e;
  }
}

function invalid(name: SettingName, source: string, what: string): SettingsError {
  const d: SettingDefinition = SETTINGS[name];
  return new SettingsError("invalid-setting", d.key, `${d.key} from ${source}: ${what}`);
}

/**
 * One log line's worth of the settings: `tb_host=tb.example.com (factory NVS), prov_key=[redacted 18] (mc/config)…`.
 * Secrets show only their length; certificates their size.
 */
export function describeSettings(resolved: ResolvedSettings): string {
  const parts: string[] = [];
  const s = resolved.settings as unknown as Record<string, unknown>;
  for (const name in SETTINGS) {
    const d = SETTINGS[name as SettingName];
    const v = s[name];
    if (v === undefined) continue;
    const shown = d.secret
      ? `[redacted ${String(v).length}]`
      : v instanceof Uint8Array
        ? `${v.length} B DER`
        : typeof v === "string" && v.length > 40
          ? `${v.length} chars`
          : String(v);
    parts.push(`${d.key}=${shown} (${resolved.origins[name as SettingName]})`);
  }
  return parts.join(", ");
}
