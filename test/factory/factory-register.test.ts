/**
 * Pre-provisioned devices registered on the in-process emulator (ThingsBoard's REST subset): through
 * `POST /api/device/bulk_import` and one by one (looked up by name first), re-runs changing nothing, the bulk CSV
 * imported by hand, X.509 devices, and no secret in anything printed. Finally one image's settings provision a
 * device against the emulator over MQTT (CHECK_PRE_PROVISIONED_DEVICES), so the registered credentials are the ones
 * the device gets.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import mqtt from "mqtt";
import { sha3Hex, stripPem } from "../../tools/emulator/credentials.js";
import type { RunningEmulator } from "../../tools/emulator/index.js";
import { readNvsImage } from "../../tools/factory/nvs-reader.js";
import { FIXTURES, PREPROVISIONED_PROFILE, Rest, runFactoryCli, startTestEmulator, tempDir } from "./support.js";

const DEVICES = path.join(FIXTURES, "devices.csv");
const SETTINGS = path.join(FIXTURES, "common.json");
const NAMES = ["ESP32-0001", "ESP32-0002", "ESP32-0003", "ESP32-0004", "ESP32-0005"];
const SECRETS = [PREPROVISIONED_PROFILE.provisionDeviceKey, PREPROVISIONED_PROFILE.provisionDeviceSecret, "tenant"];

const imageHashes = (dir: string, names = NAMES) =>
  Object.fromEntries(names.map((n) => [n, require("node:crypto").createHash("sha256").update(fs.readFileSync(path.join(dir, `${n}.bin`))).digest("hex")]));

describe("tbsdk factory run: registration on the emulator", () => {
  const root = tempDir("factory-register-");
  let emu: RunningEmulator;
  let rest: Rest;
  let url: string;

  beforeEach(async () => {
    emu = await startTestEmulator({ profiles: [PREPROVISIONED_PROFILE] });
    url = `http://127.0.0.1:${emu.httpPort}`;
    rest = new Rest(url);
    await rest.login();
  });
  afterEach(async () => emu.close());
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("registers 5 devices by bulk import with the generated tokens; a re-run changes nothing", async () => {
    const out = path.join(root, "bulk");
    // No --profile: the profile is found by the settings' prov_key (and checked to be CHECK_PRE_PROVISIONED_DEVICES).
    const args = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--register", url, "--username", "tenant@thingsboard.org", "--password", "tenant"];
    const first = await runFactoryCli(args);
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toMatch(/registered 5 devices in esp32-factory at http:\/\/127\.0\.0\.1:\d+ \(created 5, updated 0\)/);
    const creds = JSON.parse(fs.readFileSync(path.join(out, "credentials.json"), "utf8")).devices;

    const devices = await rest.devices();
    expect(Object.keys(devices)).toEqual(NAMES);
    for (const n of NAMES) {
      expect(devices[n]!.type).toBe("esp32-factory");
      expect(devices[n]!.credentials).toEqual({ credentialsType: "ACCESS_TOKEN", credentialsId: creds[n].token, credentialsValue: null });
    }
    const attrs = await rest.call("GET", `/api/plugins/telemetry/DEVICE/${devices["ESP32-0001"]!.id}/values/attributes/SERVER_SCOPE?keys=mac,serial`);
    expect(Object.fromEntries(attrs.map((a: { key: string; value: unknown }) => [a.key, a.value]))).toEqual({ mac: "24:6F:28:00:00:01", serial: "SN-0001" });

    const images = imageHashes(out);
    const second = await runFactoryCli(args);
    expect(second.output).toMatch(/\(created 0, updated 5\)/);
    expect(await rest.devices()).toEqual(devices); // same ids, same credentials, no duplicates
    expect(imageHashes(out)).toEqual(images);
    for (const s of [...SECRETS, ...Object.values(creds).map((c: any) => c.token)]) {
      expect(first.output + second.output).not.toContain(s);
    }
  });

  it("registers one by one (looked up by name first) with MQTT basic credentials that the images also carry", async () => {
    const out = path.join(root, "each");
    const args = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--credentials", "mqtt-basic", "--profile", "esp32-factory",
      "--register", url, "--username", "tenant@thingsboard.org", "--register-mode", "device"];
    const first = await runFactoryCli(args, { TBSDK_PASSWORD: "tenant" });
    expect(first).toMatchObject({ code: 0 });
    expect(first.output).toMatch(/\(created 5, updated 0\)/);
    const devices = await rest.devices();
    const passwords: string[] = [];
    for (const n of NAMES) {
      const ns = readNvsImage(new Uint8Array(fs.readFileSync(path.join(out, `${n}.bin`)))).tb_factory!;
      const password = (ns.mqtt_pass as { value: string }).value;
      passwords.push(password);
      expect(password).toMatch(/^[0-9a-f]{24}$/);
      expect(ns.mqtt_client).toEqual({ type: "string", value: n });
      expect(ns.mqtt_user).toEqual({ type: "string", value: n });
      expect(ns.cred_type).toEqual({ type: "string", value: "mqtt-basic" });
      expect(devices[n]!.credentials).toEqual({
        credentialsType: "MQTT_BASIC",
        credentialsId: sha3Hex(`${n}|${n}`),
        credentialsValue: JSON.stringify({ clientId: n, userName: n, password }),
      });
    }
    const images = imageHashes(out);
    const second = await runFactoryCli(args, { TBSDK_PASSWORD: "tenant" });
    expect(second.output).toMatch(/\(created 0, updated 0, unchanged 5\)/);
    expect(await rest.devices()).toEqual(devices);
    expect(imageHashes(out)).toEqual(images);

    // A credential changed on the server is put back to what the image holds.
    await rest.call("POST", "/api/device/credentials", {
      ...(await rest.call("GET", `/api/device/${devices["ESP32-0002"]!.id}/credentials`)),
      credentialsType: "ACCESS_TOKEN", credentialsId: "SOMEONE_ELSES_TOKEN", credentialsValue: null,
    });
    expect((await runFactoryCli(args, { TBSDK_PASSWORD: "tenant" })).output).toMatch(/\(created 0, updated 1, unchanged 4\)/);
    expect(await rest.devices()).toEqual(devices);
    for (const s of [...SECRETS, ...passwords]) expect(first.output + second.output).not.toContain(s);
  });

  it("writes a bulk-import CSV + mapping that POST /api/device/bulk_import imports as is (X.509 devices)", async () => {
    const out = path.join(root, "x509");
    const bulk = path.join(root, "x509-import.csv");
    const r = await runFactoryCli(["run", "--devices", path.join(FIXTURES, "devices-x509.csv"), "--settings", SETTINGS, "--out", out,
      "--credentials", "x509", "--profile", "esp32-factory", "--bulk-csv", bulk]);
    expect(r).toMatchObject({ code: 0 });
    const key = fs.readFileSync(path.join(FIXTURES, "ESP32-X509-01.key"), "utf8");
    expect(r.output).not.toContain(key.split("\n")[1]);
    const mapping = JSON.parse(fs.readFileSync(path.join(root, "x509-import.mapping.json"), "utf8"));
    expect(mapping.columns).toEqual([{ type: "NAME" }, { type: "TYPE" }, { type: "X509" }]);
    const result = await rest.call("POST", "/api/device/bulk_import", { file: fs.readFileSync(bulk, "utf8"), mapping });
    expect(result).toEqual({ created: 2, updated: 0, errors: 0, errorsList: [] });
    const devices = await rest.devices();
    for (const n of ["ESP32-X509-01", "ESP32-X509-02"]) {
      const cert = fs.readFileSync(path.join(FIXTURES, `${n}.pem`), "utf8");
      expect(devices[n]!.credentials).toEqual({ credentialsType: "X509_CERTIFICATE", credentialsId: sha3Hex(stripPem(cert)), credentialsValue: stripPem(cert) });
      const ns = readNvsImage(new Uint8Array(fs.readFileSync(path.join(out, `${n}.bin`)))).tb_factory!;
      expect(ns.dev_cert).toEqual({ type: "string", value: cert });
      expect(ns.dev_key).toEqual({ type: "string", value: fs.readFileSync(path.join(FIXTURES, `${n}.key`), "utf8") });
    }
    // Importing again updates, never duplicates.
    expect(await rest.call("POST", "/api/device/bulk_import", { file: fs.readFileSync(bulk, "utf8"), mapping })).toMatchObject({ created: 0, updated: 2 });
    expect(Object.keys(await rest.devices())).toEqual(["ESP32-X509-01", "ESP32-X509-02"]);
  });

  it("a registered device provisions with its image's settings and gets the registered token", async () => {
    const out = path.join(root, "boot");
    const args = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--register", url, "--username", "tenant@thingsboard.org", "--password", "tenant"];
    expect((await runFactoryCli(args)).code).toBe(0);
    const ns = readNvsImage(new Uint8Array(fs.readFileSync(path.join(out, "ESP32-0004.bin")))).tb_factory!;
    const str = (k: string) => (ns[k] as { value: string }).value;
    const token = JSON.parse(fs.readFileSync(path.join(out, "credentials.json"), "utf8")).devices["ESP32-0004"].token;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${emu.mqttPort}`, { username: "provision", protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const response = new Promise<string>((resolve) => client.on("message", (_t, p) => resolve(p.toString())));
      await client.subscribeAsync("/provision/response", { qos: 1 });
      await client.publishAsync("/provision/request", JSON.stringify({
        deviceName: str("dev_name"), provisionDeviceKey: str("prov_key"), provisionDeviceSecret: str("prov_secret"), credentialsType: "ACCESS_TOKEN", token: "DEVICE_CHOSEN_TOKEN_1",
      }), { qos: 1 });
      expect(JSON.parse(await response)).toEqual({ credentialsValue: token, credentialsType: "ACCESS_TOKEN", status: "SUCCESS" });
    } finally {
      await client.endAsync();
    }
  });

  it("refuses a profile that does not pre-provision, or a wrong password, without showing secrets", async () => {
    await rest.call("POST", "/api/deviceProfile", {
      name: "esp32-open", type: "DEFAULT", transportType: "DEFAULT", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "other-key",
      profileData: { configuration: { type: "DEFAULT" }, transportConfiguration: { type: "DEFAULT" }, provisionConfiguration: { type: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceSecret: "other-secret" } },
    });
    const base = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", path.join(root, "refused"), "--register", url, "--username", "tenant@thingsboard.org"];
    const open = await runFactoryCli([...base, "--password", "tenant", "--profile", "esp32-open"]);
    expect(open.output).toMatch(/"esp32-open" provisions with ALLOW_CREATE_NEW_DEVICES, not CHECK_PRE_PROVISIONED_DEVICES/);
    const missing = await runFactoryCli([...base, "--password", "tenant", "--profile", "nope"]);
    expect(missing.output).toMatch(/device profile "nope" does not exist/);
    const wrong = await runFactoryCli([...base, "--password", "wrong-password-123"]);
    expect(wrong.output).toMatch(/POST \/api\/auth\/login: HTTP 401/);
    for (const s of [...SECRETS, "wrong-password-123"]) expect(open.output + missing.output + wrong.output).not.toContain(s);
    expect(Object.keys(await rest.devices())).toEqual([]);
    expect(fs.existsSync(path.join(root, "refused"))).toBe(false); // the server is checked before anything is written
  });
});
