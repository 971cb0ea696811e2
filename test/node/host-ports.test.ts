import { cryptoRandom, memorySink, stdoutSink, systemClock } from "../../hosts/node/index.js";

describe("Node host ports", () => {
  it("systemClock: monotonic now, one-shot timers in order, clearTimer cancels", async () => {
    const clock = systemClock();
    const t0 = clock.now();
    const fired: string[] = [];
    clock.setTimer(() => fired.push("b"), 30);
    clock.setTimer(() => fired.push("a"), 10);
    const cancelled = clock.setTimer(() => fired.push("never"), 20);
    clock.clearTimer(cancelled);
    clock.clearTimer(cancelled); // harmless twice
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(30);
    expect(Number.isInteger(clock.now())).toBe(true);
  });

  it("cryptoRandom fills buffers with varying bytes", () => {
    const r = cryptoRandom();
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    r.fill(a);
    r.fill(b);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(new Set(a).size).toBeGreaterThan(8);
  });

  it("stdoutSink colours like ESP-IDF on a TTY and is plain otherwise", () => {
    const tty: string[] = [];
    stdoutSink({ stream: { write: (s: string) => tty.push(s), isTTY: true } }).write("E", "E (1) t: boom");
    expect(tty).toEqual(["\x1b[0;31mE (1) t: boom\x1b[0m\n"]);
    const plain: string[] = [];
    stdoutSink({ stream: { write: (s: string) => plain.push(s), isTTY: false } }).write("I", "I (1) t: ok");
    expect(plain).toEqual(["I (1) t: ok\n"]);
    const m = memorySink();
    m.write("W", "W (2) t: w");
    expect(m.entries).toEqual([{ level: "W", line: "W (2) t: w" }]);
  });
});
