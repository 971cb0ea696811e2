/**
 * The Moddable SDK's lin tools, when a developer has them (MODDABLE set, mcconfig on PATH): build an app with
 * `mcconfig -d -m -p lin -t build` and run it in the simulator (mcsim) under a private Xvfb display, its trace()
 * output collected through a headless xsbug (tools/xsbug/log-server.ts). Nothing here builds the SDK itself.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { startXsbugLogServer, type XsbugLogServer } from "../xsbug/log-server.js";
import { readNvsImage } from "../factory/nvs-reader.js";
import { preferenceValue } from "../factory/preference-view.js";
import { buildNvsImage } from "../factory/nvs-image.js";
import { factoryEntries, settingsFromKeys } from "../factory/sdk-settings.js";
import { CREDENTIALS_NAMESPACE, FACTORY_NAMESPACE } from "../../src/settings/keys.js";

/** This package's root (where package.json is), from the sources under ts-jest or the build under dist/. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "tb-esp32-sdk") return dir;
    if (path.dirname(dir) === dir) throw new Error(`package root not found above ${__dirname}`);
  }
}

/** The firmware app's folder (mcconfig names the build after it). */
export function firmwareAppDir(): string {
  return path.join(packageRoot(), "hosts", "esp32");
}

export interface ModdableTools {
  moddable: string;
  mcconfig: string;
  mcsim: string;
  xvfb: string;
}

