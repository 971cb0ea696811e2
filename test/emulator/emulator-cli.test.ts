/** `tbsdk emulator` flags: parsed into options and honoured by the running emulator (standard clients only). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { Log } from "../../src/log.js";
import { memorySink, systemClock } from "../../hosts/node/index.js";
import { emulatorOptions, UsageError } from "../../tools/cli.js";
import { startEmulator } from "../../tools/emulator/index.js";
import { makeTestPki } from "../support/certs.js";

const log = () => new Log(memorySink(), systemClock());

describe("tbsdk emulator flags", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-cli-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("uses ThingsBoard's defaults", () => {
    const o = emulatorOptions([], log());
    expect(o).toMatchObject({ bind: "127.0.0.1", mqttPort: 1883, httpPort: 8080, reprovision: "strict", noProvisionSuback: false,
      provisionCloseMs: 60000, maxPayloadBytes: 65536, maxPointsPerKey: 1000, tenant: { username: "tenant@thingsboard.org", password: "tenant" } });
    expect(o.mqttsPort).toBeUndefined();
  });

  it("refuses bad flag values with a usage error", () => {
    expect(() => emulatorOptions(["--reprovision", "sometimes"], log())).toThrow(UsageError);
    expect(() => emulatorOptions(["--mqtt-port", "x"], log())).toThrow(/--mqtt-port must be a whole number/);
    expect(() => emulatorOptions(["--mqtts-port", "0", "--tls-cert", "a.pem"], log())).toThrow(/--tls-cert and --tls-key go together/);
    expect(() => emulatorOptions(["--config", path.join(dir, "missing.json")], log())).toThrow(/--config/);
  });

  it("runs with given TLS files, a seed config, a custom tenant and a data file", async () => {
    const pki = makeTestPki();
    const config = path.join(dir, "seed.json");
    fs.writeFileSync(config, JSON.stringify({ devices: [{ name: "seeded-1", credentials: { type: "ACCESS_TOKEN", token: "SEEDED_TOKEN_1" } }] }));
    const options = emulatorOptions([
      "--mqtt-port", "0", "--http-port", "0", "--mqtts-port", "0", "--tls-cert", pki.server.certFile, "--tls-key", pki.server.keyFile,
      "--config", config, "--data", path.join(dir, "state.json"), "--tenant-username", "ops@example.com", "--tenant-password", "pw",
      "--no-provision-suback", "--reprovision", "legacy",
    ], log());
    const emu = await startEmulator(options);
    try {
      // MQTTS presents the given certificate.
      const subject = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: emu.mqttsPort!, ca: pki.ca.cert, servername: "localhost" }, () => {
          resolve(String(s.getPeerCertificate().subject.CN));
          s.destroy();
        });
        s.on("error", reject);
      });
      expect(subject.length).toBeGreaterThan(0);
      // The custom tenant logs in; the default one does not.
      const login = (username: string, password: string) => fetch(`http://127.0.0.1:${emu.httpPort}/api/auth/login`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }),
      });
      expect((await login("ops@example.com", "pw")).status).toBe(200);
      expect((await login("tenant@thingsboard.org", "tenant")).status).toBe(401);
      expect(emu.store.findDeviceByName("seeded-1")).toBeDefined();
    } finally {
      await emu.close();
    }
    expect(fs.existsSync(path.join(dir, "state.json"))).toBe(true);
  });
});
