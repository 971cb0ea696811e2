/**
 * Serial-monitor style logging: one line per event, `I (1532) provision: Starting provision to host:8883`,
 * the format of ESP-IDF's ESP_LOGx so engineers (and their tools) read it the way they read any ESP32 log.
 * Secrets never reach a sink: values are redacted where they are logged, and every line is also scrubbed
 * of any secret registered with the log (defence in depth).
 */

import type { Clock, LogLevel, LogSink } from "./ports.js";

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = Object.freeze({ E: 1, W: 2, I: 3, D: 4, V: 5 });

/** Replacement for a secret value in a log line. */
export const REDACTED = "[redacted]";

/** Shows that a secret was there, and how long it was, without showing it. */
export function redact(secret: string | Uint8Array | undefined | null): string {
  if (secret === undefined || secret === null) return "(none)";
  return `[redacted ${secret.length}]`;
}

export interface LogOptions {
  /** Most verbose level printed; default "I". */
  level?: LogLevel;
}

/** The root of a device's logging: owns the sink, the clock, the level and the registry of secrets. */
export class Log {
  private readonly sink: LogSink;
  private readonly clock: Clock;
  private readonly origin: number;
  private rank: number;
  private readonly secrets: string[] = [];

  constructor(sink: LogSink, clock: Clock, options: LogOptions = {}) {
    this.sink = sink;
    this.clock = clock;
    this.origin = clock.now();
    this.rank = LEVEL_RANK[options.level ?? "I"];
  }

  setLevel(level: LogLevel): void {
    this.rank = LEVEL_RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] <= this.rank;
  }

  /** Any later line containing `secret` has it replaced by [redacted]. Short values are ignored (they would mangle lines). */
  addSecret(secret: string | undefined | null): void {
    if (!secret || secret.length < 4 || this.secrets.indexOf(secret) >= 0) return;
    this.secrets.push(secret);
    // Longest first, so a secret containing another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  /** A logger that prefixes its lines with `tag` (ESP-IDF's TAG). */
  tag(tag: string): Logger {
    return new Logger(this, tag);
  }

  write(level: LogLevel, tag: string, message: string): void {
    if (LEVEL_RANK[level] > this.rank) return;
    const ms = Math.floor(this.clock.now() - this.origin);
    this.sink.write(level, this.scrub(`${level} (${ms}) ${tag}: ${message}`));
  }

  private scrub(line: string): string {
    for (let i = 0; i < this.secrets.length; i++) {
      const s = this.secrets[i];
      if (line.indexOf(s) >= 0) line = line.split(s).join(REDACTED);
    }
    // One event, one line: a newline in a message would forge a second log line.
    if (line.indexOf("\n") >= 0 || line.indexOf("\r") >= 0) line = line.replace(/[\r\n]+/g, " ");
    return line;
  }
}

/** A tagged view of a Log. */
export class Logger {
  constructor(private readonly root: Log, readonly tagName: string) {}

  error(message: string): void {
    this.root.write("E", this.tagName, message);
  }
  warn(message: string): void {
    this.root.write("W", this.tagName, message);
  }
  info(message: string): void {
    this.root.write("I", this.tagName, message);
  }
  debug(message: string): void {
    this.root.write("D", this.tagName, message);
  }
  verbose(message: string): void {
    this.root.write("V", this.tagName, message);
  }
  enabled(level: LogLevel): boolean {
    return this.root.enabled(level);
  }
  /** Registers a secret with the root log (see Log.addSecret). */
  addSecret(secret: string | undefined | null): void {
    this.root.addSecret(secret);
  }
}
