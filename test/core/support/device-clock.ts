/**
 * A manual clock for the device agent's tests whose advance() is async: it fires due timers one at a time, in
 * order, and lets microtasks run after each (the scripted server answers on microtasks, as a socket would on
 * the event loop). With ManualClock's synchronous advance(), a connect timeout 10 s later would fire before the
 * server's CONNACK, which is never what a device sees.
 */
import { ManualClock, settle } from "./memory-ports.js";

/** Lets every scripted reply travel (each hop is a microtask or two). */
export async function drain(): Promise<void> {
  for (let i = 0; i < 6; i++) await settle(20);
}

/** ManualClock whose advance() lets the scripted server answer between timers. */
export class StepClock extends ManualClock {
  override async advance(ms: number): Promise<void> {
    const target = this.now() + ms;
    for (let due = this.takeDue(target); due; due = this.takeDue(target)) {
      due.callback();
      await drain();
    }
    this.setNow(target);
    await drain();
  }
}
