/**
 * The device agent on the Node host (TCP transport, system clock, OS random, file-backed NVS) against the
 * ThingsBoard-compatible emulator over real sockets: it provisions, sends telemetry the emulator stores, and
 * after a restart connects from its stored credentials without a second provisioning.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CredentialStore } from "../../src/credentials/store.js";
import { DeviceAgent, type AgentState } from "../../src/device/agent.js";
import type { MessageFate } from "../../src/device/telemetry-queue.js";
import { Log } from "../../src/log.js";
import { cryptoRandom, memorySink, NvsFileStore, systemClock, tcpConnector } from "../../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";

const KEY = "esp32-provision-key";
const SECRET = "esp32-provision-secret";
const NAME = "ESP32-NODE-AGENT-01";

let emulator: RunningEmulator;
let dir: string;
const emulatorSink = memorySink();
const deviceSink = memorySink();
const clock = systemClock();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-device-"));
  emulator = await startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision: "strict", log: new Log(emulatorSink, clock),
    config: { profiles: [{ name: "esp32", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }] },
  });
});

afterAll(async () => {
  await emulator?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function makeAgent(): { agent: DeviceAgent; online: Promise<void> } {
  const log = new Log(deviceSink, clock, { level: "D" });
  let reached: () => void = () => undefined;
  const online = new Promise<void>((resolve) => (reached = resolve));
  const agent = new DeviceAgent({
    server: { host: "127.0.0.1", port: emulator.mqttPort },
    connect: (endpoint) => tcpConnector(endpoint),
    clock,
    random: cryptoRandom(),
    store: new CredentialStore(new NvsFileStore(dir)),
    log,
    deviceName: NAME,
    provisionDeviceKey: KEY,
    provisionDeviceSecret: SECRET,
    epochMs: () => Date.now(),
    backoff: { baseMs: 100, capMs: 1000 },
    onStateChange: (s: AgentState) => s === "online" && reached(),
  });
  return { agent, online };
}

function send(agent: DeviceAgent, values: Record<string, number>): Promise<MessageFate> {
  return new Promise((resolve) => agent.sendTelemetry(values, (fate) => resolve(fate)));
}

it("provisions over real sockets, sends telemetry, and restarts from stored credentials without provisioning again", async () => {
  const first = makeAgent();
  first.agent.start();
  await first.online;
  expect(first.agent.stats.provisionRequests).toBe(1);
  expect(await send(first.agent, { temperature: 21.5 })).toBe("acked");
  first.agent.stop();

  const devices = emulator.store.listDevices();
  expect(devices.map((d) => d.name)).toEqual([NAME]);
  const id = devices[0].id.id;
  expect(String(emulator.store.latestTimeseries(id, ["temperature"]).temperature?.value)).toBe("21.5");

  // Restart: a new agent over the same NVS directory.
  const second = makeAgent();
  second.agent.start();
  await second.online;
  expect(second.agent.stats.provisionRequests).toBe(0);
  expect(await send(second.agent, { temperature: 22.75 })).toBe("acked");
  second.agent.stop();

  expect(emulator.store.listDevices()).toHaveLength(1);
  expect(String(emulator.store.latestTimeseries(id, ["temperature"]).temperature?.value)).toBe("22.75");
  expect(emulator.store.queryTimeseries(id, "temperature", { startTs: 0, endTs: Date.now() + 1000, limit: 10, order: "ASC" })).toHaveLength(2);

  const lines = deviceSink.lines;
  expect(lines.filter((l) => l.includes(`Starting provision to 127.0.0.1:${emulator.mqttPort}`))).toHaveLength(1);
  expect(lines.filter((l) => l.includes("Provision response credential type: ACCESS_TOKEN"))).toHaveLength(1);
  expect(lines.filter((l) => l.includes("telemetry #1 acked"))).toHaveLength(2);
  const record = new CredentialStore(new NvsFileStore(dir)).load().record;
  expect(record?.pending).toBe(false);
  const token = record?.credentials.type === "ACCESS_TOKEN" ? record.credentials.token : "";
  expect(token.length).toBeGreaterThanOrEqual(20);
  for (const secret of [SECRET, KEY, token]) {
    expect(lines.filter((l) => l.includes(secret))).toEqual([]);
  }
});
