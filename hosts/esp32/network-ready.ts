/**
 * Waits until the board can reach a TLS server: an IP address (Wi-Fi joined; on ESP32 Moddable's network setup
 * does the joining when config.ssid is set) and a set wall clock (SNTP), because Moddable's TLS checks the
 * certificate's validity dates. Polls, and says once in a while what it is still waiting for.
 */
import Net from "net";
import type { Clock } from "tbsdk/ports";
import type { Logger } from "tbsdk/log";

/** 2024-01-01T00:00:00Z: an unset ESP32 clock starts in 1970. */
const CLOCK_SET_AFTER_MS = 1_704_067_200_000;
const POLL_MS = 250;
const REPORT_EVERY_MS = 10_000;

export interface NetworkReadyOptions {
  clock: Clock;
  log: Logger;
  /** Plain TCP needs no clock. */
  needClock: boolean;
}

export function whenNetworkReady(o: NetworkReadyOptions, ready: () => void): void {
  const started = o.clock.now();
  let reported = started;
  const poll = (): void => {
    const ip = currentIp();
    const clockSet = !o.needClock || Date.now() > CLOCK_SET_AFTER_MS;
    if (ip && clockSet) {
      o.log.info(`network ready: IP ${ip}${o.needClock ? `, clock ${new Date().toISOString()}` : ""} (after ${o.clock.now() - started} ms)`);
      ready();
      return;
    }
    if (o.clock.now() - reported >= REPORT_EVERY_MS) {
      reported = o.clock.now();
      o.log.warn(ip ? "waiting for the clock to be set (SNTP) before TLS" : "waiting for Wi-Fi (no IP address yet)");
    }
    o.clock.setTimer(poll, POLL_MS);
  };
  poll();
}

function currentIp(): string | undefined {
  try {
    const ip = Net.get("IP");
    return typeof ip === "string" && ip.length > 0 && ip !== "0.0.0.0" ? ip : undefined;
  } catch {
    return undefined;
  }
}
