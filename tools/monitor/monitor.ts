/**
 * `tbsdk monitor`'s core: one serial port read until Ctrl-C (exit 0), a port error (1) or, with --exit-on-panic,
 * a crash report (3). Everything it touches is injected (port, output streams, clock, abort signal) for tests.
 */
import * as fs from "node:fs";
import type { XsbugEvent } from "../xsbug/frames.js";
import { MonitorPipeline } from "./pipeline.js";
import { hardReset, openSerialPort, PortError, portError, type MonitorPort } from "./port.js";
import { Redactor } from "./redact.js";
import type { LineKind } from "./esp-idf.js";

export interface MonitorOptions {
  port: string;
  baudRate: number;
  /** Colour when the output is a terminal (auto, the default), always, or never. */
  color?: "auto" | "always" | "never";
  /** Values never shown: on screen and in the log file they read [redacted]. */
  secrets?: string[];
  /** Append every line, plain, redacted and prefixed by an ISO-8601 time, to this file. */
  logFile?: string;
  /** Pulse the reset line (esptool's hard reset) after opening. */
  reset?: boolean;
  /** Exit 3 after a panic's backtrace (or panicGraceMs after the panic line if no backtrace follows). */
  exitOnPanic?: boolean;
  /** When the port goes away, wait for it and reopen it instead of exiting 1. */
  reconnect?: boolean;
  /** Print xsbug instrumentation samples (debug builds). */
  instruments?: boolean;
  /** Answer xsbug logins and breaks with <go/>, so a debug build never waits for a debugger. */
  xsbugGo?: boolean;
  /** Quiet time after which an unfinished line (a prompt) is shown; default 50 ms. */
  idleMs?: number;
  /** Default 500 ms. */
  panicGraceMs?: number;
  /** Between reopen attempts with --reconnect; default 500 ms. */
  reconnectDelayMs?: number;
}

