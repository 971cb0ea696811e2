/**
 * The whole emulator as `tbsdk emulator` runs it, driven only by standard clients (the `mqtt` package and
 * fetch): provision over MQTT, connect with the returned token, send telemetry, read it over REST, then
 * restart from the state file and find everything again.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mqtt from "mqtt";
import { Log } from "../../src/log.js";
import { memorySink } from "../../hosts/node/index.js";
import { startEmulator, RunningEmulator } from "../../tools/emulator/index.js";

const CONFIG = {
  profiles: [{ name: "esp32", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "e2e-key", provisionDeviceSecret: "e2e-secret" }],
};

async function start(dataFile: string, sink = memorySink()): Promise<RunningEmulator> {
  const log = new Log(sink, { now: () => Date.now(), setTimer: (cb, ms) => setTimeout(cb, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) });
  return startEmulator({ bind: "127.0.0.1", mqttPort: 0, httpPort: 0, dataFile, config: CONFIG, reprovision: "strict", provisionCloseMs: 200, saveIntervalMs: 100_000, log });
}

async function login(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
  });
  return ((await r.json()) as { token: string }).token;
}

describe("emulator end to end", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-e2e-"));
  const dataFile = path.join(dir, "state.json");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("provisions a device, takes its telemetry, serves it over REST, and keeps it across a restart", async () => {
    const sink = memorySink();
    let emu = await start(dataFile, sink);
    try {
      // 1. Provision with a standard MQTT client.
      const prov = await mqtt.connectAsync(`mqtt://127.0.0.1:${emu.mqttPort}`, { username: "provision", protocolVersion: 4, reconnectPeriod: 0 });
      const response = new Promise<string>((resolve) => prov.on("message", (_t, p) => resolve(p.toString())));
      await prov.subscribeAsync("/provision/response", { qos: 1 });
      await prov.publishAsync("/provision/request", JSON.stringify({
        deviceName: "ESP32-E2E-01", provisionDeviceKey: "e2e-key", provisionDeviceSecret: "e2e-secret",
        credentialsType: "ACCESS_TOKEN", token: "E2E_DEVICE_TOKEN_0001",
      }), { qos: 1 });
      expect(await response).toBe('{"credentialsValue":"E2E_DEVICE_TOKEN_0001","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
      await prov.endAsync();

      // 2. Connect with the new credentials and send telemetry.
      const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${emu.mqttPort}`, { username: "E2E_DEVICE_TOKEN_0001", protocolVersion: 4, reconnectPeriod: 0 });
      await dev.publishAsync("v1/devices/me/telemetry", JSON.stringify({ temperature: 21.5 }), { qos: 1 });
      await dev.endAsync();

      // 3. Read it back over REST.
      const token = await login(emu.httpPort);
      const auth = { "X-Authorization": `Bearer ${token}` };
      const found = await fetch(`http://127.0.0.1:${emu.httpPort}/api/tenant/devices?deviceName=ESP32-E2E-01`, { headers: auth });
      expect(found.status).toBe(200);
      const device = (await found.json()) as { id: { id: string }; type: string };
      expect(device.type).toBe("esp32");
      const ts = await fetch(`http://127.0.0.1:${emu.httpPort}/api/plugins/telemetry/DEVICE/${device.id.id}/values/timeseries?keys=temperature`, { headers: auth });
      expect(((await ts.json()) as { temperature: Array<{ value: string }> }).temperature[0].value).toBe("21.5");

      // The console log told the story in one line per event, without the token.
      const text = sink.lines.join("\n");
      expect(text).toMatch(/emulator: seeded 1 profiles and 0 devices$/m);
      expect(text).toMatch(/emulator: provisioned ESP32-E2E-01: SUCCESS \(ACCESS_TOKEN\)/);
      expect(text).toMatch(/emulator: telemetry from ESP32-E2E-01: temperature/);
      expect(text).not.toContain("E2E_DEVICE_TOKEN_0001");
      expect(text).not.toContain("e2e-secret");

      // 4. Restart from the state file: device, credentials and provisionState survive.
      await emu.close();
      emu = await start(dataFile);
      const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${emu.mqttPort}`, { username: "E2E_DEVICE_TOKEN_0001", protocolVersion: 4, reconnectPeriod: 0 });
      await again.endAsync();
      const restored = emu.store.findDeviceByName("ESP32-E2E-01");
      expect(restored).toBeDefined();
      const state = emu.store.getAttribute(restored!.id.id, "SERVER_SCOPE", "provisionState");
      expect(state?.value).toBe("provisioned");
    } finally {
      await emu.close();
    }
  });
});
