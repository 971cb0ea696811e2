/** Throughput measurement: ours and the reference alternate in rounds so drift hits both alike. */

export interface Throughput {
  opsPerSec: number;
  rounds: number;
}

/** Runs `fn` (which performs `batch` operations) repeatedly for about `ms`; returns ops/s. */
function timeOnce(fn: () => void, batch: number, ms: number): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  do {
    fn();
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return (ops * 1e9) / Number(elapsed);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ops/s of `rounds` alternating runs of each candidate. */
export function compareThroughput(
  candidates: Record<string, () => void>,
  options: { batch: number; roundMs?: number; rounds?: number },
): Record<string, Throughput> {
  const roundMs = options.roundMs ?? 300;
  const rounds = options.rounds ?? 7;
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(candidates)) {
    samples[name] = [];
    timeOnce(candidates[name], options.batch, 100); // warm-up: let the JIT settle
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(candidates)) samples[name].push(timeOnce(candidates[name], options.batch, roundMs));
  }
  const out: Record<string, Throughput> = {};
  for (const name of Object.keys(candidates)) out[name] = { opsPerSec: median(samples[name]), rounds };
  return out;
}
