/**
 * Exponential back-off with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): before retry
 * number n (0-based) the delay is uniform in [0, min(cap, base × 2^n)]. Randomness comes from the RandomSource
 * port, so a fleet of devices that lost the same server does not come back in lock-step, and tests are exact.
 * Pure: no timers here; the agent asks for a delay and sets its own timer.
 */

import type { RandomSource } from "../ports.js";

export interface BackoffOptions {
  /** Ceiling of the first delay, ms. Default 1000. */
  baseMs?: number;
  /** Largest delay, ms. Default 60000. */
  capMs?: number;
  /** Failed attempts allowed in a row before giving up; 0 = never give up. Default 0. */
  maxAttempts?: number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_CAP_MS = 60_000;

const TWO_32 = 4294967296;

/** Uniform integer in [0, max] (max a non-negative integer below 2^32) from 4 random bytes. */
export function uniformInt(random: RandomSource, max: number): number {
  if (max <= 0) return 0;
  const b = new Uint8Array(4);
  random.fill(b);
  const u = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  // The bias of the multiply-shift mapping is below (max + 1) / 2^32: irrelevant for delays.
  return Math.floor((u / TWO_32) * (max + 1));
}

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly maxAttempts: number;
  private failures = 0;

  constructor(private readonly random: RandomSource, options: BackoffOptions = {}) {
    const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    const cap = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
    const max = options.maxAttempts ?? 0;
    if (!(Number.isInteger(base) && base >= 1)) throw new RangeError("backoff baseMs must be an integer >= 1");
    if (!(Number.isInteger(cap) && cap >= base && cap < TWO_32)) throw new RangeError("backoff capMs must be an integer from baseMs to 2^32-1");
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError("backoff maxAttempts must be an integer >= 0 (0 = unlimited)");
    this.baseMs = base;
    this.capMs = cap;
    this.maxAttempts = max;
  }

  /** Failures counted since the last reset(). */
  get attempts(): number {
    return this.failures;
  }

  /** True when maxAttempts failures in a row have been counted. */
  get exhausted(): boolean {
    return this.maxAttempts > 0 && this.failures >= this.maxAttempts;
  }

  /** The upper bound of the delay after `failures` failures in a row (1 → base, 2 → 2 × base, … up to cap). */
  ceiling(failures: number): number {
    if (failures <= 1) return this.baseMs;
    // 2^n overflows nothing we care about: stop doubling once the cap is reached.
    let c = this.baseMs;
    for (let i = 1; i < failures && c < this.capMs; i++) c *= 2;
    return c < this.capMs ? c : this.capMs;
  }

  /**
   * Counts a failure and returns how long to wait before the next attempt, uniform in [0, ceiling], or
   * undefined when maxAttempts is reached (give up).
   */
  next(): number | undefined {
    if (this.exhausted) return undefined;
    this.failures++;
    if (this.exhausted) return undefined;
    return uniformInt(this.random, this.ceiling(this.failures));
  }

  /** Counts a failure and returns the cap itself (for errors that retrying soon cannot fix), or undefined when exhausted. */
  nextAtCap(): number | undefined {
    if (this.exhausted) return undefined;
    this.failures++;
    if (this.exhausted) return undefined;
    return this.capMs;
  }

  /** Success: the next failure starts again from base. */
  reset(): void {
    this.failures = 0;
  }
}
