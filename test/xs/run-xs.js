#!/usr/bin/env node
'use strict';
// Usage: node test/xs/run-xs.js <bundle.js> [--timeout-ms=N] [--metering-limit=N] [--verbose]
//
// Runs one bundle in a fresh XS worker and prints ONE JSON line on stdout:
//   success: {...<what the bundle passed to __report()>, "meterUsage": {compute, currentHeapCount, …}}  (exit 0)
//   failure of the harness itself (timeout, crash, never reported): {"error": "..."}             (exit 1)
// Test failures inside the bundle are data (exit 0); the caller decides what they mean.
// This is a separate process on purpose: xsnap needs SES lockdown, which freezes this process's globals.

const fs = require('node:fs');
const { runBundleInXs, DEFAULT_TIMEOUT_MS } = require('./xsnap-runner.js');

function parseArgs(argv) {
  const opts = { timeoutMs: DEFAULT_TIMEOUT_MS, meteringLimit: 0, verbose: false };
  let file;
  for (const arg of argv) {
    if (arg === '--verbose') {
      opts.verbose = true;
      continue;
    }
    const m = /^--(timeout-ms|metering-limit)=(\d+)$/.exec(arg);
    if (m) opts[m[1] === 'timeout-ms' ? 'timeoutMs' : 'meteringLimit'] = Number(m[2]);
    else if (!file && !arg.startsWith('--')) file = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!file) throw new Error('usage: node test/xs/run-xs.js <bundle.js> [--timeout-ms=N] [--metering-limit=N] [--verbose]');
  return { file, opts };
}

async function main() {
  const { file, opts } = parseArgs(process.argv.slice(2));
  const code = fs.readFileSync(file, 'utf8');
  // XS print() and worker diagnostics go to our stderr so stdout stays one JSON line.
  // --verbose: one stderr line per __progress() (each test as it starts), with elapsed ms, to find slow tests.
  const start = Date.now();
  const onProgress = opts.verbose ? text => process.stderr.write(`[xs +${Date.now() - start}ms] ${text}\n`) : undefined;
  // Being killed (Jest cleaning up, execFile's timeout) must not orphan a busy xsnap-worker.
  const abort = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT']) process.once(sig, () => abort.abort());
  const { result, meterUsage } = await runBundleInXs(code, {
    signal: abort.signal,
    timeoutMs: opts.timeoutMs,
    meteringLimit: opts.meteringLimit,
    onOutput: chunk => process.stderr.write(chunk),
    onProgress,
  });
  const body = result !== null && typeof result === 'object' && !Array.isArray(result) ? result : { result };
  process.stdout.write(`${JSON.stringify({ ...body, meterUsage })}\n`);
}

main().then(
  () => process.exit(0), // don't wait for stray handles of the killed worker
  err => {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exit(1);
  },
);
