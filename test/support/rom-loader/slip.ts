/** SLIP framing as the ESP ROM loader uses it: frames between C0 bytes, C0 → DB DC and DB → DB DD inside. */

export const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;
const SLIP_ESC_END = 0xdc;
const SLIP_ESC_ESC = 0xdd;

export function slipEncode(frame: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of frame) if (b === SLIP_END || b === SLIP_ESC) extra++;
  const out = new Uint8Array(frame.length + extra + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const b of frame) {
    if (b === SLIP_END) (out[o++] = SLIP_ESC), (out[o++] = SLIP_ESC_END);
    else if (b === SLIP_ESC) (out[o++] = SLIP_ESC), (out[o++] = SLIP_ESC_ESC);
    else out[o++] = b;
  }
  out[o] = SLIP_END;
  return out;
}

/** Incremental decoder: push any chunking of the byte stream, get whole frames. Bytes outside frames are dropped. */
export class SlipDecoder {
  private buf = new Uint8Array(1024);
  private len = 0;
  private inFrame = false;
  private escaping = false;
  /** Frames with a bad escape, counted rather than thrown (the ROM ignores them too). */
  badFrames = 0;

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const b of chunk) {
      if (b === SLIP_END) {
        if (this.inFrame && this.len > 0) frames.push(this.buf.slice(0, this.len));
        // A C0 both ends a frame and may start the next one (back-to-back frames share nothing, but "C0 C0" is common).
        this.inFrame = true;
        this.len = 0;
        this.escaping = false;
        continue;
      }
      if (!this.inFrame) continue;
      let value = b;
      if (this.escaping) {
        this.escaping = false;
        if (b === SLIP_ESC_END) value = SLIP_END;
        else if (b === SLIP_ESC_ESC) value = SLIP_ESC;
        else {
          this.badFrames++;
          this.inFrame = false;
          continue;
        }
      } else if (b === SLIP_ESC) {
        this.escaping = true;
        continue;
      }
      if (this.len === this.buf.length) {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
      this.buf[this.len++] = value;
    }
    return frames;
  }
}
