/**
 * `tbsdk monitor`: a serial monitor for boards running this SDK — ESP-IDF log colours, Moddable debug builds' xsbug
 * framing unwrapped, panics highlighted (and optionally fatal), secrets redacted, an optional timestamped log file.
 */
import * as fs from "node:fs";
import { allFlags, flag, has, optionalFlag, UsageError, type Subcommand } from "../args.js";
import { runMonitor, EXIT, type MonitorDeps, type MonitorOptions } from "./monitor.js";
import { autoPort, PortError } from "./port.js";
import { secretsFromFactoryFile, secretsFromLines } from "./redact.js";

/** Moddable debug builds talk to xsbug over UART0 at this speed. */
export const MODDABLE_DEBUG_BAUD = 460800;

export const MONITOR_USAGE =
  "tbsdk monitor --port PATH|auto [--baud 115200|N|moddable] [--moddable-debug (= --baud 460800)] " +
  "[--color auto|always|never] [--reset] [--exit-on-panic] [--reconnect] [--log FILE] " +
  "[--redact VALUE]... [--redact-file FILE] [--factory FILE.csv|FILE.json] [--instruments] [--xsbug-go]";


const KNOWN = new Set(["port", "baud", "moddable-debug", "color", "reset", "exit-on-panic", "reconnect", "log", "redact", "redact-file", "factory", "instruments", "xsbug-go"]);
const VALUED = new Set(["port", "baud", "color", "log", "redact", "redact-file", "factory"]);

/** The monitor's options from its flags; throws UsageError. `port` may be "auto" (resolved by monitorMain). */
export function monitorOptions(args: string[]): MonitorOptions {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : undefined;
    if (name === undefined || !KNOWN.has(name)) throw new UsageError(`unknown argument "${a}"`);
    if (VALUED.has(name) && !a.includes("=")) {
      if (i + 1 >= args.length) throw new UsageError(`--${name} needs a value`);
      i++;
    }
  }
  const port = optionalFlag(args, "port");
  if (!port) throw new UsageError("--port PATH is required (e.g. /dev/ttyUSB0, or auto)");
  const baudRaw = flag(args, "baud", has(args, "moddable-debug") ? "moddable" : "115200");
  const baudRate = baudRaw === "moddable" ? MODDABLE_DEBUG_BAUD : Number(baudRaw);
  if (!Number.isInteger(baudRate) || baudRate <= 0) throw new UsageError(`--baud must be a positive whole number or "moddable", got "${baudRaw}"`);
  const color = flag(args, "color", "auto");
  if (color !== "auto" && color !== "always" && color !== "never") throw new UsageError("--color must be auto, always or never");
  const readText = (name: string, file: string, parse: (file: string) => string[]) => {
    try {
      return parse(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(`--${name} ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
    }
  };
  const secrets = [
    ...allFlags(args, "redact"),
    ...allFlags(args, "redact-file").flatMap((f) => readText("redact-file", f, (file) => secretsFromLines(fs.readFileSync(file, "utf8")))),
    ...allFlags(args, "factory").flatMap((f) => readText("factory", f, secretsFromFactoryFile)),
  ];
  return {
    port,
    baudRate,
    color,
    secrets,
    logFile: optionalFlag(args, "log"),
    reset: has(args, "reset"),
    exitOnPanic: has(args, "exit-on-panic"),
    reconnect: has(args, "reconnect"),
    instruments: has(args, "instruments"),
    xsbugGo: has(args, "xsbug-go"),
  };
}

/** Flags → runMonitor, with `--port auto` resolved. Throws UsageError (exit 2 via the CLI). */
export async function monitorMain(args: string[], deps: MonitorDeps, list?: Parameters<typeof autoPort>[0]): Promise<number> {
  const options = monitorOptions(args);
  if (options.port === "auto") {
    try {
      options.port = await autoPort(list);
    } catch (e) {
      deps.err.write(`tbsdk monitor: ${e instanceof PortError ? e.message : String(e)}\n`);
      return EXIT.port;
    }
  }
  return runMonitor(options, deps);
}

export const monitorCommand: Subcommand = {
  summary: "serial monitor: ESP-IDF colours, Moddable xsbug output, panics highlighted, secrets redacted, --log FILE",
  usage: MONITOR_USAGE,
  async run(args) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    try {
      return await monitorMain(args, { out: process.stdout, err: process.stderr, now: () => new Date(), signal: controller.signal });
    } finally {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
    }
  },
};
