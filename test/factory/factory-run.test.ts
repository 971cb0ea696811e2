/**
 * `tbsdk factory run`: per-device images from the 5-device fixture (read back with every CRC checked and resolved
 * by the firmware's resolveSettings), the manifest, idempotent re-runs, the bulk-import CSV, and bad device lists.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { FACTORY_NAMESPACE } from "../../src/settings/keys.js";
import { pemToDer } from "../../src/settings/pem.js";
import { resolveSettings } from "../../src/settings/resolve.js";
import { parseNvsImage, type NvsContents } from "../../tools/factory/nvs-reader.js";
import { nvsPreferenceSource } from "../../tools/factory/preference-view.js";
import { FIXTURES, runFactoryCli, tempDir } from "./support.js";

const DEVICES = path.join(FIXTURES, "devices.csv");
const SETTINGS = path.join(FIXTURES, "common.json");
const NAMES = ["ESP32-0001", "ESP32-0002", "ESP32-0003", "ESP32-0004", "ESP32-0005"];
const COMMON_SECRETS = ["factory-prov-key-7f3a", "factory-prov-secret-c91d"];

/** What the firmware resolves from the read-back namespace (Preference.get on ESP32). */
function firmwareSettings(contents: NvsContents) {
  return resolveSettings([nvsPreferenceSource(contents, FACTORY_NAMESPACE)]).settings;
}

/** name → SHA-256 of its image (Jest's deep equality on 24 KB buffers is slow). */
function readImages(dir: string): Record<string, string> {
  return Object.fromEntries(NAMES.map((n) => [n, createHash("sha256").update(fs.readFileSync(path.join(dir, `${n}.bin`))).digest("hex")]));
}

