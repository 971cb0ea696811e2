/**
 * `tbsdk start`: the laptop demo. It runs the ThingsBoard-compatible emulator (with a device profile that allows
 * provisioning) and one simulated device that provisions itself with the SDK's MQTT client, reconnects with the
 * credentials it received and sends telemetry at QoS 1, logging like a serial monitor.
 * The device side here is a minimal stand-in until the device agent (src/device) lands and replaces it.
 */
import { Log } from "../src/log.js";
import { MqttClient } from "../src/mqtt/client.js";
import type { Clock, LogLevel } from "../src/ports.js";
import { cryptoRandom, systemClock, stdoutSink, tcpConnector } from "../hosts/node/index.js";
import type { TextStream } from "../hosts/node/index.js";
import { startEmulator } from "./emulator/index.js";

export interface StartOptions {
  /** Telemetry messages to send before stopping; 0 = run until interrupted. */
  count: number;
  intervalMs: number;
  level: LogLevel;
  /** Emulator ports; 0 picks free ones. */
  mqttPort: number;
  httpPort: number;
  stream?: TextStream;
}

const PROVISION_KEY = "demo-provision-key";
const PROVISION_SECRET = "demo-provision-secret";
const DEVICE_NAME = "ESP32-SIMULATED-01";

export async function runStart(options: StartOptions): Promise<void> {
  const clock = systemClock();
  const log = new Log(stdoutSink({ stream: options.stream }), clock, { level: options.level });
  log.addSecret(PROVISION_SECRET);
  const emulator = await startEmulator({
    bind: "127.0.0.1", mqttPort: options.mqttPort, httpPort: options.httpPort, reprovision: "strict", log,
    config: { profiles: [{ name: "esp32-demo", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: PROVISION_KEY, provisionDeviceSecret: PROVISION_SECRET }] },
  });
  let stopping = false;
  process.once("SIGINT", () => (stopping = true));
  try {
    const token = await provision(clock, log, emulator.mqttPort);
    await sendTelemetry(clock, log, emulator.mqttPort, token, options, () => stopping);
  } finally {
    await emulator.close();
  }
}

/** Provisions with a device-chosen access token (recoverable if the response is lost). */
async function provision(clock: Clock, log: Log, port: number): Promise<string> {
  const tag = log.tag("provision");
  const bytes = new Uint8Array(15);
  cryptoRandom().fill(bytes);
  const token = Array.from(bytes, (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[b % 62]).join("") + "TOKEN";
  log.addSecret(token);
  tag.info(`Starting provision to 127.0.0.1:${port}`);
  let resolveResponse: (text: string) => void = () => undefined;
  const response = new Promise<string>((resolve) => (resolveResponse = resolve));
  const client = new MqttClient({
    connector: tcpConnector({ host: "127.0.0.1", port }), clock, clientId: DEVICE_NAME, username: "provision",
    keepaliveSec: 60, log: log.tag("mqtt"),
    onMessage: (m) => resolveResponse(String.fromCharCode(...m.payload)),
  });
  // CONNECT, SUBSCRIBE and PUBLISH leave in one write; nobody waits for the SUBACK.
  void client.subscribe("/provision/response", 1).catch(() => undefined);
  void client.publish("/provision/request", JSON.stringify({
    deviceName: DEVICE_NAME, provisionDeviceKey: PROVISION_KEY, provisionDeviceSecret: PROVISION_SECRET,
    credentialsType: "ACCESS_TOKEN", token,
  }), { qos: 1 }).catch(() => undefined);
  await client.connect();
  const reply = JSON.parse(await response) as { status: string; credentialsType?: string; credentialsValue?: string; errorMsg?: string };
  client.close();
  if (reply.status !== "SUCCESS" || typeof reply.credentialsValue !== "string") {
    throw new Error(`provisioning failed: ${reply.status} ${reply.errorMsg ?? ""}`);
  }
  tag.info(`Provision response credential type: ${reply.credentialsType}`);
  return reply.credentialsValue;
}

async function sendTelemetry(clock: Clock, log: Log, port: number, token: string, o: StartOptions, stopping: () => boolean): Promise<void> {
  const device = log.tag("device");
  const client = new MqttClient({
    connector: tcpConnector({ host: "127.0.0.1", port }), clock, clientId: DEVICE_NAME, username: token,
    keepaliveSec: 30, log: log.tag("mqtt"),
  });
  await client.connect();
  device.info("connected with the provisioned access token");
  for (let sent = 0; !stopping() && (o.count === 0 || sent < o.count); ) {
    const values = { temperature: Number((21 + Math.random() * 4).toFixed(2)), uptime_s: Math.floor(clock.now() / 1000) };
    const n = ++sent;
    await client.publish("v1/devices/me/telemetry", JSON.stringify(values), { qos: 1 }).then(
      () => device.info(`telemetry #${n} acked: ${JSON.stringify(values)}`),
      (e: Error) => device.error(`telemetry #${n} failed: ${e.message}`),
    );
    if (o.count === 0 || sent < o.count) await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  client.close();
}
