/**
 * The log port on Moddable: each finished line goes to trace(), which a debug build sends to xsbug (or, over
 * serial, wrapped in xsbug's framing) and an instrumented build prints on the console. Release builds print
 * nothing at all (Moddable's choice): keep -i for field units whose logs matter.
 */
import type { LogLevel, LogSink } from "tbsdk/ports";

export function traceSink(): LogSink {
  return {
    write(_level: LogLevel, line: string): void {
      trace(line, "\n");
    },
  };
}