describe("tbsdk factory run", () => {
  const root = tempDir("factory-run-");
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("provision strategy: 5 images that read back with every CRC checked, each with its own dev_name and overrides", async () => {
    const out = path.join(root, "prov");
    const r = await runFactoryCli(["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--strategy", "provision", "--credentials", "mqtt-basic"]);
    expect(r).toMatchObject({ code: 0 });
    for (const s of COMMON_SECRETS) expect(r.output).not.toContain(s);
    expect(r.output).toMatch(/5 NVS images \(0x6000 bytes, namespace tb_factory\)/);

    const caDer = pemToDer(fs.readFileSync(path.join(FIXTURES, "ca.pem"), "utf8"), "CERTIFICATE");
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ strategy: "provision", namespace: "tb_factory", size: 0x6000, nvsVersion: 2 });
    expect(manifest.devices.map((d: { name: string }) => d.name)).toEqual(NAMES);
    expect(manifest.devices[0]).toEqual({ name: "ESP32-0001", mac: "24:6F:28:00:00:01", serial: "SN-0001", file: "ESP32-0001.bin", sha256: expect.any(String), credentials: "mqtt-basic" });
    expect(manifest.devices[1].mac).toBe("24:6F:28:00:00:02");
    expect(manifest.devices[2].mac).toBe("24:6F:28:00:00:03");
    expect(manifest.devices[4]).not.toHaveProperty("mac");
    const manifestText = fs.readFileSync(path.join(out, "manifest.json"), "utf8");
    for (const s of COMMON_SECRETS) expect(manifestText).not.toContain(s);
    expect(fs.existsSync(path.join(out, "credentials.json"))).toBe(false); // nothing generated under `provision`

    for (const [i, name] of NAMES.entries()) {
      const image = new Uint8Array(fs.readFileSync(path.join(out, `${name}.bin`)));
      expect(image.length).toBe(0x6000);
      expect(createHash("sha256").update(image).digest("hex")).toBe(manifest.devices[i].sha256);
      const { pages, contents } = parseNvsImage(image); // every page, entry and data CRC checked
      expect(pages[pages.length - 1]!.state).toBe("uninitialized");
      expect(Object.keys(contents)).toEqual([FACTORY_NAMESPACE]);
      expect(contents[FACTORY_NAMESPACE]!.dev_name).toEqual({ type: "string", value: name });
      const s = firmwareSettings(contents);
      expect(s).toMatchObject({
        host: "tb.example.com", tls: true, provisionKey: COMMON_SECRETS[0], provisionSecret: COMMON_SECRETS[1],
        deviceName: name, credentials: "mqtt-basic", telemetryIntervalMs: 5000,
        port: name === "ESP32-0003" ? 8884 : 8883, logLevel: name === "ESP32-0002" ? "D" : "I",
      });
      expect(s.caCert).toEqual(caDer);
      // Under `provision` the device picks its own MQTT password: the factory writes none.
      expect(s.mqttPassword).toBeUndefined();
    }

    // Re-running gives the same bytes.
    const before = readImages(out);
    expect((await runFactoryCli(["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--strategy", "provision", "--credentials", "mqtt-basic"])).code).toBe(0);
    expect(readImages(out)).toEqual(before);
    expect(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).toBe(manifestText);
  });

  it("preprovisioned: generated tokens persist in DIR/credentials.json and go to the bulk-import CSV, never to the output", async () => {
    const out = path.join(root, "pre");
    const bulk = path.join(root, "pre-import.csv");
    const args = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out, "--bulk-csv", bulk, "--profile", "esp32-factory"];
    const r = await runFactoryCli(args);
    expect(r).toMatchObject({ code: 0 });
    const creds = JSON.parse(fs.readFileSync(path.join(out, "credentials.json"), "utf8"));
    expect(fs.statSync(path.join(out, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(bulk).mode & 0o777).toBe(0o600);
    const tokens = NAMES.map((n) => creds.devices[n].token as string);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(new Set(tokens).size).toBe(5);

    const csv = fs.readFileSync(bulk, "utf8");
    expect(csv.split("\n")[0]).toBe("name,type,access_token,mac,serial");
    expect(csv.split("\n")[1]).toBe(`ESP32-0001,esp32-factory,${tokens[0]},24:6F:28:00:00:01,SN-0001`);
    expect(csv.split("\n")[5]).toBe(`ESP32-0005,esp32-factory,${tokens[4]},,SN-0005`);
    const mapping = JSON.parse(fs.readFileSync(path.join(root, "pre-import.mapping.json"), "utf8"));
    expect(mapping).toEqual({
      columns: [{ type: "NAME" }, { type: "TYPE" }, { type: "ACCESS_TOKEN" }, { type: "SERVER_ATTRIBUTE", key: "mac" }, { type: "SERVER_ATTRIBUTE", key: "serial" }],
      delimiter: ",", update: true, header: true,
    });
    for (const s of [...COMMON_SECRETS, ...tokens]) {
      expect(r.output).not.toContain(s);
      expect(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).not.toContain(s);
    }

    // Re-run: the same tokens, CSV and images.
    const images = readImages(out);
    expect((await runFactoryCli(args)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, "credentials.json"), "utf8"))).toEqual(creds);
    expect(fs.readFileSync(bulk, "utf8")).toBe(csv);
    expect(readImages(out)).toEqual(images);
  });

  it("refuses a bad device list with its line number, before writing anything, and never shows a secret", async () => {
    const cases: [string, RegExp][] = [
      ["name,mac\nESP32-A,\n,24:6F:28:00:00:09\n", /bad\.csv line 3: missing name/],
      ["name\nESP32-A\nESP32-B\n\nESP32-A\n", /bad\.csv line 5: duplicate name "ESP32-A" \(first on line 2\)/],
      ["name,tb_port\nESP32-A,1883\nESP32-B,99999\n", /: tb_port from bad\.csv line 3 \(ESP32-B\): expected an integer 1\.\.65535/],
      ["name,mac\nESP32-A,24:6F:28:00:00:01\nESP32-B,24:6f:28:00:00:01\n", /bad\.csv line 3: duplicate mac 24:6F:28:00:00:01 \(first on line 2\)/],
      ["name,mac\nESP32-A,24:6F:28:00:00\n", /bad\.csv line 2: mac "24:6F:28:00:00" is not six hex bytes/],
      ["name\n../evil\n", /bad\.csv line 2: name "\.\.\/evil" must be/],
      ["id,mac\nx,\n", /bad\.csv line 1: the header has no "name" column/],
      ["name,colour\nx,red\n", /column 2 "colour" is neither name, mac, serial nor a setting key/],
      ["name,dev_name\nx,y\n", /the device name comes from the "name" column/],
      ['name,tb_host\n"ESP32-A\n', /bad\.csv line 2: a quoted cell is not closed/],
      ["name,prov_secret\nESP32-A,s3cr3t-row-value\nESP32-B,\"x\ny\",extra\n", /bad\.csv line 3: 3 cells, the header has 2/],
      ["name,cred_type\nESP32-A,x509\n", /bad\.csv line 2 \(ESP32-A\): cred_type x509 needs dev_cert and dev_key/],
    ];
    const bad = path.join(root, "bad.csv");
    for (const [csv, message] of cases) {
      const out = path.join(root, "bad-out");
      fs.writeFileSync(bad, csv);
      const r = await runFactoryCli(["run", "--devices", bad, "--settings", SETTINGS, "--out", out, "--strategy", "provision"]);
      expect([csv, r.code]).toEqual([csv, 1]);
      expect(r.output).toMatch(message);
      for (const s of [...COMMON_SECRETS, "s3cr3t-row-value"]) expect(r.output).not.toContain(s);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it("refuses strategy/registration combinations that cannot work", async () => {
    const out = path.join(root, "combo");
    const base = ["run", "--devices", DEVICES, "--settings", SETTINGS, "--out", out];
    expect((await runFactoryCli(base)).output).toMatch(/must exist on the server before they boot: give --bulk-csv FILE or --register URL/);
    expect((await runFactoryCli([...base, "--bulk-csv", path.join(root, "x.csv")])).output).toMatch(/--profile NAME is needed/);
    expect((await runFactoryCli([...base, "--strategy", "provision", "--bulk-csv", path.join(root, "x.csv")])).output).toMatch(/registers nothing/);
    expect((await runFactoryCli([...base, "--strategy", "other"])).output).toMatch(/--strategy must be preprovisioned or provision/);
    expect((await runFactoryCli([...base, "--register", "http://127.0.0.1:1", "--username", "u"])).output).toMatch(/--register needs --password/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
