/**
 * Moddable debug builds wrap everything XS says in xsbug's XML framing — `\r\n<xsbug><log>text</log></xsbug>\r\n` —
 * over a TCP connection to xsbug (the lin simulator) or interleaved with plain ESP-IDF output on the serial port
 * (ESP32 debug builds). This parser takes the byte stream in any chunking and gives back plain text: the text of
 * `<log>` elements unescaped, everything outside frames as it came, and the debugger events a listener must answer.
 */

export type XsbugEvent =
  /** Text for the console: a trace() or an exception report (`framed`), or bytes outside any frame (plain serial). */
  | { kind: "text"; text: string; framed: boolean }
  /** The machine connected: `name` is the app, `value` e.g. "XS 16.x.y 64-bit LE 32 4". */
  | { kind: "login"; name: string; value: string }
  /** The machine stopped (breakpoint, debugger statement, exception): a debugger must answer <go/> to resume. */
  | { kind: "break"; path: string; line: string; message: string }
  /** The names (and units) of the instrumentation values that `samples` events carry, in order. */
  | { kind: "instruments"; names: string[]; units: string[] }
  /** Instrumentation samples, in the order of the last `instruments` event. */
  | { kind: "samples"; values: number[] }
  /** Any other frame (frames, local variables, files…), unparsed. */
  | { kind: "frame"; tag: string };

const OPEN = "<xsbug>";
const CLOSE = "</xsbug>";

export class XsbugFrameParser {
  private pending = "";
  private inFrame = false;
  private afterFrame = false;

  /** Feeds decoded text (UTF-8 already decoded by the caller's TextDecoder in stream mode). */
  push(text: string): XsbugEvent[] {
    this.pending += text;
    const events: XsbugEvent[] = [];
    for (;;) {
      if (this.afterFrame) {
        // XS ends each frame with CRLF: framing, not output — even when the chunk ends between CR and LF.
        if (this.pending === "" || this.pending === "\r") return events;
        if (this.pending.startsWith("\r\n")) this.pending = this.pending.slice(2);
        this.afterFrame = false;
      }
      if (!this.inFrame) {
        const open = this.pending.indexOf(OPEN);
        if (open < 0) {
          // Everything is plain output, except a tail that may be the start of "<xsbug>" split across chunks.
          const lt = this.pending.lastIndexOf("<");
          let cut = lt >= 0 && OPEN.startsWith(this.pending.slice(lt)) ? lt : this.pending.length;
          // A trailing CR or CRLF may be the newline XS puts before its next frame: hold it until the next
          // chunk (or flush(), which a monitor calls when the line goes idle) says which it is.
          if (this.pending.endsWith("\r", cut)) cut -= 1;
          else if (this.pending.endsWith("\r\n", cut)) cut -= 2;
          if (cut > 0) events.push({ kind: "text", text: this.pending.slice(0, cut), framed: false });
          this.pending = this.pending.slice(cut);
          return events;
        }
        const plain = this.pending.slice(0, open);
        const text = stripFrameNewline(plain);
        if (text) events.push({ kind: "text", text, framed: false });
        this.pending = this.pending.slice(open + OPEN.length);
        this.inFrame = true;
      }
      const close = this.pending.indexOf(CLOSE);
      if (close < 0) return events;
      parseFrameBody(this.pending.slice(0, close), events);
      this.pending = this.pending.slice(close + CLOSE.length);
      this.inFrame = false;
      this.afterFrame = true;
    }
  }

  /**
   * Releases plain text held back (a trailing CR/CRLF, a possible start of "<xsbug>"). Mid-stream (`final` false,
   * e.g. when a monitor's line has gone idle) a frame being received stays intact and a "<xsb…" prefix stays held;
   * at the end of the stream everything outside a frame is released.
   */
  flush(final = true): XsbugEvent[] {
    if (this.inFrame || (this.afterFrame && this.pending === "\r")) {
      if (final) {
        this.pending = "";
        this.inFrame = false;
        this.afterFrame = false;
      }
      return [];
    }
    let cut = this.pending.length;
    if (!final) {
      const lt = this.pending.lastIndexOf("<");
      if (lt >= 0 && OPEN.startsWith(this.pending.slice(lt))) cut = lt;
    }
    const rest = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return rest ? [{ kind: "text", text: rest, framed: false }] : [];
  }
}

/** The machine puts "\r\n" before each frame; it is framing, not output. */
function stripFrameNewline(text: string): string {
  return text.endsWith("\r\n") ? text.slice(0, -2) : text;
}

function parseFrameBody(body: string, events: XsbugEvent[]): void {
  const tagRe = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"]*")*)\s*(\/?)>/g;
  let m: RegExpExecArray | null;
  while ((m = tagRe.exec(body))) {
    const [, closing, tag, attrText, selfClosing] = m;
    if (closing) continue;
    const attrs = attributes(attrText ?? "");
    const contentStart = tagRe.lastIndex;
    let content = "";
    if (!selfClosing) {
      const end = body.indexOf(`</${tag}>`, contentStart);
      if (end >= 0) {
        content = body.slice(contentStart, end);
        if (tag === "log" || tag === "samples" || tag === "break" || tag === "instruments") tagRe.lastIndex = end + tag!.length + 3;
      }
    }
    switch (tag) {
      case "log":
        events.push({ kind: "text", text: unescapeXml(content), framed: true });
        break;
      case "login":
        events.push({ kind: "login", name: unescapeXml(attrs.name ?? ""), value: unescapeXml(attrs.value ?? "") });
        break;
      case "break":
        events.push({ kind: "break", path: unescapeXml(attrs.path ?? ""), line: attrs.line ?? "", message: unescapeXml(content) });
        break;
      case "instruments": {
        const names: string[] = [];
        const units: string[] = [];
        for (const i of content.matchAll(/<instrument\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)) {
          names.push(unescapeXml(i[1]!));
          units.push(unescapeXml(i[2]!).trim());
        }
        events.push({ kind: "instruments", names, units });
        break;
      }
      case "samples":
        events.push({ kind: "samples", values: content.split(",").map((v) => Number(v)) });
        break;
      default:
        events.push({ kind: "frame", tag: tag! });
        // Skip nested elements of frames we do not interpret.
        if (!selfClosing) {
          const end = body.indexOf(`</${tag}>`, contentStart);
          if (end >= 0) tagRe.lastIndex = end + tag!.length + 3;
        }
    }
  }
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-z-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** xsbug escapes control characters, quotes, <, >, & and DEL as &#N;. */
export function unescapeXml(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e]!;
  });
}