function which(cmd: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The tools, or the reason the Moddable tests cannot run here. */
export function findModdable(): ModdableTools | { missing: string } {
  const moddable = process.env.MODDABLE;
  if (!moddable) return { missing: "MODDABLE is not set (install the Moddable SDK and export MODDABLE to run this test)" };
  const mcconfig = which("mcconfig");
  if (!mcconfig) return { missing: "mcconfig is not on PATH (add $MODDABLE/build/bin/lin/release)" };
  const mcsim = [path.join(moddable, "build/bin/lin/release/mcsim"), path.join(moddable, "build/bin/lin/debug/mcsim")].find((f) => fs.existsSync(f)) ?? which("mcsim");
  if (!mcsim) return { missing: "mcsim was not found under $MODDABLE/build/bin/lin" };
  const xvfb = which("Xvfb");
  if (!xvfb) return { missing: "Xvfb is not installed (apt-get install xvfb): mcsim needs an X display" };
  return { moddable, mcconfig, mcsim, xvfb };
}

/** Builds the app in `appDir` for lin (debug) and returns the path of its mc.so. Uses this project's tsc. */
export function buildForLin(tools: ModdableTools, appDir: string): string {
  const env = { ...process.env, PATH: `${path.join(packageRoot(), "node_modules/.bin")}${path.delimiter}${process.env.PATH}` };
  try {
    execFileSync(tools.mcconfig, ["-d", "-m", "-p", "lin", "-t", "build"], { cwd: appDir, env, encoding: "utf8", stdio: "pipe", maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    const out = `${err.stdout ?? ""}\n${err.stderr ?? ""}`.split("\n").filter((l) => !/^# (cc|xsc|tsc) /.test(l));
    throw new Error(`mcconfig failed in ${appDir}:\n${out.slice(-40).join("\n")}`);
  }
  const app = path.basename(appDir);
  const candidates = [path.join(tools.moddable, "build/bin/lin/mc/debug", app, "mc.so"), path.join(tools.moddable, "build/bin/lin/debug", app, "mc.so")];
  const built = candidates.filter((f) => fs.existsSync(f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!built[0]) throw new Error(`mcconfig succeeded but no mc.so in ${candidates.join(" or ")}`);
  return built[0];
}

export interface Display {
  display: string;
  stop(): void;
}

/** A private Xvfb display on the first free number from :90. */
export async function startXvfb(tools: ModdableTools): Promise<Display> {
  for (let n = 90; n < 140; n++) {
    if (fs.existsSync(`/tmp/.X11-unix/X${n}`) || fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const child = spawn(tools.xvfb, [`:${n}`, "-screen", "0", "640x480x24", "-nolisten", "tcp"], { stdio: "ignore" });
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(`/tmp/.X11-unix/X${n}`) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (child.exitCode === null && fs.existsSync(`/tmp/.X11-unix/X${n}`)) return { display: `:${n}`, stop: () => child.kill("SIGTERM") };
    child.kill("SIGKILL");
  }
  throw new Error("no free X display number for Xvfb");
}

export interface SimulatorRun {
  /** Every trace() line, in order. */
  readonly lines: string[];
  readonly child: ChildProcess;
  /** Highest value of each instrumentation figure xsbug received (sampled about once a second). */
  readonly peaks: Record<string, number>;
  /** SIGKILL: the board loses power. */
  powerOff(): Promise<void>;
}

/** Runs mc.so in mcsim with a headless xsbug collecting its output. */
export async function runSimulator(tools: ModdableTools, mcSo: string, display: Display, onLine?: (line: string) => void): Promise<SimulatorRun> {
  const lines: string[] = [];
  const push = (l: string) => {
    lines.push(l);
    onLine?.(l);
  };
  const peaks: Record<string, number> = {};
  let names: string[] = [];
  const xsbug: XsbugLogServer = await startXsbugLogServer({
    onLine: push,
    onEvent: (e) => {
      if (e.kind === "instruments") names = e.names;
      if (e.kind === "samples") e.values.forEach((v, i) => { const n = names[i]; if (n && !(v <= (peaks[n] ?? -Infinity))) peaks[n] = v; });
    },
  });
  const child = spawn(tools.mcsim, [mcSo], {
    env: { ...process.env, DISPLAY: display.display, XSBUG_HOST: "127.0.0.1", XSBUG_PORT: String(xsbug.port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // mcsim's own stdout/stderr ("XS abort: …", GTK warnings) go to the same list.
  for (const s of [child.stdout, child.stderr]) {
    s?.on("data", (d: Buffer) => {
      for (const l of d.toString().split("\n")) if (l.trim() !== "") push(`mcsim: ${l}`);
    });
  }
  return {
    lines,
    child,
    peaks,
    powerOff: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
      await xsbug.close();
    },
  };
}

/** Moddable's Preference on lin: one JSON file for every app, `{domain: {key: value}}`, blobs as {buffer: "1,2,3"}. */
export const LIN_PREFERENCES_FILE = "/tmp/modpreferences.json";

export type LinPreferences = Record<string, Record<string, unknown>>;

export function readLinPreferences(): LinPreferences {
  try {
    return JSON.parse(fs.readFileSync(LIN_PREFERENCES_FILE, "utf8")) as LinPreferences;
  } catch {
    return {};
  }
}

export function writeLinPreferences(p: LinPreferences): void {
  fs.writeFileSync(LIN_PREFERENCES_FILE, JSON.stringify(p));
}

/** A blob as lin's Preference stores it. */
export function linBlob(bytes: Uint8Array): { buffer: string } {
  return { buffer: Array.from(bytes).join(",") };
}

/**
 * What a flashed NVS image's namespace looks like to the firmware's Preference.get on ESP32 — u8 → boolean,
 * i32 → number, string, blob → ArrayBuffer — written the way lin's Preference stores it. This is how a factory
 * image (`tbsdk factory`) reaches the firmware in the simulator, which has no NVS partition.
 */
export function linPreferencesFromNvs(image: Uint8Array, namespace: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(readNvsImage(image)[namespace] ?? {})) {
    const value = preferenceValue(v, key);
    out[key] = value instanceof ArrayBuffer ? linBlob(new Uint8Array(value)) : value;
  }
  return out;
}

/** The firmware's nvs partition (hosts/esp32/partitions.csv). */
export const FIRMWARE_NVS_BYTES = 0x6000;

/**
 * A board's factory image on lin, the production path: settings (by NVS key) → the factory tool's entries
 * (validated by the firmware's resolver) → an NVS image → its tb_factory namespace planted in lin's Preference
 * file. `keepCredentials` = the same board (its tb_cred domain survives); otherwise a fresh one. Returns the image.
 */
export function plantFactoryImage(values: Record<string, unknown>, keepCredentials: boolean): Uint8Array {
  const name = String(values.dev_name ?? "device");
  const image = buildNvsImage(factoryEntries(settingsFromKeys(values, name), name), FIRMWARE_NVS_BYTES);
  const prefs = readLinPreferences();
  prefs[FACTORY_NAMESPACE] = linPreferencesFromNvs(image, FACTORY_NAMESPACE);
  if (!keepCredentials) delete prefs[CREDENTIALS_NAMESPACE];
  writeLinPreferences(prefs);
  return image;
}
