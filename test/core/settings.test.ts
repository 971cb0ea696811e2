/**
 * The firmware's settings (src/settings): one key table shared with the factory tool, PEM → DER without host
 * globals, and layered resolution with typed errors that never quote a secret. Runs on Node and inside XS.
 */
import { CREDENTIALS_NAMESPACE, FACTORY_NAMESPACE, SETTINGS, settingByKey, type SettingName } from "../../src/settings/keys.js";
import { base64ToBytes, pemLabel, pemToDer, PemError } from "../../src/settings/pem.js";
import { describeSettings, objectSource, resolveSettings, SettingsError, type SettingsSource } from "../../src/settings/resolve.js";
import { provisionCredentials } from "../../src/settings/provision-credentials.js";
import { KV_MAX_KEY_LENGTH } from "../../src/ports.js";
import { Prng } from "./support/prng.js";
import { thrown } from "./support/thrown.js";

const BASE = { tb_host: "tb.example.com", prov_key: "key-0123456789", prov_secret: "secret-0123456789" };

/** Standard base64 written out here (no btoa/Buffer in XS), to check the decoder against. */
function toBase64(bytes: Uint8Array): string {
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += a[(n >> 18) & 63]! + a[(n >> 12) & 63]! + (i + 1 < bytes.length ? a[(n >> 6) & 63]! : "=") + (i + 2 < bytes.length ? a[n & 63]! : "=");
  }
  return out;
}

function pem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  let body = "";
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + "\n";
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}


describe("settings keys", () => {
  it("fit NVS and Preference: keys and namespaces of at most 15 characters, each key once", () => {
    const keys = Object.keys(SETTINGS).map((n) => SETTINGS[n as SettingName].key);
    for (const k of [...keys, FACTORY_NAMESPACE, CREDENTIALS_NAMESPACE]) expect(k.length).toBeLessThanOrEqual(KV_MAX_KEY_LENGTH);
    expect(new Set(keys).size).toBe(keys.length);
    expect(FACTORY_NAMESPACE).not.toBe(CREDENTIALS_NAMESPACE);
  });

  it("use only the NVS types Moddable's Preference reads back (u8, i32, string, blob)", () => {
    for (const n of Object.keys(SETTINGS)) expect(["u8", "i32", "string", "blob"]).toContain(SETTINGS[n as SettingName].type);
  });

  it("mark every credential-like value secret", () => {
    for (const n of ["provisionKey", "provisionSecret", "mqttPassword", "deviceKey"] as const) expect(SETTINGS[n].secret).toBe(true);
    expect(settingByKey("prov_secret")?.[0]).toBe("provisionSecret");
    expect(settingByKey("nope")).toBeUndefined();
  });
});

describe("PEM to DER", () => {
  it("decodes random DER of every length mod 3 exactly, with or without line breaks", () => {
    const rng = new Prng(7);
    for (let n = 1; n < 200; n += 1) {
      const der = rng.bytes(n);
      expect(pemToDer(pem("CERTIFICATE", der))).toEqual(der);
      expect(base64ToBytes(toBase64(der))).toEqual(der);
    }
  });

  it("picks the block with the requested label out of a bundle, and names the first label", () => {
    const key = new Uint8Array([1, 2, 3, 4, 5]);
    const cert = new Uint8Array([9, 8, 7]);
    const bundle = pem("PRIVATE KEY", key) + "junk between\n" + pem("CERTIFICATE", cert);
    expect(pemToDer(bundle, "CERTIFICATE")).toEqual(cert);
    expect(pemToDer(bundle, "PRIVATE KEY")).toEqual(key);
    expect(pemLabel(bundle)).toBe("PRIVATE KEY");
    expect(pemLabel("no pem")).toBeUndefined();
  });

  it("refuses damaged PEM with a PemError that does not echo the data", () => {
    const cases = [
      "no pem at all",
      "-----BEGIN CERTIFICATE-----\nAAAA\n",
      "-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n",
      "-----BEGIN CERTIFICATE-----\nAA==AA\n-----END CERTIFICATE-----\n",
    ];
    for (const c of cases) {
      const e = thrown(() => pemToDer(c));
      expect(e).toBeInstanceOf(PemError);
      expect((e as PemError).code).toBe("invalid-pem");
      expect((e as PemError).message).not.toContain("AA");
    }
    expect((thrown(() => pemToDer(pem("CERTIFICATE", new Uint8Array([1])), "PRIVATE KEY")) as Error).message).toContain('no "PRIVATE KEY" block');
  });
});

// The first bytes of PKCS#8 PrivateKeyInfo: SEQUENCE, version 0, AlgorithmIdentifier { OID, … } — enough for the
// algorithm check, which looks no further.
const RSA_PKCS8 = new Uint8Array([0x30, 0x20, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x02, 0x30, 0x00]);
const EC_PKCS8 = new Uint8Array([0x30, 0x20, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
const CERT = pem("CERTIFICATE", new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]));

