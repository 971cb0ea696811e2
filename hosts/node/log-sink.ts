/** Where the core's finished log lines go on Node: a terminal/stream, or memory for tests. */
import type { LogLevel, LogSink } from "../../src/ports.js";

/** ESP-IDF's colours: errors red, warnings yellow, info green; debug and verbose plain. */
const ESP_IDF_COLOURS: Record<LogLevel, string | undefined> = {
  E: "0;31",
  W: "0;33",
  I: "0;32",
  D: undefined,
  V: undefined,
};

export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface StdoutSinkOptions {
  /** Colour lines like ESP-IDF's monitor does. Default: only when the stream is a terminal. */
  color?: boolean;
  /** Default process.stdout. */
  stream?: TextStream;
}

/** Writes each line plus "\n", e.g. "\x1b[0;32mI (1532) tag: msg\x1b[0m\n" with colour on. */
export function stdoutSink(opts: StdoutSinkOptions = {}): LogSink {
  const stream = opts.stream ?? process.stdout;
  const color = opts.color ?? stream.isTTY === true;
  return {
    write(level: LogLevel, line: string): void {
      const colour = color ? ESP_IDF_COLOURS[level] : undefined;
      stream.write(colour === undefined ? `${line}\n` : `\x1b[${colour}m${line}\x1b[0m\n`);
    },
  };
}

export interface LogEntry {
  level: LogLevel;
  line: string;
}

export interface MemorySink extends LogSink {
  /** Every line written, in order, without level or newline. */
  readonly lines: string[];
  /** The same lines with their levels. */
  readonly entries: LogEntry[];
  /** Forget everything written so far. */
  clear(): void;
}

/** Keeps lines in memory, for tests that assert on the log. */
export function memorySink(): MemorySink {
  const lines: string[] = [];
  const entries: LogEntry[] = [];
  return {
    lines,
    entries,
    write(level: LogLevel, line: string): void {
      lines.push(line);
      entries.push({ level, line });
    },
    clear(): void {
      lines.length = 0;
      entries.length = 0;
    },
  };
}
