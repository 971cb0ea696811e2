/**
 * XS conformance: every core suite (test/core/**\/*.test.ts) also runs inside the real XS engine.
 *
 * Each suite file is bundled on its own (with the expect shim) and run in a fresh xsnap worker, through
 * a child process (run-xs.js): xsnap needs SES lockdown, which must never happen inside a Jest worker.
 * Per-file bundles keep Jest's isolation (fresh module state per file) and give one Jest test per file;
 * they run in parallel, started in beforeAll.
 */
import { execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleCoreSuites, mapXsStack } from "./bundle.js";

const ROOT = path.resolve(__dirname, "../..");
const CORE_DIR = path.join(ROOT, "test/core");
const RUN_XS = path.join(__dirname, "run-xs.js");
const XS_TIMEOUT_MS = 120_000; // per suite, enforced by run-xs.js (kills the worker)
const JEST_TIMEOUT_MS = 180_000;

interface XsRunResult {
  passed: number;
  failed: { name: string; error: string }[];
  tests: string[];
  registered: number;
  skipped: string[];
  files: Record<string, { registered: number; ran: number; failed: number }>;
  meterUsage: { compute: number; currentHeapCount: number };
}

type Outcome =
  | { ok: true; result: XsRunResult; bundleCode: string; bundleFile: string }
  | { ok: false; error: string; bundleFile?: string };

function findSuites(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findSuites(full));
    else if (entry.name.endsWith(".test.ts")) found.push(full);
  }
  return found.sort();
}

const label = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

/** Live run-xs.js children, so afterAll can stop runs nobody waits for (e.g. under `jest -t`). */
const liveChildren = new Set<ChildProcess>();
let cancelled = false;

function execNode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: ROOT, timeout: XS_TIMEOUT_MS + 15_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        liveChildren.delete(child);
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && error.killed ? `${stderr}\n(run-xs.js killed: ${error.signal})` : stderr });
      },
    );
    liveChildren.add(child);
  });
}

/** Stops pending and running XS runs; run-xs.js kills its xsnap-worker on SIGTERM. */
async function stopAll(): Promise<void> {
  cancelled = true;
  const exits = [...liveChildren].map((child) => new Promise((resolve) => child.once("exit", resolve)));
  for (const child of liveChildren) child.kill("SIGTERM");
  await Promise.all(exits);
}

async function runSuiteInXs(file: string, workDir: string): Promise<Outcome> {
  let bundleCode: string;
  try {
    bundleCode = await bundleCoreSuites([file], { rootDir: ROOT });
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (cancelled) return { ok: false, error: "cancelled" };
  const bundleFile = path.join(workDir, `${label(file).replace(/[^\w.-]+/g, "_")}.js`);
  writeFileSync(bundleFile, bundleCode);
  const { code, stdout, stderr } = await execNode([RUN_XS, bundleFile, `--timeout-ms=${XS_TIMEOUT_MS}`]);
  const lastLine = stdout.trim().split("\n").pop() ?? "";
  let parsed: (XsRunResult & { error?: undefined }) | { error: string };
  try {
    parsed = JSON.parse(lastLine);
  } catch {
    return { ok: false, bundleFile, error: `run-xs.js exited with ${code} without a JSON result.\nstdout: ${stdout}\nstderr: ${stderr}` };
  }
  if (parsed.error !== undefined) {
    const output = stderr.trim() ? `\nworker stderr:\n${stderr.trim()}` : "";
    return { ok: false, bundleFile, error: mapXsStack(parsed.error, bundleCode) + output };
  }
  return { ok: true, result: parsed as XsRunResult, bundleCode, bundleFile };
}

/** Runs jobs with at most `limit` in flight; each job's promise never rejects (Outcome carries errors). */
function startAll(files: string[], workDir: string, limit: number): Map<string, Promise<Outcome>> {
  const queue = [...files];
  const resolvers = new Map<string, (o: Outcome) => void>();
  const outcomes = new Map<string, Promise<Outcome>>();
  for (const file of files) outcomes.set(file, new Promise((resolve) => resolvers.set(file, resolve)));
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const outcome = cancelled
        ? { ok: false as const, error: "cancelled" }
        : await runSuiteInXs(file, workDir).catch((error): Outcome => ({ ok: false, error: String(error) }));
      resolvers.get(file)!(outcome);
    }
  };
  for (let i = 0; i < Math.min(limit, files.length); i++) void worker();
  return outcomes;
}

function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

/** Everything wrong with one suite's XS run, as readable lines (empty = conformant). */
function problemsOf(file: string, outcome: Outcome): string[] {
  if (!outcome.ok) return [`XS run could not complete:\n${indent(outcome.error)}`];
  const { result, bundleCode } = outcome;
  const problems: string[] = [];
  const own = result.files[label(file)];
  if (result.tests.length === 0) problems.push("no test ran in XS");
  if (result.registered > 0 && (!own || own.registered !== result.registered)) problems.push(`tests were attributed to other files: ${JSON.stringify(result.files)}`);
  if (result.tests.length + result.skipped.length !== result.registered) {
    problems.push(`registered ${result.registered} tests but ran ${result.tests.length} and skipped ${result.skipped.length}`);
  }
  for (const failure of result.failed) {
    problems.push(`✕ ${failure.name}\n${indent(mapXsStack(failure.error, bundleCode))}`);
  }
  return problems;
}

const suites = findSuites(CORE_DIR);

describe("XS conformance: core suites run inside the XS engine", () => {
  let workDir = "";
  let outcomes = new Map<string, Promise<Outcome>>();
  let anyFailed = false;

  beforeAll(() => {
    workDir = mkdtempSync(path.join(os.tmpdir(), "xs-conformance-"));
    const parallel = Math.max(1, Math.min(4, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length));
    outcomes = startAll(suites, workDir, parallel);
  });

  afterAll(async () => {
    await stopAll(); // only runs whose test was filtered out are still going
    // Keep the bundles when something failed: XS line numbers and the code are there to inspect.
    if (!anyFailed && workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("finds core suites to run", () => {
    expect(suites.length).toBeGreaterThan(0);
  });

  for (const file of suites) {
    it(
      `${label(file)} passes in XS`,
      async () => {
        const outcome = await outcomes.get(file)!;
        const problems = problemsOf(file, outcome);
        if (problems.length > 0) {
          anyFailed = true;
          const where = outcome.bundleFile ? `\n(bundle kept at ${outcome.bundleFile})` : "";
          const summary = outcome.ok ? `${outcome.result.passed} passed, ${outcome.result.failed.length} failed` : "did not complete";
          throw new Error(`${label(file)} in XS: ${summary}\n\n${problems.join("\n\n")}${where}`);
        }
      },
      JEST_TIMEOUT_MS,
    );
  }
});