describe("resolveSettings", () => {
  it("accepts X.509 with an RSA PKCS#8 key and a certificate", () => {
    const { settings } = resolveSettings([objectSource("factory NVS", { ...BASE, cred_type: "x509", dev_cert: CERT, dev_key: pem("PRIVATE KEY", RSA_PKCS8) })]);
    expect(settings.credentials).toBe("x509");
  });

  it("fills defaults: TLS on, port 8883 (1883 without TLS), device token, 10 s, level I", () => {
    const { settings, origins } = resolveSettings([objectSource("mc/config", BASE)]);
    expect(settings).toEqual({
      host: "tb.example.com", port: 8883, tls: true, provisionKey: BASE.prov_key, provisionSecret: BASE.prov_secret,
      credentials: "token", telemetryIntervalMs: 10000, telemetryGc: false, logLevel: "I",
    });
    expect(origins.host).toBe("mc/config");
    expect(origins.port).toBe("default");
    expect(resolveSettings([objectSource("mc/config", { ...BASE, tb_tls: "0" })]).settings.port).toBe(1883);
  });

  it("lets the factory NVS override mc/config key by key; an empty string counts as unset", () => {
    const factory = objectSource("factory NVS", { tb_host: "factory.example.com", tb_port: 1884, tb_tls: false, dev_name: "" });
    const config = objectSource("mc/config", { ...BASE, tb_port: "8883", dev_name: "from-config", tm_interval: "500" });
    const { settings, origins } = resolveSettings([factory, config]);
    expect(settings.host).toBe("factory.example.com");
    expect(settings.port).toBe(1884);
    expect(settings.tls).toBe(false);
    expect(settings.deviceName).toBe("from-config");
    expect(settings.telemetryIntervalMs).toBe(500);
    expect([origins.host, origins.port, origins.deviceName, origins.provisionKey]).toEqual(["factory NVS", "factory NVS", "mc/config", "mc/config"]);
  });

  it("reads Preference's types: u8 as a boolean, i32 as a number, blobs as ArrayBuffer (the CA, DER)", () => {
    const der = new Uint8Array([0x30, 0x82, 1, 2, 3]);
    const nvs: SettingsSource = { name: "factory NVS", get: (k) => ({ ...BASE, tb_tls: true, tb_port: 8884, tb_ca: der.slice().buffer } as Record<string, string | number | boolean | ArrayBuffer>)[k] };
    const { settings } = resolveSettings([nvs]);
    expect(settings.caCert).toEqual(der);
    expect(settings.port).toBe(8884);
    // A PEM string from mc/config becomes DER too.
    expect(resolveSettings([objectSource("mc/config", { ...BASE, tb_ca: pem("CERTIFICATE", der) })]).settings.caCert).toEqual(der);
  });

  it("names the missing key and where to set it", () => {
    const e = thrown(() => resolveSettings([objectSource("mc/config", { tb_host: "h" })])) as SettingsError;
    expect(e).toBeInstanceOf(SettingsError);
    expect([e.code, e.key]).toEqual(["missing-setting", "prov_key"]);
    expect(e.message).toContain("factory NVS image");
  });

  it("refuses bad values with the key and the source, never the value of a secret", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ tb_port: "70000" }, "tb_port"],
      [{ tb_port: "12ab" }, "tb_port"],
      [{ tb_tls: "maybe" }, "tb_tls"],
      [{ cred_type: "password" }, "cred_type"],
      [{ log_level: "X" }, "log_level"],
      [{ tm_interval: 1 }, "tm_interval"],
      [{ tb_ca: "not a pem" }, "tb_ca"],
      [{ prov_secret: 42 }, "prov_secret"],
      [{ cred_type: "x509" }, "dev_cert"],
      [{ cred_type: "x509", dev_cert: "c", dev_key: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n" }, "dev_key"],
      [{ cred_type: "x509", tb_tls: "0", dev_cert: "c", dev_key: "k" }, "tb_tls"],
      [{ cred_type: "x509", dev_cert: CERT, dev_key: pem("PRIVATE KEY", EC_PKCS8) }, "dev_key"],
      [{ cred_type: "x509", dev_cert: CERT, dev_key: "-----BEGIN PRIVATE KEY-----\n*\n-----END PRIVATE KEY-----\n" }, "dev_key"],
      [{ cred_type: "x509", dev_cert: "not a certificate", dev_key: pem("PRIVATE KEY", RSA_PKCS8) }, "dev_cert"],
    ];
    for (const [values, key] of bad) {
      const e = thrown(() => resolveSettings([objectSource("factory NVS", { ...BASE, ...values })])) as SettingsError;
      expect(e).toBeInstanceOf(SettingsError);
      expect(e.key).toBe(key);
      expect(e.message).not.toContain(BASE.prov_secret);
      expect(e.message).not.toContain(BASE.prov_key);
    }
  });

  it("describes the settings in one line with secrets shown only by length", () => {
    const resolved = resolveSettings([objectSource("mc/config", { ...BASE, cred_type: "mqtt-basic", mqtt_pass: "hunter2-hunter2" })]);
    const line = describeSettings(resolved);
    expect(line).toContain("tb_host=tb.example.com (mc/config)");
    expect(line).toContain(`prov_secret=[redacted ${BASE.prov_secret.length}]`);
    for (const s of [BASE.prov_secret, BASE.prov_key, "hunter2-hunter2"]) expect(line).not.toContain(s);
  });
});

describe("provisionCredentials", () => {
  const random = { fill: (b: Uint8Array) => b.fill(0xab) };
  const settings = (values: Record<string, unknown>) => resolveSettings([objectSource("mc/config", { ...BASE, ...values })]).settings;

  it("maps each cred_type to the agent's option", () => {
    expect(provisionCredentials(settings({}), "dev", random)).toEqual({ type: "ACCESS_TOKEN" });
    expect(provisionCredentials(settings({ cred_type: "server" }), "dev", random)).toEqual({ type: "SERVER_GENERATED_TOKEN" });
    expect(provisionCredentials(settings({ cred_type: "mqtt-basic", mqtt_user: "u" }), "dev", random)).toEqual({
      type: "MQTT_BASIC", clientId: "dev", username: "u", password: "abababababababababababab",
    });
  });
});
