/**
 * A real Mosquitto broker for interop tests, on 127.0.0.1 and a free port.
 *
 * Running as root: Mosquitto drops privileges to the `mosquitto` user after reading its config and before
 * loading certificates, so the config dir and every cert/key must be readable by that user (mkdtemp makes
 * 0700 dirs: we chmod 0755; makeTestPki writes 0644 files) — otherwise it dies with "OpenSSL Error … system
 * lib". If no `mosquitto` user exists it keeps running as root. As a normal user nothing changes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { canConnect, freePort } from "./free-port.js";

/** Debian installs the broker in /usr/sbin, which a non-root PATH usually lacks. */
const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin"];

/** Path of the mosquitto executable, or undefined if it isn't installed. */
export function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, "mosquitto");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function mosquittoAvailable(): boolean {
  return findMosquitto() !== undefined;
}

export interface MosquittoTlsOptions {
  /** CA file that client certificates must chain to (Mosquitto requires one for any TLS listener). */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Refuse clients without a certificate signed by caFile (default false). */
  requireCertificate?: boolean;
  /** Pin the listener's protocol version. */
  tlsVersion?: "tlsv1.2" | "tlsv1.3";
}

export interface MosquittoOptions {
  tls?: MosquittoTlsOptions;
  /** More config lines, appended after the listener's. */
  extraConfig?: string[];
  /** How long to wait for the port to accept connections (default 10 s). */
  startTimeoutMs?: number;
}

export interface MosquittoBroker {
  port: number;
  /** Everything Mosquitto wrote so far (it logs to stderr with -v). */
  logs(): string;
  /** Stops the broker (SIGTERM, SIGKILL after 3 s), waits for it to exit and removes its config dir. */
  close(): Promise<void>;
}

const START_ATTEMPTS = 3; // the free port can be taken between our probe and Mosquitto's bind

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const exe = findMosquitto();
  if (exe === undefined) throw new Error("mosquitto not found on PATH (nor in /usr/sbin)");
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(exe, await freePort(), opts);
    } catch (err) {
      if (attempt >= START_ATTEMPTS || !/Address already in use/i.test(String(err))) throw err;
    }
  }
}

async function startOnce(exe: string, port: number, opts: MosquittoOptions): Promise<MosquittoBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-mosquitto-"));
  fs.chmodSync(dir, 0o755); // readable by the `mosquitto` user it drops to when started as root
  const confFile = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(confFile, configText(port, opts).join("\n") + "\n", { mode: 0o644 });

  const child = spawn(exe, ["-c", confFile, "-v"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (err) => {
      output += `spawn failed: ${err.message}\n`;
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await stopProcess(child, exited);
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return closing;
  };

  try {
    await waitForPort(port, child, opts.startTimeoutMs ?? 10_000);
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}; mosquitto output:\n${output.trim() || "(none)"}`);
  }
  return { port, logs: () => output, close };
}

function configText(port: number, opts: MosquittoOptions): string[] {
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    "log_type all",
  ];
  const t = opts.tls;
  if (t) {
    lines.push(`cafile ${t.caFile}`, `certfile ${t.certFile}`, `keyfile ${t.keyFile}`);
    lines.push(`require_certificate ${t.requireCertificate ? "true" : "false"}`);
    if (t.tlsVersion) lines.push(`tls_version ${t.tlsVersion}`);
  }
  return [...lines, ...(opts.extraConfig ?? [])];
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mosquitto exited during startup (code ${child.exitCode ?? child.signalCode})`);
    }
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
  child.kill("SIGTERM");
  const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(kill);
}
