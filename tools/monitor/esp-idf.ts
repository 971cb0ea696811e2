/**
 * What a serial line is: an ESP-IDF log line (level → colour), a panic report, or plain output; and the terminal
 * styling the monitor gives it. Colours are ESP-IDF's own (hosts/node/log-sink.ts), so a coloured monitor looks
 * like `idf.py monitor`.
 */

export type Level = "E" | "W" | "I" | "D" | "V";

export const RESET = "\x1b[0m";
export const LEVEL_COLOURS: Record<Level, string | undefined> = { E: "\x1b[0;31m", W: "\x1b[0;33m", I: "\x1b[0;32m", D: undefined, V: undefined };
/** Panic reports: bold white on red. */
export const PANIC_STYLE = "\x1b[1;37;41m";
/** xsbug breaks: bold magenta. */
export const BREAK_STYLE = "\x1b[1;35m";

/** `L (ms) tag: msg`, `L (HH:MM:SS.mmm) tag: msg`, and `L (YYYY-MM-DD HH:MM:SS.mmm) tag: msg`. */
const ESP_LOG = /^([EWIDV]) \((?:\d+|\d{1,2}:\d{2}:\d{2}\.\d{3}|\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2}\.\d{3})\) [^:]*:/;
/** The start of one, for a partial line shown before it is complete. */
const ESP_LOG_START = /^([EWIDV]) \(/;

/** The lines that start a crash report. */
const PANIC_START = [
  /Guru Meditation Error: Core\s+\d+ panic'ed \(/,
  /^Fatal exception \(\d+\):/,
  /abort\(\) was called at PC 0x[0-9a-fA-F]+/,
  /^assert failed: /,
  /^\*\*\*ERROR\*\*\* A stack overflow in task /,
  /XS abort:/,
];
const BACKTRACE = /^\s*Backtrace:\s*0x[0-9a-fA-F]+:0x[0-9a-fA-F]+/;
/** Shown highlighted, but not a crash. */
const NOTABLE = [/^# Break:/];

export type LineKind =
  | { kind: "log"; level: Level }
  | { kind: "panic" }
  | { kind: "backtrace" }
  | { kind: "notable" }
  | { kind: "plain" };

/** `line` without escape sequences. */
export function classify(line: string): LineKind {
  if (PANIC_START.some((re) => re.test(line))) return { kind: "panic" };
  if (BACKTRACE.test(line)) return { kind: "backtrace" };
  if (NOTABLE.some((re) => re.test(line))) return { kind: "notable" };
  const m = ESP_LOG.exec(line);
  if (m) return { kind: "log", level: m[1] as Level };
  return { kind: "plain" };
}

/** The colour for a line of this kind (undefined: plain). */
export function styleOf(kind: LineKind): string | undefined {
  switch (kind.kind) {
    case "log":
      return LEVEL_COLOURS[kind.level];
    case "panic":
    case "backtrace":
      return PANIC_STYLE;
    case "notable":
      return BREAK_STYLE;
    default:
      return undefined;
  }
}

/** The colour for the first shown part of an unfinished line. */
export function styleOfStart(text: string): string | undefined {
  const m = ESP_LOG_START.exec(text);
  return m ? LEVEL_COLOURS[m[1] as Level] : undefined;
}

/** CSI escape sequences (ESP-IDF's colours, and any cursor control) — removed when the output is not coloured. */
const CSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

export function hasEscapes(text: string): boolean {
  return text.indexOf("\x1b") >= 0;
}

export function stripEscapes(text: string): string {
  return text.indexOf("\x1b") < 0 ? text : text.replace(CSI, "");
}

/** Length of an unfinished escape sequence at the end of `text` (to hold back from a partial line). */
export function escapeTail(text: string): number {
  const m = /\x1b(?:\[[0-9;?]*[ -\/]*)?$/.exec(text);
  return m ? m[0].length : 0;
}
