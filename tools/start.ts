/**
 * `tbsdk start`: the laptop demo. At this stage of the SDK it runs a local MQTT broker (aedes) and one
 * simulated device that connects with the SDK's client, subscribes to ThingsBoard's attribute topic and
 * sends telemetry at QoS 1, logging like a serial monitor. (The ThingsBoard emulator and provisioning
 * replace the plain broker as they land.)
 */
import { Aedes } from "aedes";
import * as net from "node:net";
import { Log } from "../src/log.js";
import { MqttClient } from "../src/mqtt/client.js";
import type { LogLevel } from "../src/ports.js";
import { systemClock, stdoutSink, tcpConnector } from "../hosts/node/index.js";
import type { TextStream } from "../hosts/node/index.js";

export interface StartOptions {
  /** Telemetry messages to send before stopping; 0 = run until interrupted. */
  count: number;
  intervalMs: number;
  level: LogLevel;
  stream?: TextStream;
}

export async function runStart(options: StartOptions): Promise<void> {
  const clock = systemClock();
  const log = new Log(stdoutSink({ stream: options.stream }), clock, { level: options.level });
  const tag = log.tag("start");

  const broker = await Aedes.createBroker();
  const server = net.createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  tag.info(`MQTT broker listening on 127.0.0.1:${port}`);

  const token = "DEMO_ACCESS_TOKEN_0001";
  log.addSecret(token);
  const client = new MqttClient({
    connector: tcpConnector({ host: "127.0.0.1", port }),
    clock,
    clientId: "ESP32-SIMULATED-01",
    username: token,
    keepaliveSec: 30,
    log: log.tag("mqtt"),
    onMessage: (m) => tag.info(`attribute update on ${m.topic} (${m.payload.length} bytes)`),
  });
  const device = log.tag("device");
  // Queued before connect: these leave in the same write as CONNECT.
  void client.subscribe("v1/devices/me/attributes", 1).then(
    () => device.info("subscribed to shared attributes"),
    (e: Error) => device.warn(`subscribe failed: ${e.message}`),
  );
  device.info(`connecting to 127.0.0.1:${port}`);
  await client.connect();
  device.info("connected");

  let sent = 0;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    tag.info(`stopped after ${sent} telemetry messages`);
  };
  process.once("SIGINT", () => void stop());

  while (!stopping && (options.count === 0 || sent < options.count)) {
    const values = { temperature: Number((21 + Math.random() * 4).toFixed(2)), uptime_s: Math.floor(clock.now() / 1000) };
    const n = ++sent;
    await client.publish("v1/devices/me/telemetry", JSON.stringify(values), { qos: 1 }).then(
      () => device.info(`telemetry #${n} acked: ${JSON.stringify(values)}`),
      (e: Error) => device.error(`telemetry #${n} failed: ${e.message}`),
    );
    if (options.count === 0 || sent < options.count) await new Promise((r) => setTimeout(r, options.intervalMs));
  }
  await stop();
}
