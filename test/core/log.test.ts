import { Log, redact } from "../../src/log.js";
import { ManualClock, MemorySink } from "./support/memory-ports.js";

function setup(level: "E" | "W" | "I" | "D" | "V" = "I") {
  const clock = new ManualClock();
  const sink = new MemorySink();
  return { clock, sink, log: new Log(sink, clock, { level }) };
}

describe("log", () => {
  it("writes ESP-IDF style lines with milliseconds since the log was created", () => {
    const { clock, sink, log } = setup();
    clock.advance(1532);
    log.tag("provision").info("Starting provision to tb.example.com:8883");
    expect(sink.lines).toEqual(["I (1532) provision: Starting provision to tb.example.com:8883"]);
  });

  it("filters by level", () => {
    const { sink, log } = setup("W");
    const t = log.tag("x");
    t.error("e");
    t.warn("w");
    t.info("i");
    t.debug("d");
    t.verbose("v");
    expect(sink.lines.map((l) => l[0])).toEqual(["E", "W"]);
    log.setLevel("V");
    t.verbose("v");
    expect(sink.lines.length).toBe(3);
    expect(t.enabled("D")).toBe(true);
  });

  it("scrubs registered secrets from every line, longest first", () => {
    const { sink, log } = setup();
    log.addSecret("s3cr3t-token");
    log.addSecret("s3cr3t");
    log.addSecret("ab"); // too short to scrub safely: ignored
    log.tag("t").info("token s3cr3t-token and s3cr3t in ab");
    expect(sink.lines[0]).toBe("I (0) t: token [redacted] and [redacted] in ab");
  });

  it("keeps one event on one line", () => {
    const { sink, log } = setup();
    log.tag("t").warn("first\nI (0) forged: line\r\nend");
    expect(sink.lines).toEqual(["W (0) t: first I (0) forged: line end"]);
  });

  it("redact() shows only the length", () => {
    expect(redact("abcdef")).toBe("[redacted 6]");
    expect(redact(new Uint8Array(3))).toBe("[redacted 3]");
    expect(redact(undefined)).toBe("(none)");
  });
});
