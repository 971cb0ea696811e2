/**
 * A manual clock for the device agent's tests whose advance() is async: it fires due timers one at a time, in
 * order, and lets microtasks run after each (the scripted server answers on microtasks, as a socket would on
 * the event loop). With ManualClock's synchronous advance(), a connect timeout 10 s later would fire before the
 * server's CONNACK, which is never what a device sees.
 */
import type { Clock, TimerHandle } from "../../../src/ports.js";
import { settle } from "./memory-ports.js";

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/** Lets every scripted reply travel (each hop is a microtask or two). */
export async function drain(): Promise<void> {
  for (let i = 0; i < 6; i++) await settle(20);
}

export class StepClock implements Clock {
  private t = 1000;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id;
  }
  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      const due = next;
      this.timers = this.timers.filter((t) => t !== due);
      this.t = due.at;
      due.callback();
      await drain();
    }
    this.t = target;
    await drain();
  }
}
