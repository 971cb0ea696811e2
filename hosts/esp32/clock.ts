/** The clock port on Moddable: Time.ticks (ms since boot, monotonic) and one-shot Timers. */
import Time from "time";
import Timer from "timer";
import type { Clock, TimerHandle } from "tbsdk/ports";

export function timerClock(): Clock {
  return {
    now: () => Time.ticks,
    setTimer: (callback: () => void, delayMs: number): TimerHandle => Timer.set(() => callback(), Math.max(0, delayMs)),
    clearTimer: (handle: TimerHandle): void => Timer.clear(handle as Timer),
  };
}
