/** Real time for the core: a monotonic millisecond counter and one-shot timers. */
import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../../src/ports.js";

/** Node's setTimeout fires at once (with a warning) for delays above this; longer timers are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface NodeTimer {
  timeout: NodeJS.Timeout | undefined;
}

/**
 * Timers are deliberately NOT unref'd: like on the device, a pending keepalive or reconnect timer is the
 * only thing keeping an idle agent alive between network events, and the process must not exit under it.
 * Whoever stops the agent clears its timers.
 */
export function systemClock(): Clock {
  return {
    // performance.now() is monotonic (immune to wall-clock changes) and starts near process start, like
    // the device's ticks since boot; whole milliseconds mirror Moddable's Time.ticks.
    now: () => Math.floor(performance.now()),
    setTimer(callback: () => void, delayMs: number): TimerHandle {
      const timer: NodeTimer = { timeout: undefined };
      const arm = (remaining: number): void => {
        timer.timeout =
          remaining > MAX_TIMEOUT_MS
            ? setTimeout(() => arm(remaining - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS)
            : setTimeout(() => {
                timer.timeout = undefined;
                callback();
              }, remaining);
      };
      arm(Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0);
      return timer;
    },
    clearTimer(handle: TimerHandle): void {
      const timer = handle as NodeTimer | undefined;
      if (timer?.timeout === undefined) return;
      clearTimeout(timer.timeout);
      timer.timeout = undefined;
    },
  };
}
