/**
 * `tbsdk device`: one simulated ESP32 on the Node host. The same DeviceAgent as the firmware, with Node
 * transports (TCP or TLS) and a file-backed NVS (one directory per device). Against a real ThingsBoard it needs
 * nothing else than the flags below.
 */
import * as fs from "node:fs";
import { CredentialStore } from "../src/credentials/index.js";
import { DeviceAgent, type ProvisionCredentialsOption } from "../src/device/index.js";
import { Log } from "../src/log.js";
import { provisionCredentials } from "../src/settings/provision-credentials.js";
import type { LogLevel } from "../src/ports.js";
import { cryptoRandom, NvsFileStore, stdoutSink, systemClock, tcpConnector, tlsConnector } from "../hosts/node/index.js";
import type { TextStream } from "../hosts/node/index.js";

export interface DeviceCommandOptions {
  host: string;
  port: number;
  tls: boolean;
  /** PEM of the CA that signed the server certificate (TLS). Without it Node's built-in roots are used. */
  ca?: string;
  servername?: string;
  provisionKey: string;
  provisionSecret: string;
  name?: string;
  credentials: "server" | "token" | "mqtt-basic" | "x509";
  /** X.509 mode: the device's certificate and private key (PEM). */
  certPem?: string;
  keyPem?: string;
  stateDir: string;
  intervalMs: number;
  /** Exit after this many telemetry messages are acked; 0 = run until interrupted. */
  messages: number;
  level: LogLevel;
  stream?: TextStream;
}

/** Problems a person fixes on the command line or in the config file. */
export class DeviceConfigError extends Error {}

function credentialsOption(o: DeviceCommandOptions): ProvisionCredentialsOption {
  if (o.credentials === "x509") {
    if (!o.certPem || !o.keyPem) throw new DeviceConfigError("--credentials x509 needs --cert FILE and --private-key FILE");
    if (!o.tls) throw new DeviceConfigError("--credentials x509 needs --tls (the certificate is the TLS client credential)");
  }
  // The firmware's own mapping (a random MQTT password when none is given; the agent stores it before asking).
  return provisionCredentials({ credentials: o.credentials, deviceCert: o.certPem, deviceKey: o.keyPem }, o.name, cryptoRandom());
}

/** Runs the device until `messages` telemetry messages are acked (or forever with 0). Resolves with the exit code. */
export async function runDevice(o: DeviceCommandOptions, interrupted: () => boolean = () => false): Promise<number> {
  if (!o.provisionKey || !o.provisionSecret) throw new DeviceConfigError("--key and --secret (the device profile's provision key and secret) are required");
  fs.mkdirSync(o.stateDir, { recursive: true });
  const clock = systemClock();
  const log = new Log(stdoutSink({ stream: o.stream }), clock, { level: o.level });
  const agent = new DeviceAgent({
    server: { host: o.host, port: o.port },
    connect: (endpoint, credentials) =>
      o.tls
        ? tlsConnector({
            host: endpoint.host, port: endpoint.port, ca: o.ca, servername: o.servername, tlsVersion: "TLSv1.2",
            ...(credentials?.type === "X509_CERTIFICATE" ? { cert: credentials.certificatePem, key: credentials.privateKeyPem } : {}),
          })
        : tcpConnector({ host: endpoint.host, port: endpoint.port }),
    clock, random: cryptoRandom(), log,
    store: new CredentialStore(new NvsFileStore(o.stateDir)),
    provisionDeviceKey: o.provisionKey, provisionDeviceSecret: o.provisionSecret,
    ...(o.name ? { deviceName: o.name } : {}),
    credentials: credentialsOption(o),
    epochMs: () => Date.now(),
  });
  const started = Date.now();
  agent.start();
  try {
    for (let acked = 0; !interrupted() && (o.messages === 0 || acked < o.messages); ) {
      const values = { temperature: Number((20 + Math.random() * 5).toFixed(2)), uptime_s: Math.floor((Date.now() - started) / 1000) };
      const fate = await new Promise<string>((resolve) => agent.sendTelemetry(values, (f) => resolve(f)));
      if (fate === "acked") acked++;
      if (o.messages === 0 || acked < o.messages) {
        for (let left = o.intervalMs; left > 0 && !interrupted(); left -= 100) await new Promise((r) => setTimeout(r, Math.min(100, left)));
      }
    }
    return 0;
  } finally {
    agent.stop();
  }
}
