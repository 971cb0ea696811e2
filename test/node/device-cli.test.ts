/**
 * `tbsdk device` against the emulator over real sockets, in every credentials mode: it provisions, sends N
 * telemetry messages that the server stores, exits 0, and a second run comes back from its state directory
 * without provisioning again. Flags can come from a config file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Log } from "../../src/log.js";
import { memorySink, systemClock } from "../../hosts/node/index.js";
import { deviceOptions, UsageError } from "../../tools/cli.js";
import { runDevice } from "../../tools/device.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";
import { makeTestPki } from "../support/certs.js";

const pki = makeTestPki();
let emu: RunningEmulator;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "device-cli-"));

beforeAll(async () => {
  emu = await startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision: "strict", log: new Log(memorySink(), systemClock()),
    mqttsPort: 0, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, source: "test PKI" },
    config: { profiles: [{ name: "fleet", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "cli-key", provisionDeviceSecret: "cli-secret" }] },
  });
});
afterAll(async () => {
  await emu.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]) {
  const out: string[] = [];
  const options = { ...deviceOptions(args), stream: { write: (s: string) => out.push(s), isTTY: false } };
  return runDevice(options).then((code) => ({ code, text: out.join("") }));
}

describe("tbsdk device", () => {
  const modes: Array<[string, string[]]> = [
    ["token", ["--port", "PORT"]],
    ["server", ["--port", "PORT"]],
    ["mqtt-basic", ["--port", "PORT"]],
    ["x509", ["--port", "TLSPORT", "--tls", "--ca", pki.ca.certFile, "--servername", "localhost", "--cert", pki.client.certFile, "--private-key", pki.client.keyFile]],
  ];
  for (const [mode, extra] of modes) {
    it(`--credentials ${mode}: provisions, sends telemetry, and restarts from its state without provisioning`, async () => {
      const name = `cli-${mode}`;
      const args = ["--key", "cli-key", "--secret", "cli-secret", "--name", name, "--credentials", mode, "--state", path.join(dir, name),
        "--interval", "10", "--messages", "2", "--log-level", "D",
        ...extra.map((a) => (a === "PORT" ? String(emu.mqttPort) : a === "TLSPORT" ? String(emu.mqttsPort) : a))];
      const first = await run(args);
      expect(first.code).toBe(0);
      expect(first.text).toMatch(/provision: Starting provision to 127\.0\.0\.1:\d+/);
      const device = emu.store.findDeviceByName(name);
      expect(device).toBeDefined();
      expect(emu.store.latestTimeseries(device!.id.id, ["temperature"]).temperature).toBeDefined();
      expect(first.text).not.toContain("cli-secret");

      const second = await run(args);
      expect(second.code).toBe(0);
      expect(second.text).toMatch(/stored credentials loaded/);
      expect(second.text).not.toMatch(/Starting provision/);
      expect(emu.store.listDevices().filter((d) => d.name === name)).toHaveLength(1);
    });
  }

  it("takes flags from a config file, with command-line flags winning", () => {
    const file = path.join(dir, "device.json");
    fs.writeFileSync(file, JSON.stringify({ host: "tb.example.com", port: 8883, tls: true, key: "k", secret: "s", name: "from-config", messages: 3 }));
    const o = deviceOptions(["--config", file, "--name", "from-flag"]);
    expect(o).toMatchObject({ host: "tb.example.com", port: 8883, tls: true, provisionKey: "k", provisionSecret: "s", name: "from-flag", messages: 3 });
  });

  it("refuses bad flags with a usage error", () => {
    expect(() => deviceOptions(["--credentials", "magic"])).toThrow(UsageError);
    expect(() => deviceOptions(["--ca", path.join(dir, "missing.pem")])).toThrow(/--ca/);
  });
});
