// Looked up once: a Math.* call per byte is very slow inside Jest's sandboxed globals.
const imul = Math.imul;
const floor = Math.floor;

/** Seeded PRNG (mulberry32) so random tests are reproducible: a failure prints its seed. */
export class Prng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
  /** A well-formed string mixing ASCII, 2-, 3- and 4-byte UTF-8; `forbid` chars are replaced by "x". */
  string(maxChars: number, forbid = ""): string {
    const n = this.int(0, maxChars);
    let s = "";
    for (let i = 0; i < n; i++) {
      const kind = this.int(0, 9);
      let ch: string;
      if (kind < 6) ch = String.fromCharCode(this.int(0x20, 0x7e));
      else if (kind < 8) ch = String.fromCharCode(this.int(0x80, 0x7ff));
      else if (kind < 9) {
        let c = this.int(0x800, 0xfffd);
        if (c >= 0xd800 && c <= 0xdfff) c = 0x4e2d;
        ch = String.fromCharCode(c);
      } else {
        const cp = this.int(0x10000, 0x10ffff) - 0x10000;
        ch = String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      }
      s += forbid.indexOf(ch) >= 0 ? "x" : ch;
    }
    return s;
  }
}

/** Iteration count for a test: full on Node, a tenth inside XS (an interpreter), same assertions. */
export function scaled(n: number): number {
  return (globalThis as { __XS__?: boolean }).__XS__ ? Math.max(1, Math.floor(n / 10)) : n;
}
