'use strict';
// Runs a self-contained JS script (an esbuild bundle) inside Moddable's XS engine via @agoric/xsnap.
//
// WARNING: the first call imports '@endo/init', which runs SES lockdown() on the *calling* process
// (frozen intrinsics, tamed Error/Date/Math). Only call this from a dedicated process such as
// test/xs/run-xs.js — never from inside a Jest worker or a process that must stay mutable.
//
// Result protocol: before the bundle, a prelude defines two globals in XS:
//   __report(obj)     — send the bundle's final JSON-serialisable result to Node (exactly once);
//   __progress(text)  — optional breadcrumb (e.g. the running test's name) shown if the run hangs or dies.
// Both travel as synchronous `issueCommand(ArrayBuffer)` calls from XS, which xsnap delivers to the
// `handleCommand` we pass to xsnap(). The bundle's `evaluate` reply (sent only once XS's promise job
// queue has drained) carries `meterUsage` for the whole run, including its async part.

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const childProcess = require('node:child_process');

const DEFAULT_TIMEOUT_MS = 120_000;
const OUTPUT_TAIL_CHARS = 8_000;

/** Path of the native worker that @agoric/xsnap builds in its postinstall. */
function xsnapWorkerPath(debug = false) {
  const pkgDir = path.dirname(require.resolve('@agoric/xsnap/package.json'));
  const platform = { Linux: 'lin', Darwin: 'mac' }[os.type()];
  if (!platform) throw new Error(`xsnap does not support ${os.type()}`);
  return path.join(pkgDir, 'xsnap-native/xsnap/build/bin', platform, debug ? 'debug' : 'release', 'xsnap-worker');
}

function assertWorkerBuilt(debug) {
  const bin = xsnapWorkerPath(debug);
  if (!fs.existsSync(bin)) {
    throw new Error(
      `xsnap-worker is not built (missing ${bin}). ` +
        'Its postinstall compiles XS with make/gcc; rebuild it with `npm rebuild @agoric/xsnap` ' +
        '(needs build-essential) and check that install scripts are allowed.',
    );
  }
}

// XS side of the result protocol. It may use xsnap's own TextEncoder: this is host glue, not core code.
const PRELUDE = `(() => {
  const send = issueCommand; // captured so a bundle cannot break reporting by shadowing the global
  const encoder = new TextEncoder();
  const post = (kind, payload) => { send(encoder.encode(kind + JSON.stringify(payload)).buffer); };
  globalThis.__report = obj => post('R', obj === undefined ? null : obj);
  globalThis.__progress = text => post('P', String(text));
})();`;

let xsnapModulePromise;
function loadXsnap() {
  // Lockdown must precede @agoric/xsnap (it calls harden() at module scope). Both are ESM-only.
  xsnapModulePromise ??= import('@endo/init').then(() => import('@agoric/xsnap'));
  return xsnapModulePromise;
}

function tail(text) {
  return text.length > OUTPUT_TAIL_CHARS ? `…${text.slice(-OUTPUT_TAIL_CHARS)}` : text;
}

/**
 * Evaluate `bundleCode` (a script) in a fresh xsnap worker and wait for it to call `__report(obj)`.
 *
 * @param {string} bundleCode
 * @param {object} [opts]
 * @param {number} [opts.timeoutMs=120000] wall-clock limit; the worker is killed when it expires.
 * @param {number} [opts.meteringLimit=0] XS compute limit per crank (0 = unlimited; xsnap's own default is 1e8).
 * @param {(chunk: string) => void} [opts.onOutput] receives the worker's stdout/stderr (XS `print()` goes there).
 * @param {(text: string) => void} [opts.onProgress] receives each `__progress(text)` as it happens.
 * @param {boolean} [opts.debug=false] use the debug build of xsnap-worker.
 * @param {string} [opts.name='xs-bundle'] worker name, shown in xsnap's errors.
 * @param {AbortSignal} [opts.signal] aborting kills the worker and rejects (e.g. on SIGTERM of the host process).
 * @returns {Promise<{result: any, meterUsage: {meterType: string, compute: number, allocate: number, currentHeapCount: number}}>}
 *   meterUsage covers the whole evaluation of the bundle, including its promise jobs and the __report
 *   call, but not the prelude. `compute` is XS's deterministic meter (it counts bytecode steps, so a
 *   slow native call such as charCodeAt on a long string counts as one); `currentHeapCount` is the heap
 *   slots in use when the run ended, without a forced GC (call gc() in the bundle first for live data).
 */
