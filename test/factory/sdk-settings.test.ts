/**
 * The factory's settings image and the firmware's reading of it are tied together: entries are built from
 * SETTINGS (namespace, keys, NVS types), written into an image, read back with every CRC checked, and the
 * tb_factory namespace is handed to the firmware's resolveSettings through a source that behaves exactly like
 * Moddable's Preference.get on ESP32 (u8 → boolean, i32 → number, string, blob → ArrayBuffer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FACTORY_NAMESPACE, SETTINGS, type SettingName } from "../../src/settings/keys.js";
import { pemToDer } from "../../src/settings/pem.js";
import { objectSource, resolveSettings } from "../../src/settings/resolve.js";
import { buildNvsImage } from "../../tools/factory/nvs-image.js";
import { readNvsImage } from "../../tools/factory/nvs-reader.js";
import { nvsPreferenceSource } from "../../tools/factory/preference-view.js";
import { factoryEntries, FactoryError, settingsByKey, type FactorySettings } from "../../tools/factory/sdk-settings.js";

const FIXTURES = path.join(__dirname, "..", "fixtures", "factory");
const CA_PEM = fs.readFileSync(path.join(FIXTURES, "ca.pem"), "utf8");
const CERT_PEM = fs.readFileSync(path.join(FIXTURES, "ESP32-X509-01.pem"), "utf8");
const KEY_PEM = fs.readFileSync(path.join(FIXTURES, "ESP32-X509-01.key"), "utf8");

const ALL: FactorySettings = {
  host: "tb.example.com",
  port: 8884,
  tls: true,
  serverName: "mqtt.example.com",
  caCert: CA_PEM,
  provisionKey: "pk-0123456789",
  provisionSecret: "ps-abcdef",
  deviceName: "ESP32-0001",
  credentials: "x509",
  mqttClientId: "client-1",
  mqttUsername: "user-1",
  mqttPassword: "pass-1",
  deviceCert: CERT_PEM,
  deviceKey: KEY_PEM,
  telemetryIntervalMs: 2500,
  telemetryGc: true,
  logLevel: "D",
};

function roundTrip(settings: FactorySettings) {
  const image = buildNvsImage(factoryEntries(settings), 0x6000);
  const contents = readNvsImage(image);
  return { contents, resolved: resolveSettings([nvsPreferenceSource(contents, FACTORY_NAMESPACE)]) };
}

describe("factory settings ↔ firmware", () => {
  it("covers every setting: each key lands in tb_factory with its declared NVS type, and the firmware resolves the original settings", () => {
    const { contents, resolved } = roundTrip(ALL);
    expect(Object.keys(contents)).toEqual([FACTORY_NAMESPACE]);
    const ns = contents[FACTORY_NAMESPACE]!;
    // Every setting, and nothing else, with the type SETTINGS declares.
    expect(Object.keys(ns).sort()).toEqual(Object.values(SETTINGS).map((d) => d.key).sort());
    for (const name of Object.keys(SETTINGS) as SettingName[]) expect([name, ns[SETTINGS[name].key]!.type]).toEqual([name, SETTINGS[name].type]);
    // The same result as the firmware resolving the original values directly (mc/config style).
    expect(resolved.settings).toEqual(resolveSettings([objectSource("mc/config", settingsByKey(ALL))]).settings);
    expect(resolved.settings.caCert).toEqual(pemToDer(CA_PEM, "CERTIFICATE"));
    expect(resolved.settings.tls).toBe(true);
    expect(resolved.settings.port).toBe(8884);
    expect(Object.values(resolved.origins).every((o) => o === "factory NVS")).toBe(true);
  });

  it("normalises what mc/config accepts (\"1\", \"false\", decimal strings, DER bytes) to the declared types", () => {
    const der = pemToDer(CA_PEM, "CERTIFICATE");
    const { contents, resolved } = roundTrip({ host: "h", port: "1883", tls: "false", caCert: der, provisionKey: "k", provisionSecret: "s", telemetryGc: "1" });
    const ns = contents[FACTORY_NAMESPACE]!;
    expect(ns.tb_port).toEqual({ type: "i32", value: 1883 });
    expect(ns.tb_tls).toEqual({ type: "u8", value: 0 });
    expect(ns.tm_gc).toEqual({ type: "u8", value: 1 });
    expect(ns.tb_ca).toEqual({ type: "blob", value: der });
    expect(resolved.settings).toMatchObject({ host: "h", port: 1883, tls: false, telemetryGc: true, caCert: der });
  });

  it("writes only the settings given (defaults stay the firmware's, so mc/config can supply them)", () => {
    const { contents, resolved } = roundTrip({ host: "h", provisionKey: "k", provisionSecret: "s", deviceName: "" });
    expect(Object.keys(contents[FACTORY_NAMESPACE]!).sort()).toEqual(["prov_key", "prov_secret", "tb_host"]);
    expect(resolved.settings).toMatchObject({ port: 8883, tls: true, credentials: "token", logLevel: "I" });
  });

  it("refuses what the firmware would refuse, naming the input and key but never a secret value", () => {
    const bad: [FactorySettings, string, RegExp][] = [
      [{ provisionKey: "k", provisionSecret: "TOPSECRET" }, "tb_host", /tb_host is not set/],
      [{ host: "h", provisionKey: "k" }, "prov_secret", /prov_secret is not set/],
      [{ host: "h", port: 70000, provisionKey: "k", provisionSecret: "TOPSECRET" }, "tb_port", /tb_port from row 7: expected an integer 1\.\.65535/],
      [{ host: "h", tls: "yes", provisionKey: "k", provisionSecret: "TOPSECRET" }, "tb_tls", /expected 1\/0 or true\/false/],
      [{ host: "h", caCert: "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----", provisionKey: "k", provisionSecret: "TOPSECRET" }, "tb_ca", /invalid base64/],
      [{ host: "h", credentials: "psk", provisionKey: "k", provisionSecret: "TOPSECRET" }, "cred_type", /expected one of token, server, mqtt-basic, x509/],
      [{ host: "h", credentials: "x509", deviceCert: CERT_PEM, provisionKey: "k", provisionSecret: "TOPSECRET" }, "dev_cert", /needs dev_cert and dev_key/],
      [{ host: "h", credentials: "x509", deviceCert: CERT_PEM, deviceKey: "-----BEGIN RSA PRIVATE KEY-----\nTOPSECRET\n-----END RSA PRIVATE KEY-----", provisionKey: "k", provisionSecret: "TOPSECRET" }, "dev_key", /PKCS#8/],
      [{ host: "h", provisionKey: 5, provisionSecret: "TOPSECRET" }, "prov_key", /expected a string/],
    ];
    for (const [settings, key, message] of bad) {
      let error: unknown;
      try {
        factoryEntries(settings, "row 7");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FactoryError);
      const f = error as FactoryError;
      expect([key, f.key]).toEqual([key, key]);
      expect(f.message).toMatch(message);
      expect(f.message).toMatch(/row 7/);
      expect(f.message).not.toMatch(/TOPSECRET/);
    }
  });
});
