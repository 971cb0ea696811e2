#!/usr/bin/env node
/**
 * The SDK's one command-line entry point: `tbsdk <subcommand> [flags]`.
 * Subcommands are registered here; each lives in its own module.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Log } from "../src/log.js";
import { stdoutSink, systemClock } from "../hosts/node/index.js";
import { startEmulator, type EmulatorOptions } from "./emulator/index.js";
import { readTlsFiles, selfSignedTlsFiles } from "./emulator/tls-files.js";
import { DeviceConfigError, runDevice, type DeviceCommandOptions } from "./device.js";
import { runStart } from "./start.js";
import { factoryCommand } from "./factory/command.js";
import { flashCommand } from "./flash/command.js";
import { monitorCommand } from "./monitor/command.js";
import { simCommand } from "./sim.js";
import { flag, has, integer, optionalFlag, UsageError, type Subcommand } from "./args.js";

export { UsageError } from "./args.js";

function readJsonFile(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${what} ${file}: ${(e as Error).message}`);
  }
}

/** The emulator's options from its command-line flags (see its usage line). */
export function emulatorOptions(args: string[], log: Log): EmulatorOptions {
  const reprovision = flag(args, "reprovision", "strict");
  if (reprovision !== "strict" && reprovision !== "legacy") throw new UsageError("--reprovision must be strict or legacy");
  const mqttsPort = optionalFlag(args, "mqtts-port") === undefined ? undefined : integer(args, "mqtts-port", 8883);
  const certFile = optionalFlag(args, "tls-cert");
  const keyFile = optionalFlag(args, "tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  const tls = mqttsPort === undefined ? undefined
    : certFile && keyFile ? readTlsFiles(certFile, keyFile, optionalFlag(args, "tls-ca"))
    : selfSignedTlsFiles(path.join(os.tmpdir(), "tbsdk-emulator-tls"));
  const configFile = optionalFlag(args, "config");
  return {
    bind: flag(args, "bind", "127.0.0.1"),
    mqttPort: integer(args, "mqtt-port", 1883),
    ...(mqttsPort !== undefined ? { mqttsPort, tls } : {}),
    httpPort: integer(args, "http-port", 8080),
    dataFile: optionalFlag(args, "data"),
    config: configFile ? readJsonFile(configFile, "--config") : undefined,
    reprovision,
    noProvisionSuback: has(args, "no-provision-suback"),
    provisionCloseMs: integer(args, "provision-close-ms", 60_000),
    maxPayloadBytes: integer(args, "max-payload", 65_536),
    maxPointsPerKey: integer(args, "max-points-per-key", 1000),
    tenant: { username: flag(args, "tenant-username", "tenant@thingsboard.org"), password: flag(args, "tenant-password", "tenant") },
    log,
  };
}

/** The simulated device's options: flags, over a JSON config file (--config FILE) with the same names. */
export function deviceOptions(args: string[]): DeviceCommandOptions {
  const configFile = optionalFlag(args, "config");
  const config = (configFile ? readJsonFile(configFile, "--config") : {}) as Record<string, unknown>;
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new UsageError("--config must hold a JSON object");
  // A flag wins over the config file; the config file's keys are the flag names without "--".
  const merged = [...Object.entries(config).flatMap(([k, v]) => (v === true ? [`--${k}`] : v === false ? [] : [`--${k}`, String(v)])), ...args];
  const credentials = flag(merged, "credentials", "token");
  if (!["server", "token", "mqtt-basic", "x509"].includes(credentials)) throw new UsageError("--credentials must be server, token, mqtt-basic or x509");
  const level = flag(merged, "log-level", "I");
  if (!["E", "W", "I", "D", "V"].includes(level)) throw new UsageError("--log-level must be one of E W I D V");
  const tls = has(merged, "tls");
  const read = (name: string) => {
    const file = optionalFlag(merged, name);
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new UsageError(`--${name} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  };
  const name = optionalFlag(merged, "name");
  return {
    host: flag(merged, "host", "127.0.0.1"),
    port: integer(merged, "port", tls ? 8883 : 1883),
    tls,
    ca: read("ca"),
    servername: optionalFlag(merged, "servername"),
    provisionKey: flag(merged, "key", ""),
    provisionSecret: flag(merged, "secret", ""),
    ...(name ? { name } : {}),
    credentials: credentials as DeviceCommandOptions["credentials"],
    certPem: read("cert"),
    keyPem: read("private-key"),
    stateDir: flag(merged, "state", path.join(os.homedir(), ".tbsdk", "devices", name ?? "default")),
    intervalMs: integer(merged, "interval", 5000),
    messages: integer(merged, "messages", 0),
    level: level as DeviceCommandOptions["level"],
  };
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  flash: flashCommand,
  factory: factoryCommand,
  monitor: monitorCommand,
  sim: simCommand,
  device: {
    summary: "run one simulated ESP32 (the SDK's device agent) against ThingsBoard or the emulator",
    usage:
      "tbsdk device --key K --secret S [--host 127.0.0.1] [--port 1883|8883] [--tls [--ca FILE] [--servername NAME]] " +
      "[--name NAME] [--credentials server|token|mqtt-basic|x509 [--cert FILE --private-key FILE]] [--state DIR] " +
      "[--interval MS] [--messages N (exit 0 after N acked; 0 = forever)] [--config FILE] [--log-level E|W|I|D|V]",
    async run(args) {
      let interrupted = false;
      process.once("SIGINT", () => (interrupted = true));
      try {
        return await runDevice(deviceOptions(args), () => interrupted);
      } catch (e) {
        if (e instanceof DeviceConfigError) throw new UsageError(e.message);
        throw e;
      }
    },
  },
  emulator: {
    summary: "run the ThingsBoard-compatible emulator (MQTT device API, REST subset, web page)",
    usage:
      "tbsdk emulator [--bind 127.0.0.1] [--mqtt-port 1883] [--mqtts-port N [--tls-cert F --tls-key F [--tls-ca F]]] " +
      "[--http-port 8080] [--data FILE] [--config FILE] [--reprovision strict|legacy] [--no-provision-suback] " +
      "[--provision-close-ms 60000] [--max-payload 65536] [--max-points-per-key 1000] " +
      "[--tenant-username tenant@thingsboard.org] [--tenant-password tenant] [--log-level E|W|I|D|V]",
    async run(args) {
      const level = flag(args, "log-level", "I");
      if (!["E", "W", "I", "D", "V"].includes(level)) throw new UsageError("--log-level must be one of E W I D V");
      const log = new Log(stdoutSink(), systemClock(), { level: level as "I" });
      const emulator = await startEmulator(emulatorOptions(args, log));
      await new Promise<void>((resolve) => {
        const stop = () => void emulator.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      return 0;
    },
  },
  start: {
    summary: "run the emulator and a simulated device that provisions itself and sends telemetry (the laptop demo)",
    usage: "tbsdk start [--count N per boot (0 = until Ctrl-C, no reboot)] [--interval-ms MS] [--mqtt-port 1883] [--http-port 8080] [--state DIR] [--log-level E|W|I|D|V]",
    async run(args) {
      const level = flag(args, "log-level", "I");
      if (!["E", "W", "I", "D", "V"].includes(level)) throw new UsageError(`--log-level must be one of E W I D V`);
      const count = integer(args, "count", 5);
      const intervalMs = integer(args, "interval-ms", 2000);
      await runStart({ count, intervalMs, level: level as "I", mqttPort: integer(args, "mqtt-port", 1883), httpPort: integer(args, "http-port", 8080), stateDir: optionalFlag(args, "state") });
      return 0;
    },
  },
};

function help(): string {
  const lines = ["usage: tbsdk <subcommand> [flags]", "", "subcommands:"];
  for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${s.summary}`, `             ${s.usage.split("\n").map((l) => l.trim()).join("\n             ")}`);
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(help() + "\n");
    return name ? 0 : 2;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    process.stderr.write(`tbsdk: unknown subcommand "${name}"\n${help()}\n`);
    return 2;
  }
  if (args.includes("--help")) {
    process.stdout.write(sub.usage + "\n");
    return 0;
  }
  try {
    return await sub.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tbsdk ${name}: ${e.message}\nusage: ${sub.usage}\n`);
      return 2;
    }
    process.stderr.write(`tbsdk ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
