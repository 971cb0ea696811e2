/**
 * `tbsdk start`: the laptop demo. It runs the ThingsBoard-compatible emulator (a profile that allows provisioning)
 * and one simulated device: the SDK's DeviceAgent on the Node host, with a file-backed NVS. The device provisions
 * itself, stores its credentials, sends telemetry, then "reboots" and comes back from flash without provisioning
 * again — logging all of it like a serial monitor.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CredentialStore } from "../src/credentials/index.js";
import { DeviceAgent } from "../src/device/index.js";
import { Log } from "../src/log.js";
import type { Clock, LogLevel } from "../src/ports.js";
import { cryptoRandom, NvsFileStore, systemClock, stdoutSink, tcpConnector } from "../hosts/node/index.js";
import type { TextStream } from "../hosts/node/index.js";
import { startEmulator } from "./emulator/index.js";

export interface StartOptions {
  /** Telemetry messages per boot; 0 = run until interrupted (no reboot demo). */
  count: number;
  intervalMs: number;
  level: LogLevel;
  /** Emulator ports; 0 picks free ones. */
  mqttPort: number;
  httpPort: number;
  /** The simulated device's flash (NVS) folder; default a fresh temporary folder. */
  stateDir?: string;
  stream?: TextStream;
}

const PROVISION_KEY = "demo-provision-key";
const PROVISION_SECRET = "demo-provision-secret";
const DEVICE_NAME = "ESP32-SIMULATED-01";

export async function runStart(options: StartOptions): Promise<void> {
  const clock = systemClock();
  const log = new Log(stdoutSink({ stream: options.stream }), clock, { level: options.level });
  const emulator = await startEmulator({
    bind: "127.0.0.1", mqttPort: options.mqttPort, httpPort: options.httpPort, reprovision: "strict", log,
    // Both strategies are ready to try (e.g. with `tbsdk device --key demo-preprovisioned-key …`); the demo device uses the first.
    config: {
      profiles: [
        { name: "esp32-demo", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: PROVISION_KEY, provisionDeviceSecret: PROVISION_SECRET },
        { name: "esp32-preprovisioned", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", provisionDeviceKey: "demo-preprovisioned-key", provisionDeviceSecret: "demo-preprovisioned-secret" },
      ],
      devices: [{ name: "ESP32-PREPROVISIONED-01", profile: "esp32-preprovisioned" }],
    },
  });
  const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-device-"));
  const demo = log.tag("demo");
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  process.once("SIGINT", onSigint);
  try {
    demo.info(`device flash (NVS) in ${stateDir}`);
    await runBoot(1, clock, log, emulator.mqttPort, stateDir, options, () => interrupted);
    if (options.count > 0 && !interrupted) {
      demo.info("rebooting the device: it must come back from its stored credentials, without provisioning");
      await runBoot(2, clock, log, emulator.mqttPort, stateDir, options, () => interrupted);
      const copies = emulator.store.listDevices().filter((d) => d.name === DEVICE_NAME).length;
      demo.info(`the emulator holds ${copies} device(s) named ${DEVICE_NAME}`);
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    await emulator.close();
    if (!options.stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** One power-on of the simulated device: start the agent, send `count` telemetry messages, stop. */
async function runBoot(boot: number, clock: Clock, log: Log, port: number, stateDir: string, o: StartOptions, interrupted: () => boolean): Promise<void> {
  const device = log.tag("device");
  const agent = new DeviceAgent({
    server: { host: "127.0.0.1", port },
    connect: (endpoint) => tcpConnector({ host: endpoint.host, port: endpoint.port }),
    clock, random: cryptoRandom(), log,
    store: new CredentialStore(new NvsFileStore(stateDir)),
    provisionDeviceKey: PROVISION_KEY, provisionDeviceSecret: PROVISION_SECRET, deviceName: DEVICE_NAME,
    epochMs: () => Date.now(),
  });
  device.info(`boot #${boot}`);
  agent.start();
  try {
    for (let sent = 0; !interrupted() && (o.count === 0 || sent < o.count); sent++) {
      const values = { temperature: Number((21 + Math.random() * 4).toFixed(2)), boot };
      await new Promise<void>((resolve) => agent.sendTelemetry(values, () => resolve()));
      if (o.count === 0 || sent + 1 < o.count) await sleep(o.intervalMs, interrupted);
    }
    device.info(`boot #${boot}: ${agent.stats.provisionRequests} provision request(s), ${agent.stats.connects} connection(s)`);
  } finally {
    agent.stop();
  }
}

/** Waits `ms`, waking early on Ctrl-C. */
async function sleep(ms: number, interrupted: () => boolean): Promise<void> {
  for (let left = ms; left > 0 && !interrupted(); left -= 100) await new Promise((r) => setTimeout(r, Math.min(100, left)));
}
