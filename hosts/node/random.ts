/** Random bytes from the OS CSPRNG. */
import { randomFillSync } from "node:crypto";
import type { RandomSource } from "../../src/ports.js";

export function cryptoRandom(): RandomSource {
  return {
    fill(target: Uint8Array): void {
      randomFillSync(target);
    },
  };
}
