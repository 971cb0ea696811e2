/**
 * Bytes from the serial port → text and xsbug events: a streaming UTF-8 decoder, then Moddable's xsbug framing
 * (tools/xsbug/frames.ts). Debug builds interleave `\r\n<xsbug>…</xsbug>\r\n` frames with plain ESP-IDF output.
 *
 * XsbugFrameParser holds back a trailing CR / CRLF (it may be the newline XS puts before its next frame) until the
 * next chunk. A monitor wants the line before it now, so this stream holds that tail itself and says so
 * (`heldLineEnd`): the text before it is a finished line whatever follows. The caller then drops the CR (LF) when
 * it comes back as text. It never calls the parser's flush() before the end of the stream: flush() drops a frame
 * that is still arriving.
 */
import { XsbugFrameParser, type XsbugEvent } from "../xsbug/frames.js";

const BEFORE_FRAME = "\r\n<xsbug>";
const FRAME_END = "</xsbug>";

/** How many characters at the end of `text` may be the framing before a frame that the next chunk completes. */
export function framingTail(text: string): number {
  for (let n = Math.min(BEFORE_FRAME.length - 1, text.length); n >= 1; n--) {
    if (BEFORE_FRAME.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}

export class DeviceStream {
  private readonly decoder = new TextDecoder("utf-8");
  private readonly parser = new XsbugFrameParser();
  private held = "";
  /** The held text is the CR of the CRLF after a frame, not a line end. */
  private heldAfterFrame = false;

  push(bytes: Uint8Array): XsbugEvent[] {
    const text = this.held + this.decoder.decode(bytes, { stream: true });
    this.held = "";
    this.heldAfterFrame = text.endsWith(FRAME_END + "\r");
    const n = framingTail(text);
    this.held = text.slice(text.length - n);
    return n === text.length ? [] : this.parser.push(text.slice(0, text.length - n));
  }

  /** True when the held tail starts with a CR: the text before it is a finished line. */
  get heldLineEnd(): boolean {
    return !this.heldAfterFrame && this.held.startsWith("\r");
  }

  /** Nothing came for a while: the parser gets the held text (it may keep a CR of it until more comes). */
  flushHeld(): XsbugEvent[] {
    const text = this.held;
    this.held = "";
    this.heldAfterFrame = false;
    return text ? this.parser.push(text) : [];
  }

  /** End of stream: everything, including an incomplete UTF-8 sequence (as U+FFFD). */
  end(): XsbugEvent[] {
    const text = this.held + this.decoder.decode();
    this.held = "";
    return [...(text ? this.parser.push(text) : []), ...this.parser.flush()];
  }
}
