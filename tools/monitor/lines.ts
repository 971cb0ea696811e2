/**
 * Text → lines for the serial monitor. CR, LF and CRLF each end a line (a CR followed by LF counts once, even when
 * the two arrive in different chunks). A line still in progress can be shown early (`flushPartial`, called by the
 * monitor after a short idle so prompts appear); the finished line then says how much of it was already shown.
 */

export interface AssembledLine {
  /** The whole line, without its terminator. */
  text: string;
  /** How many characters at its start were already handed out by `flushPartial`. */
  shown: number;
}

export class LineAssembler {
  private line = "";
  private shown = 0;
  private afterCR = false;

  /**
   * `holdBack(text)` says how many characters at the end of an unfinished line must not be shown yet (the start of
   * a secret that the next chunk may complete, half an escape sequence).
   */
  constructor(private readonly holdBack: (text: string) => number = () => 0) {}

  push(text: string): AssembledLine[] {
    const out: AssembledLine[] = [];
    let start = 0;
    if (this.afterCR && text.length > 0) {
      this.afterCR = false;
      if (text[0] === "\n") start = 1;
    }
    for (;;) {
      let i = start;
      while (i < text.length && text[i] !== "\r" && text[i] !== "\n") i++;
      this.line += text.slice(start, i);
      if (i >= text.length) return out;
      out.push(this.take());
      if (text[i] === "\r") {
        if (i + 1 >= text.length) {
          this.afterCR = true;
          return out;
        }
        if (text[i + 1] === "\n") i++;
      }
      start = i + 1;
    }
  }

  /** The previous line ended with a CR that was not given here: an LF next belongs to it. */
  endedByCR(): void {
    this.afterCR = true;
  }

  /** True when a line is in progress (some of it maybe shown already). */
  get pending(): boolean {
    return this.line.length > 0;
  }

  /** The part of the unfinished line that can be shown now (possibly ""); it is then counted as shown. */
  flushPartial(): { text: string; atLineStart: boolean } {
    const atLineStart = this.shown === 0;
    const keep = Math.max(this.shown, this.line.length - this.holdBack(this.line));
    const text = this.line.slice(this.shown, keep);
    this.shown = keep;
    return { text, atLineStart };
  }

  /** Ends the line in progress, if any (end of stream, or output from another source starts). */
  breakLine(): AssembledLine | undefined {
    return this.line.length > 0 ? this.take() : undefined;
  }

  private take(): AssembledLine {
    const l = { text: this.line, shown: this.shown };
    this.line = "";
    this.shown = 0;
    return l;
  }
}
