/**
 * The device agent's pure parts: exponential back-off with full jitter, and the bounded offline queue.
 * Runs on Node and, through test/xs, inside XS.
 */
import { Backoff, uniformInt } from "../../src/device/backoff.js";
import { TelemetryQueue, type MessageFate } from "../../src/device/telemetry-queue.js";
import type { RandomSource } from "../../src/ports.js";
import { Prng, scaled } from "./support/prng.js";

/** Every byte `b`: the largest (0xff) or smallest (0) draw. */
const constant = (b: number): RandomSource => ({ fill: (t) => t.fill(b) });
const seeded = (seed: number): RandomSource => {
  const rng = new Prng(seed);
  return { fill: (t) => t.set(rng.bytes(t.length)) };
};

describe("Backoff", () => {
  it("doubles the ceiling from base up to the cap", () => {
    const b = new Backoff(constant(0xff), { baseMs: 500, capMs: 10_000 });
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => b.ceiling(n))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it("draws the full ceiling with the largest random value and 0 with the smallest", () => {
    const hi = new Backoff(constant(0xff), { baseMs: 1000, capMs: 8000 });
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(hi.attempts).toBe(5);
    const lo = new Backoff(constant(0), { baseMs: 1000, capMs: 8000 });
    expect([lo.next(), lo.next(), lo.next()]).toEqual([0, 0, 0]);
  });

  it("keeps every jittered delay within [0, ceiling] and spreads them (full jitter)", () => {
    const seed = 1234;
    const b = new Backoff(seeded(seed), { baseMs: 100, capMs: 3200 });
    const n = scaled(1000);
    let below = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      b.reset();
      for (let k = 1; k <= 7; k++) {
        const d = b.next() as number;
        const ceiling = b.ceiling(k);
        if (!(Number.isInteger(d) && d >= 0 && d <= ceiling)) outside++;
        if (k === 7 && d < ceiling / 2) below++;
      }
    }
    expect(outside).toBe(0);
    // Uniform over [0, cap]: about half of the draws fall in the lower half.
    expect(below / n).toBeGreaterThan(0.35);
    expect(below / n).toBeLessThan(0.65);
  });

  it("gives up after maxAttempts failures in a row, and reset() starts again from base", () => {
    const b = new Backoff(constant(0xff), { baseMs: 1000, capMs: 60_000, maxAttempts: 3 });
    expect(b.next()).toBe(1000);
    expect(b.next()).toBe(2000);
    expect(b.next()).toBeUndefined();
    expect(b.exhausted).toBe(true);
    expect(b.nextAtCap()).toBeUndefined();
    b.reset();
    expect(b.next()).toBe(1000);
  });

  it("nextAtCap() waits exactly the cap", () => {
    const b = new Backoff(constant(0), { baseMs: 1000, capMs: 30_000 });
    expect(b.nextAtCap()).toBe(30_000);
    expect(b.nextAtCap()).toBe(30_000);
    expect(b.attempts).toBe(2);
  });

  it("refuses nonsense options", () => {
    expect(() => new Backoff(constant(0), { baseMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff(constant(0), { baseMs: 1000, capMs: 999 })).toThrow(RangeError);
    expect(() => new Backoff(constant(0), { maxAttempts: -1 })).toThrow(RangeError);
  });

  it("uniformInt covers both ends", () => {
    expect(uniformInt(constant(0), 10)).toBe(0);
    expect(uniformInt(constant(0xff), 10)).toBe(10);
    expect(uniformInt(constant(0x80), 0)).toBe(0);
  });
});

describe("TelemetryQueue", () => {
  function recorder() {
    const fates: [MessageFate, number][] = [];
    return { fates, onFate: (f: MessageFate, id: number) => fates.push([f, id]) };
  }

  it("drops the oldest when the count bound is reached, and counts drops", () => {
    const r = recorder();
    const q = new TelemetryQueue({ maxMessages: 3, onFate: r.onFate });
    for (let i = 1; i <= 5; i++) q.push("t", `{"n":${i}}`);
    expect(q.length).toBe(3);
    expect(q.waiting().map((m) => m.id)).toEqual([3, 4, 5]);
    expect(r.fates).toEqual([["dropped", 1], ["dropped", 2]]);
    expect(q.stats).toEqual({ pushed: 5, acked: 0, dropped: 2, failed: 0 });
  });

  it("drops the oldest when the byte bound is reached (topic + payload, UTF-8)", () => {
    const r = recorder();
    const q = new TelemetryQueue({ maxBytes: 30, onFate: r.onFate });
    q.push("t", "123456789"); // 10 bytes
    q.push("t", "é23456789"); // 11 bytes
    q.push("t", "123456789"); // 10: 31 > 30 → drop #1
    expect(q.bytes).toBe(21);
    expect(r.fates).toEqual([["dropped", 1]]);
    // Larger than the whole queue: dropped at once, nothing else lost.
    q.push("t", "x".repeat(40));
    expect(r.fates).toEqual([["dropped", 1], ["dropped", 4]]);
    expect(q.length).toBe(2);
  });

  it("reports each fate exactly once, to the message's callback and to onFate", () => {
    const r = recorder();
    const own: string[] = [];
    const q = new TelemetryQueue({ onFate: r.onFate });
    q.push("t", "a", (f, id) => own.push(`${f}:${id}`));
    q.push("t", "b", (f, id) => own.push(`${f}:${id}`));
    const [a, b] = q.waiting();
    q.markSent(a);
    q.markSent(b);
    q.ack(a);
    q.ack(a); // a late duplicate PUBACK changes nothing
    q.fail(b, new Error("refused"));
    q.ack(b);
    expect(own).toEqual(["acked:1", "failed:2"]);
    expect(r.fates).toEqual([["acked", 1], ["failed", 2]]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it("never drops a message in flight; a requeued one is sent again in its place", () => {
    const r = recorder();
    const q = new TelemetryQueue({ maxMessages: 2, onFate: r.onFate });
    q.push("t", "a");
    q.push("t", "b");
    for (const m of q.waiting()) q.markSent(m);
    q.push("t", "c"); // both held are in flight: the new one is dropped
    expect(r.fates).toEqual([["dropped", 3]]);
    q.requeueAll();
    expect(q.waiting().map((m) => [m.id, m.sends])).toEqual([[1, 1], [2, 1]]);
    q.push("t", "d"); // now the oldest waiting one goes
    expect(r.fates).toEqual([["dropped", 3], ["dropped", 1]]);
    expect(q.waiting().map((m) => m.id)).toEqual([2, 4]);
  });
});
