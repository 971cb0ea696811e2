/**
 * The random port on Moddable. On ESP32, Math.random() draws from esp_random(), the hardware RNG (true random
 * once the radio is on, which it is before we provision). On the lin simulator it is libc rand() with a fixed
 * seed, so the bytes are also mixed with a generator seeded from the clock: harmless on the device (XOR with an
 * independent uniform byte stays uniform), and on the simulator two runs no longer choose the same token.
 */
import Time from "time";
import type { RandomSource } from "tbsdk/ports";

export function deviceRandom(): RandomSource {
  // xorshift32, seeded from wall-clock and tick time.
  let s = (Date.now() ^ (Time.ticks * 2654435761)) >>> 0 || 0x9e3779b9;
  return {
    fill(target: Uint8Array): void {
      for (let i = 0; i < target.length; i++) {
        s ^= s << 13;
        s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        target[i] = (Math.floor(Math.random() * 256) ^ s) & 0xff;
      }
    },
  };
}
