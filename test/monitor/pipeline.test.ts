/** The monitor's processing, byte by byte: lines, UTF-8, xsbug framing, colours, panics, redaction. */
import { DeviceStream, framingTail } from "../../tools/monitor/device-stream.js";
import { classify } from "../../tools/monitor/esp-idf.js";
import { LineAssembler } from "../../tools/monitor/lines.js";
import { MonitorPipeline } from "../../tools/monitor/pipeline.js";
import { Redactor } from "../../tools/monitor/redact.js";
import type { XsbugEvent } from "../../tools/xsbug/frames.js";

const RED = "\x1b[0;31m";
const YELLOW = "\x1b[0;33m";
const GREEN = "\x1b[0;32m";
const RESET = "\x1b[0m";

function pipeline(opts: { colour?: boolean; secrets?: string[]; instruments?: boolean } = {}) {
  const screen: string[] = [];
  const log: string[] = [];
  const kinds: string[] = [];
  const events: XsbugEvent[] = [];
  const p = new MonitorPipeline({
    colour: opts.colour ?? false,
    redactor: new Redactor(opts.secrets ?? []),
    instruments: opts.instruments,
    screen: (t) => screen.push(t),
    log: (l) => log.push(l),
    onLine: (k) => kinds.push(k.kind),
    onXsbug: (e) => events.push(e),
  });
  return { p, screen, log, kinds, events, text: () => screen.join("") };
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

/** ESP-IDF output (plain and coloured), a Moddable debug build's xsbug frames, and non-ASCII text. */
const SESSION =
  "ets Jun  8 2016 00:22:57\r\n" +
  "I (31) boot: ESP-IDF v5.1 2nd stage bootloader\r\n" +
  "\r\n<xsbug><login name=\"tbsdk-fw\" value=\"XS 16.1.0 32-bit LE\"/></xsbug>\r\n" +
  "\r\n<xsbug><log>I (12) boot: hello &#60;xs&#62; caf\u00e9 &#10;</log></xsbug>\r\n" +
  `${YELLOW}W (40) wifi: weak signal \u20ac\u{1F4F6}${RESET}\r\n` +
  "E (41) mqtt: refused\n" +
  "\r\n<xsbug><log>trace without newline</log></xsbug>\r\n" +
  "D (42) x: debug\r" +
  "I (00:01:02.345) time: wall clock\r\n";

const SESSION_LINES = [
  "ets Jun  8 2016 00:22:57",
  "I (31) boot: ESP-IDF v5.1 2nd stage bootloader",
  "xsbug: tbsdk-fw connected (XS 16.1.0 32-bit LE)",
  "I (12) boot: hello <xs> caf\u00e9 ",
  "W (40) wifi: weak signal \u20ac\u{1F4F6}",
  "E (41) mqtt: refused",
  "trace without newline",
  "D (42) x: debug",
  "I (00:01:02.345) time: wall clock",
];

describe("LineAssembler", () => {
  it("ends lines at LF, CR and CRLF (a CRLF split across chunks counts once)", () => {
    const a = new LineAssembler();
    expect(a.push("a\nb\r\nc\rd\r").map((l) => l.text)).toEqual(["a", "b", "c", "d"]);
    expect(a.push("\ne\n\n").map((l) => l.text)).toEqual(["e", ""]);
  });

  it("shows an unfinished line up to what must be held back, then reports how much was shown", () => {
    const a = new LineAssembler((t) => (t.endsWith("se") ? 2 : 0));
    a.push("prompt> se");
    expect(a.flushPartial()).toEqual({ text: "prompt> ", atLineStart: true });
    expect(a.push("cret\n")).toEqual([{ text: "prompt> secret", shown: 8 }]);
  });
});

describe("DeviceStream", () => {
  it("holds back a tail that may be xsbug framing", () => {
    expect(framingTail("abc\r")).toBe(1);
    expect(framingTail("abc\r\n<xsb")).toBe(6);
    expect(framingTail("abc<xs")).toBe(0); // the frame parser itself holds this one
    const s = new DeviceStream();
    expect(s.push(bytes("ok\r"))).toEqual([{ kind: "text", text: "ok", framed: false }]);
    expect(s.heldLineEnd).toBe(true);
    // The CR LF after a frame is framing, even when it comes in the next chunk.
    expect(s.push(bytes("\n\r\n<xsbug><log>a</log></xsbug>\r"))).toEqual([{ kind: "text", text: "\r\n", framed: false }, { kind: "text", text: "a", framed: true }]);
    expect(s.heldLineEnd).toBe(false);
    expect(s.push(bytes("\nb\n"))).toEqual([{ kind: "text", text: "b\n", framed: false }]);
  });
});

describe("MonitorPipeline", () => {
  it("turns a debug build's mixed output into plain lines (no colour when not a terminal)", () => {
    const t = pipeline();
    t.p.feed(bytes(SESSION));
    t.p.end();
    expect(t.text()).toBe(SESSION_LINES.map((l) => l + "\n").join(""));
    expect(t.log).toEqual(SESSION_LINES);
    expect(t.text()).not.toContain("\x1b");
  });

  it("gives the same lines whatever byte the stream is split at (inside UTF-8 sequences and xsbug frames)", () => {
    const all = bytes(SESSION);
    const expected = SESSION_LINES.map((l) => l + "\n").join("");
    for (let i = 0; i <= all.length; i++) {
      const t = pipeline();
      t.p.feed(all.subarray(0, i));
      t.p.feed(all.subarray(i));
      t.p.end();
      if (t.text() !== expected) throw new Error(`split at byte ${i}: ${JSON.stringify(t.text())}`);
    }
    // One byte at a time, coloured.
    const one = pipeline({ colour: true });
    for (let i = 0; i < all.length; i++) one.p.feed(all.subarray(i, i + 1));
    one.p.end();
    const whole = pipeline({ colour: true });
    whole.p.feed(all);
    whole.p.end();
    expect(one.text()).toBe(whole.text());
  });

  it("colours ESP-IDF levels on a terminal and passes ESP-IDF's own colours through", () => {
    const t = pipeline({ colour: true });
    t.p.feed(bytes(SESSION));
    t.p.end();
    const lines = t.text().split("\n");
    expect(lines).toContain(`${GREEN}I (31) boot: ESP-IDF v5.1 2nd stage bootloader${RESET}`);
    expect(lines).toContain(`${YELLOW}W (40) wifi: weak signal \u20ac\u{1F4F6}${RESET}`);
    expect(lines).toContain(`${RED}E (41) mqtt: refused${RESET}`);
    expect(lines).toContain("D (42) x: debug");
    expect(lines).toContain(`${GREEN}I (00:01:02.345) time: wall clock${RESET}`);
    expect(lines).toContain(`${GREEN}xsbug: tbsdk-fw connected (XS 16.1.0 32-bit LE)${RESET}`);
    expect(lines).toContain("ets Jun  8 2016 00:22:57");
  });

  it("reports xsbug breaks highlighted, and instrument samples only when asked", () => {
    const frames =
      '\r\n<xsbug><instruments><instrument name="Chunk used" value=" bytes"/><instrument name="Slot used" value=" bytes"/></instruments></xsbug>\r\n' +
      "\r\n<xsbug><samples>1024,2048</samples></xsbug>\r\n" +
      '\r\n<xsbug><break path="/main.js" line="12"># Exception: boom!</break></xsbug>\r\n';
    const quiet = pipeline({ colour: true });
    quiet.p.feed(bytes(frames));
    expect(quiet.text()).toBe("\x1b[1;35mxsbug: break at /main.js:12: # Exception: boom!\x1b[0m\n");
    expect(quiet.events.map((e) => e.kind)).toEqual(["instruments", "samples", "break"]);
    const loud = pipeline({ instruments: true });
    loud.p.feed(bytes(frames));
    expect(loud.text()).toBe("xsbug: Chunk used 1024 bytes, Slot used 2048 bytes\nxsbug: break at /main.js:12: # Exception: boom!\n");
  });

  it("highlights panics and their backtrace", () => {
    const crash =
      "Guru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.\r\n" +
      "Core  1 register dump:\r\nPC      : 0x400d1234  PS      : 0x00060030\r\n\r\n" +
      "Backtrace: 0x400d1234:0x3ffb1230 0x400d5678:0x3ffb1250 |<-CORRUPTED\r\n";
    const t = pipeline({ colour: true });
    t.p.feed(bytes(crash));
    expect(t.kinds).toEqual(["panic", "plain", "plain", "plain", "backtrace"]);
    expect(t.screen[0]).toBe("\x1b[1;37;41mGuru Meditation Error: Core  1 panic'ed (LoadProhibited). Exception was unhandled.\x1b[0m\n");
    expect(t.screen[4]).toMatch(/^\x1b\[1;37;41mBacktrace: 0x400d1234/);
    for (const line of ["Fatal exception (28): LoadProhibited", "abort() was called at PC 0x400d2c1b on core 0", "XS abort: unhandled exception", "assert failed: app_main main.c:12 (x)"]) {
      expect(classify(line).kind).toBe("panic");
    }
    expect(classify("Backtrace:0x400d1234:0x3ffb1230").kind).toBe("backtrace");
    expect(classify("# Break: boom").kind).toBe("notable");
    expect(classify("V (1) t: m")).toEqual({ kind: "log", level: "V" });
    expect(classify("I (1a) t: m").kind).toBe("plain");
  });

  it("strips ESP-IDF colour codes when not colouring", () => {
    const t = pipeline();
    t.p.feed(bytes(`${RED}E (1) t: bad${RESET}\r\n`));
    expect(t.text()).toBe("E (1) t: bad\n");
  });

  it("never shows a secret, not even in part, whatever the chunking and idle flushes", () => {
    const secret = "tok-9f8e7d6c";
    const input = bytes(`I (5) prov: token=${secret} ok\r\n\r\n<xsbug><log>got ${secret}&#10;</log></xsbug>\r\nprompt ${secret.slice(0, 6)}`);
    for (let i = 0; i <= input.length; i++) {
      for (const colour of [false, true]) {
        const t = pipeline({ colour, secrets: [secret] });
        t.p.feed(input.subarray(0, i));
        t.p.idle();
        t.p.feed(input.subarray(i));
        t.p.idle();
        t.p.end();
        const out = t.text();
        const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
        // A prefix of the secret at the end of the stream is not the secret: it is shown.
        expect(plain).toBe(`I (5) prov: token=[redacted] ok\ngot [redacted]\nprompt ${secret.slice(0, 6)}\n`);
        // Every shown piece is free of any part of the secret longer than what the end-of-stream prefix shows.
        for (const piece of t.screen.slice(0, -1)) expect(piece).not.toMatch(/tok-9/);
        expect(t.log.join("\n")).not.toContain(secret);
      }
    }
  });

  it("shows a prompt after idle and finishes its line in the same colour", () => {
    const t = pipeline({ colour: true });
    t.p.feed(bytes("I (9) shell: type> "));
    t.p.idle();
    expect(t.text()).toBe(`${GREEN}I (9) shell: type> ${RESET}`);
    t.p.feed(bytes("help\r\n"));
    expect(t.text()).toBe(`${GREEN}I (9) shell: type> ${RESET}${GREEN}help${RESET}\n`);
    expect(t.log).toEqual(["I (9) shell: type> help"]);
  });
});
