/**
 * The monitor's processing, synchronous and free of I/O so tests drive it byte by byte: serial bytes → UTF-8 text
 * and xsbug events → lines → redacted, classified, (maybe) coloured screen text and plain log lines.
 */
import type { XsbugEvent } from "../xsbug/frames.js";
import { DeviceStream } from "./device-stream.js";
import { BREAK_STYLE, classify, escapeTail, hasEscapes, LEVEL_COLOURS, RESET, stripEscapes, styleOf, styleOfStart, type LineKind } from "./esp-idf.js";
import { LineAssembler, type AssembledLine } from "./lines.js";
import type { Redactor } from "./redact.js";

export interface PipelineOptions {
  /** Emit ANSI colours (ESP-IDF levels, highlighted panics); otherwise escape sequences are removed. */
  colour: boolean;
  redactor: Redactor;
  /** Print xsbug instrumentation samples. */
  instruments?: boolean;
  /** Text for the terminal (lines end in "\n"; a partial line has none). */
  screen(text: string): void;
  /** Each finished line, plain and redacted, without a terminator (the caller stamps it). */
  log?(line: string): void;
  /** Each finished device line, classified (after it was shown). */
  onLine?(kind: LineKind, line: string): void;
  /** Every xsbug event, after it was shown (to answer a debug build). */
  onXsbug?(event: XsbugEvent): void;
}

export class MonitorPipeline {
  private stream = new DeviceStream();
  private lines: LineAssembler;
  /** Whether the line in progress came from xsbug <log> text or plain serial output. */
  private framed = false;
  /** The colour given to the shown start of the line in progress. */
  private partialStyle: string | undefined;
  private instrumentNames: string[] = [];
  private instrumentUnits: string[] = [];
  private stopped = false;
  /** The line was finished at a held-back CR: when that CR comes back as text, it is not a second line end. */
  private swallowLineEnd = false;

  constructor(private readonly o: PipelineOptions) {
    this.lines = this.newAssembler();
  }

  /** Bytes from the port. */
  feed(bytes: Uint8Array): void {
    if (this.stopped) return;
    this.handle(this.stream.push(bytes));
    // A held-back CR (LF) may be the framing before an xsbug frame; either way the line before it is finished.
    if (!this.stopped && this.stream.heldLineEnd && this.lines.pending) {
      this.finishLine(this.lines.breakLine()!);
      this.swallowLineEnd = true;
    }
  }

  /** True when something is held back or unshown: the caller should call `idle()` after a short quiet time. */
  get waiting(): boolean {
    return this.lines.pending;
  }

  /** Nothing came for a while: show what is held back and the unfinished line (prompts). */
  idle(): void {
    if (this.stopped) return;
    this.handle(this.stream.flushHeld());
    const { text, atLineStart } = this.lines.flushPartial();
    if (!text) return;
    const o = this.o;
    if (atLineStart) this.partialStyle = undefined;
    if (!o.colour) return o.screen(this.clean(text));
    if (hasEscapes(text) && atLineStart && this.passThrough(text)) return o.screen(o.redactor.redact(text));
    if (atLineStart) this.partialStyle = styleOfStart(this.clean(text));
    o.screen(this.paint(this.clean(text), this.partialStyle));
  }

  /** End of stream (port closed): finish everything, then start afresh (a reopened port is a new stream). */
  end(): void {
    if (!this.stopped) {
      this.handle(this.stream.end());
      const last = this.lines.breakLine();
      if (last) this.finishLine(last);
    }
    this.stream = new DeviceStream();
    this.lines = this.newAssembler();
    this.framed = false;
  }

  /** No more output at all (the monitor is exiting on a panic): later bytes are ignored. */
  stop(): void {
    this.stopped = true;
  }

  /** A line of the monitor's own (xsbug events, port events), on its own line, redacted and logged. */
  note(text: string, style?: string): void {
    const pending = this.lines.breakLine();
    if (pending) this.finishLine(pending);
    const line = this.clean(text.replace(/[\r\n]+/g, " "));
    this.o.screen(this.o.colour ? this.paint(line, style) + "\n" : line + "\n");
    this.o.log?.(line);
  }

  private newAssembler(): LineAssembler {
    return new LineAssembler((t) => Math.max(this.o.redactor.holdBack(t), escapeTail(t)));
  }

  private handle(events: XsbugEvent[]): void {
    for (const e of events) {
      if (this.stopped) return;
      const swallow = this.swallowLineEnd;
      this.swallowLineEnd = false;
      switch (e.kind) {
        case "text": {
          let text = e.text;
          if (swallow && text.startsWith("\r\n")) text = text.slice(2);
          else if (swallow && text.startsWith("\r")) {
            text = text.slice(1);
            this.lines.endedByCR();
          }
          if (text === "") break;
          // A trace() without its newline, then ESP-IDF output (or the reverse): two lines, not one mixed line.
          if (this.lines.pending && this.framed !== e.framed) this.finishLine(this.lines.breakLine()!);
          this.framed = e.framed;
          for (const l of this.lines.push(text)) {
            if (this.stopped) return;
            this.finishLine(l);
          }
          break;
        }
        case "login":
          this.note(`xsbug: ${e.name} connected (${e.value})`, LEVEL_COLOURS.I);
          break;
        case "break":
          this.note(`xsbug: break at ${e.path}:${e.line}: ${e.message}`, BREAK_STYLE);
          break;
        case "instruments":
          this.instrumentNames = e.names;
          this.instrumentUnits = e.units;
          break;
        case "samples":
          if (this.o.instruments) this.note(`xsbug: ${this.describeSamples(e.values)}`);
          break;
        default:
          break;
      }
      this.o.onXsbug?.(e);
    }
  }

  private describeSamples(values: number[]): string {
    if (this.instrumentNames.length === 0) return `samples ${values.join(", ")}`;
    return values
      .map((v, i) => {
        const unit = this.instrumentUnits[i] ?? "";
        return `${this.instrumentNames[i] ?? `#${i}`} ${v}${unit ? " " + unit : ""}`;
      })
      .join(", ");
  }

  private finishLine(l: AssembledLine): void {
    const o = this.o;
    const plain = this.clean(l.text);
    const kind = classify(plain);
    if (l.shown > 0) {
      // The start is on screen already (a prompt shown after idle); add the rest in the same colour.
      const rest = l.text.slice(l.shown);
      if (!o.colour) o.screen(this.clean(rest) + "\n");
      else if (this.partialStyle === undefined && hasEscapes(rest) && this.passThrough(rest)) o.screen(o.redactor.redact(rest) + "\n");
      else o.screen(this.paint(this.clean(rest), this.partialStyle) + "\n");
    } else if (!o.colour) {
      o.screen(plain + "\n");
    } else if ((kind.kind === "log" || kind.kind === "plain") && hasEscapes(l.text) && this.passThrough(l.text)) {
      o.screen(o.redactor.redact(l.text) + "\n"); // ESP-IDF coloured it already (CONFIG_LOG_COLORS)
    } else {
      o.screen(this.paint(plain, styleOf(kind)) + "\n");
    }
    this.partialStyle = undefined;
    o.log?.(plain);
    o.onLine?.(kind, plain);
  }

  /** Raw text can go out with its own escape sequences when redacting it hides as much as redacting its plain form. */
  private passThrough(raw: string): boolean {
    return stripEscapes(this.o.redactor.redact(raw)) === this.clean(raw);
  }

  private clean(raw: string): string {
    const r = this.o.redactor;
    return r.redact(stripEscapes(r.redact(raw)));
  }

  private paint(text: string, style: string | undefined): string {
    return style && text ? style + text + RESET : text;
  }
}
