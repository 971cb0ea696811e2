/**
 * The firmware's settings and where they live in NVS: ONE definition shared by the firmware (hosts/esp32 reads
 * them through Moddable's Preference) and the factory tool (which writes them into per-device NVS images).
 *
 * Every key is at most 15 characters (NVS, Preference) and every type is one Moddable's Preference reads back
 * on ESP32: u8 (as a boolean), i32 (as a number), string, blob (as an ArrayBuffer). The same names are the
 * `mc/config` keys, so `mcconfig … tb_host=tb.example.com prov_key=…` and a factory image set the same thing.
 */

/** NVS namespace (Preference domain) written at the factory; the firmware only reads it. */
export const FACTORY_NAMESPACE = "tb_factory";
/** NVS namespace of the credential store (src/credentials): written by the device, never by the factory. */
export const CREDENTIALS_NAMESPACE = "tb_cred";

/** The NVS entry types the factory writes, named as ESP-IDF's nvs_partition_gen.py names its encodings. */
export type SettingNvsType = "u8" | "i32" | "string" | "blob";

export interface SettingDefinition {
  /** NVS key and mc/config key (≤ 15 characters). */
  readonly key: string;
  readonly type: SettingNvsType;
  /** Never logged, never echoed in an error. */
  readonly secret: boolean;
  /** What it is, for the README, `tbsdk factory --help` and error messages. */
  readonly description: string;
}

function setting(key: string, type: SettingNvsType, description: string, secret = false): SettingDefinition {
  return Object.freeze({ key, type, secret, description });
}

/** The credential modes a device can provision with (SDK names, as on `tbsdk device --credentials`). */
export const CREDENTIAL_MODES = Object.freeze(["token", "server", "mqtt-basic", "x509"] as const);
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];

export const LOG_LEVELS = Object.freeze(["E", "W", "I", "D", "V"] as const);

/** Every setting, by the name the SDK's code uses. */
export const SETTINGS = Object.freeze({
  host: setting("tb_host", "string", "ThingsBoard MQTT host name or address"),
  port: setting("tb_port", "i32", "MQTT port (default 8883 with TLS, 1883 without)"),
  tls: setting("tb_tls", "u8", "1 = MQTT over TLS 1.2 (default), 0 = plain TCP"),
  serverName: setting("tb_sni", "string", "TLS server name to verify, when it differs from tb_host"),
  caCert: setting("tb_ca", "blob", "CA certificate that signed the server's, DER (a PEM string is accepted from mc/config)"),
  provisionKey: setting("prov_key", "string", "device profile's provision key", true),
  provisionSecret: setting("prov_secret", "string", "device profile's provision secret", true),
  deviceName: setting("dev_name", "string", "device name (default ESP32-<MAC>)"),
  credentials: setting("cred_type", "string", `credentials to provision: ${CREDENTIAL_MODES.join(" | ")} (default token)`),
  mqttClientId: setting("mqtt_client", "string", "MQTT_BASIC: client id chosen by the device"),
  mqttUsername: setting("mqtt_user", "string", "MQTT_BASIC: user name chosen by the device"),
  mqttPassword: setting("mqtt_pass", "string", "MQTT_BASIC: password chosen by the device", true),
  deviceCert: setting("dev_cert", "string", "X509_CERTIFICATE: the device's certificate, PEM"),
  deviceKey: setting("dev_key", "string", "X509_CERTIFICATE: the device's RSA private key, PKCS#8 PEM", true),
  telemetryIntervalMs: setting("tm_interval", "i32", "sample telemetry interval in ms (default 10000)"),
  telemetryGc: setting("tm_gc", "u8", "1 = collect garbage before each sample, so the xs_* figures show live memory (memory reports)"),
  logLevel: setting("log_level", "string", `most verbose log level printed: ${LOG_LEVELS.join(" ")} (default I)`),
} as const satisfies Record<string, SettingDefinition>);

export type SettingName = keyof typeof SETTINGS;

/** The definition whose NVS / mc/config key is `key`, if any. */
export function settingByKey(key: string): [SettingName, SettingDefinition] | undefined {
  for (const name in SETTINGS) {
    const d = SETTINGS[name as SettingName];
    if (d.key === key) return [name as SettingName, d];
  }
  return undefined;
}