async function runBundleInXs(bundleCode, opts = {}) {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, meteringLimit = 0, onOutput = () => {}, onProgress = () => {}, debug = false, signal, name = 'xs-bundle' } = opts;
  assertWorkerBuilt(debug);
  const { xsnap } = await loadXsnap();

  let output = '';
  const spawn = (bin, args, spawnOpts) => {
    // Wrap spawn so we can capture the worker's output (xsnap only offers 'ignore' | 'inherit' | 'pipe').
    const child = childProcess.spawn(bin, args, spawnOpts);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', chunk => {
        output = tail(output + chunk);
        onOutput(chunk);
      });
    }
    return child;
  };

  const decoder = new TextDecoder();
  let reported = false;
  let result;
  let protocolError;
  let lastProgress;
  const handleCommand = async message => {
    const text = decoder.decode(message);
    const kind = text[0];
    const payload = JSON.parse(text.slice(1));
    if (kind === 'P') {
      lastProgress = payload;
      onProgress(payload);
    } else if (kind === 'R' && !reported) {
      reported = true;
      result = payload;
    } else {
      protocolError ??= kind === 'R' ? '__report() was called more than once' : `unknown command ${JSON.stringify(text.slice(0, 40))}`;
    }
    return new Uint8Array(0);
  };

  const worker = await xsnap({
    os: os.type(),
    spawn,
    fs: { ...fs.promises, createReadStream: fs.createReadStream }, // only used for snapshots, which we don't take
    name,
    handleCommand,
    meteringLimit,
    stdout: 'pipe',
    stderr: 'pipe',
    debug,
  });

  const diagnostics = () => {
    const bits = [];
    if (lastProgress !== undefined) bits.push(`last progress: ${lastProgress}`);
    if (output.trim()) bits.push(`worker output:\n${output.trim()}`);
    return bits.length ? `\n${bits.join('\n')}` : '';
  };

  // Wall-clock guard (and external abort): the race below rejects, and `finally` kills the worker.
  let timer;
  let onAbort;
  const stopped = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`XS run timed out after ${timeoutMs} ms; worker killed.${diagnostics()}`));
    }, timeoutMs);
    onAbort = () => reject(new Error(`XS run aborted; worker killed.${diagnostics()}`));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });

  try {
    const run = (async () => {
      await worker.evaluate(PRELUDE);
      // The reply arrives only after XS has drained its promise jobs, so the async test run is over.
      const { meterUsage } = await worker.evaluate(bundleCode);
      return meterUsage;
    })();
    run.catch(() => {}); // if `stopped` wins the race, `run` rejects later when the worker dies
    let meterUsage;
    try {
      meterUsage = await Promise.race([run, stopped]);
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      throw new Error(message.includes('worker killed') ? message : `${message}${diagnostics()}`);
    }
    if (protocolError) throw new Error(`XS bundle protocol error: ${protocolError}${diagnostics()}`);
    if (!reported) {
      throw new Error(
        'XS bundle finished (its promise job queue drained) without calling __report(): ' +
          `an awaited promise never settled, or the bundle never reports.${diagnostics()}`,
      );
    }
    const { meterType, compute, allocate, currentHeapCount } = meterUsage;
    return { result, meterUsage: { meterType, compute, allocate, currentHeapCount } };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await worker.terminate(); // kills the process; harmless if it already exited
  }
}

module.exports = { runBundleInXs, xsnapWorkerPath, DEFAULT_TIMEOUT_MS };