export interface TextOut {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface MonitorDeps {
  /** An open (or opening) port to use instead of opening options.port. */
  port?: MonitorPort;
  /** How ports are opened (first, when `port` is not given, and on --reconnect); default the real serialport. */
  openPort?: (path: string, baudRate: number) => Promise<MonitorPort>;
  out: TextOut;
  err: TextOut;
  now: () => Date;
  /** Abort = Ctrl-C / SIGTERM: exit 0. */
  signal?: AbortSignal;
}

export const EXIT = { ok: 0, port: 1, usage: 2, panic: 3 } as const;

const XSBUG_GO_AFTER_LOGIN = "\r\n<go/>\r\n\r\n<set-all-breakpoints></set-all-breakpoints>\r\n";
const XSBUG_GO = "\r\n<go/>\r\n";

export async function runMonitor(o: MonitorOptions, deps: MonitorDeps): Promise<number> {
  const colour = o.color === "always" || ((o.color ?? "auto") === "auto" && deps.out.isTTY === true);
  const redactor = new Redactor(o.secrets ?? []);
  const openPort = deps.openPort ?? openSerialPort;
  const idleMs = o.idleMs ?? 50;

  let logFd: number | undefined;
  const stamp = (line: string) => {
    if (logFd !== undefined) fs.writeSync(logFd, `${deps.now().toISOString()} ${line}\n`);
  };
  const say = (message: string) => {
    const m = redactor.redact(message);
    deps.err.write(`tbsdk monitor: ${m}\n`);
    stamp(`tbsdk monitor: ${m}`);
  };
  if (o.logFile) {
    try {
      logFd = fs.openSync(o.logFile, "a");
    } catch (e) {
      say(`cannot open --log ${o.logFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT.usage;
    }
  }
  const closeLog = () => {
    if (logFd !== undefined) fs.closeSync(logFd);
    logFd = undefined;
  };

  let port: MonitorPort | undefined;
  let finished = false;
  let panicSeen = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let panicTimer: ReturnType<typeof setTimeout> | undefined;
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(wake, ms);
      function wake() {
        clearTimeout(t);
        sleepers.delete(wake);
        resolve();
      }
      sleepers.add(wake);
    });
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const pipeline = new MonitorPipeline({
    colour,
    redactor,
    instruments: o.instruments,
    screen: (text) => deps.out.write(text),
    log: stamp,
    onLine: (kind: LineKind) => {
      if (kind.kind === "panic") {
        panicSeen = true;
        if (o.exitOnPanic && panicTimer === undefined) panicTimer = setTimeout(() => finish(EXIT.panic), o.panicGraceMs ?? 500);
      } else if (kind.kind === "backtrace" && panicSeen && o.exitOnPanic) {
        finish(EXIT.panic);
      }
    },
    onXsbug: (e: XsbugEvent) => {
      if (!o.xsbugGo || !port?.isOpen) return;
      if (e.kind === "login") port.write(XSBUG_GO_AFTER_LOGIN);
      else if (e.kind === "break") port.write(XSBUG_GO);
    },
  });

  const onData = (chunk: Buffer) => {
    pipeline.feed(chunk);
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    if (!finished) idleTimer = setTimeout(() => pipeline.idle(), idleMs);
  };
  const onClose = (err?: Error & { disconnected?: boolean }) => lost(err);
  const onError = (err: Error) => {
    if (finished) return;
    say(`${o.port}: ${err.message.replace(/^Error:?\s*/, "")}`);
    if (port && !port.isOpen) lost(err);
  };
  const attach = (p: MonitorPort) => {
    port = p;
    p.on("close", onClose);
    p.on("error", onError);
    p.on("data", onData);
  };
  const detach = () => {
    if (!port) return;
    port.removeListener("close", onClose);
    port.removeListener("error", onError);
    port.removeListener("data", onData);
  };

  function lost(err?: Error & { disconnected?: boolean }): void {
    if (finished) return;
    detach();
    port = undefined;
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    pipeline.end();
    say(`${o.port} closed${err?.disconnected ? " (unplugged?)" : err ? `: ${err.message.replace(/^Error:?\s*/, "")}` : ""}`);
    if (!o.reconnect) return finish(EXIT.port);
    say(`waiting for ${o.port} to come back (--reconnect)`);
    void reopen();
  }

  async function reopen(): Promise<void> {
    while (!finished) {
      await sleep(o.reconnectDelayMs ?? 500);
      if (finished) return;
      try {
        const p = await openPort(o.port, o.baudRate);
        if (finished) return void p.close();
        attach(p);
        say(`${o.port} reopened`);
        return;
      } catch {
        // still gone (or busy while the system sets it up): try again
      }
    }
  }

  function finish(code: number): void {
    if (finished) return;
    if (code !== EXIT.panic) pipeline.end(); // show the unfinished line
    finished = true;
    pipeline.stop();
    for (const t of [idleTimer, panicTimer]) if (t !== undefined) clearTimeout(t);
    for (const wake of [...sleepers]) wake();
    deps.signal?.removeEventListener("abort", onAbort);
    if (code === EXIT.panic) say("panic: exiting (--exit-on-panic)");
    detach();
    const p = port;
    port = undefined;
    const end = () => {
      closeLog();
      resolveDone(code);
    };
    if (p?.isOpen) p.close(() => end());
    else end();
  }
  const onAbort = () => finish(EXIT.ok);

  // Open.
  try {
    const p = deps.port ?? (await openPort(o.port, o.baudRate));
    if (!p.isOpen) await waitOpen(p);
    port = p;
  } catch (e) {
    say((e instanceof PortError ? e : portError(o.port, e)).message);
    closeLog();
    return EXIT.port;
  }
  if (deps.signal?.aborted) {
    finish(EXIT.ok);
    return done;
  }
  deps.signal?.addEventListener("abort", onAbort);
  say(`${o.port} at ${o.baudRate} baud${o.logFile ? `, logging to ${o.logFile}` : ""} (Ctrl-C to quit)`);
  attach(port);
  if (o.reset) {
    const p = port;
    if (await hardReset(p, sleep, say)) say(`${o.port}: reset (RTS pulse, DTR off)`);
  }
  return done;
}

function waitOpen(p: MonitorPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = () => {
      p.removeListener("error", bad);
      resolve();
    };
    const bad = (e: Error) => {
      p.removeListener("open", ok);
      reject(e);
    };
    p.on("open", ok);
    p.on("error", bad);
  });
}
