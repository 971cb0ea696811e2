/**
 * `tbsdk factory nvs …` (a generic NVS partition image from the reference generator's CSV, or JSON) and
 * `tbsdk factory run …` (per-device factory images of the firmware's settings, plus server registration).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CREDENTIAL_MODES, type CredentialMode } from "../../src/settings/keys.js";
import { flag, has, optionalFlag, UsageError, type Subcommand } from "../args.js";
import { buildNvsImage, NvsImageError, nvsEntriesFromJson, parseNvsCsv, type NvsJsonValue } from "./nvs-image.js";
import { FactoryError } from "./sdk-settings.js";
import { RestError } from "./registry.js";
import { runFactory, type FactoryStrategy } from "./run.js";

const NVS_USAGE = "tbsdk factory nvs --csv FILE|--json FILE --size 0x6000 --out FILE [--version 2]";
const RUN_USAGE =
  "tbsdk factory run --devices devices.csv --settings common.json --out DIR [--size 0x6000] [--version 2] " +
  "[--strategy preprovisioned|provision] [--credentials token|server|mqtt-basic|x509] [--profile NAME] " +
  "[--bulk-csv FILE] [--register URL --username U (--password P | env TBSDK_PASSWORD) [--register-mode bulk|device]]";

/** A size flag: decimal or 0x hex. */
export function parseSize(args: string[], fallback?: number): number {
  const raw = optionalFlag(args, "size");
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError("--size is required (e.g. 0x6000)");
    return fallback;
  }
  const n = /^0x[0-9a-f]+$/i.test(raw) ? parseInt(raw.slice(2), 16) : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n % 4096 !== 0 || n < 0x3000) throw new UsageError(`--size must be a multiple of 0x1000, at least 0x3000, got "${raw}"`);
  return n;
}

function parseVersion(args: string[]): 1 | 2 {
  const v = flag(args, "version", "2");
  if (v !== "1" && v !== "2") throw new UsageError(`--version must be 1 or 2, got "${v}"`);
  return Number(v) as 1 | 2;
}

function required(args: string[], name: string): string {
  const v = optionalFlag(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** Replaces every secret (longest first) by [redacted]. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(s).join("[redacted]");
  return out;
}

export async function runNvs(args: string[], write: (line: string) => void): Promise<number> {
  const csv = optionalFlag(args, "csv");
  const json = optionalFlag(args, "json");
  if ((csv === undefined) === (json === undefined)) throw new UsageError("give exactly one of --csv FILE and --json FILE");
  const size = parseSize(args);
  const version = parseVersion(args);
  const outFile = required(args, "out");
  const input = (csv ?? json)!;
  let text: string;
  try {
    text = fs.readFileSync(input, "utf8");
  } catch (e) {
    throw new UsageError(`${csv ? "--csv" : "--json"} ${input}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let image: Uint8Array;
  try {
    // File rows are relative to the working directory, as with the reference generator.
    const entries = csv
      ? parseNvsCsv(text, (p) => new Uint8Array(fs.readFileSync(path.resolve(p))))
      : nvsEntriesFromJson(parseJsonObject(text, input));
    image = buildNvsImage(entries, size, { version });
  } catch (e) {
    if (e instanceof NvsImageError) throw new FactoryError(`${input}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new FactoryError(`${input}: a file row names a missing file (${(e as NodeJS.ErrnoException).path ?? "?"})`);
    throw e;
  }
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.writeFileSync(outFile, image);
  write(`factory nvs: ${outFile} (0x${size.toString(16)} bytes, NVS v${version}, sha256 ${createHash("sha256").update(image).digest("hex")})`);
  return 0;
}

function parseJsonObject(text: string, file: string): Record<string, Record<string, NvsJsonValue>> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new FactoryError(`${file}: not JSON (${(e as Error).message.replace(/ in JSON at.*/, "")})`);
  }
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(o) || !Object.values(o as object).every(isObject)) throw new FactoryError(`${file}: expected {"namespace": {"key": value, …}, …}`);
  return o as Record<string, Record<string, NvsJsonValue>>;
}

export async function runFactoryCommand(args: string[], write: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const strategy = flag(args, "strategy", "preprovisioned");
  if (strategy !== "preprovisioned" && strategy !== "provision") throw new UsageError("--strategy must be preprovisioned or provision");
  const credentials = optionalFlag(args, "credentials");
  if (credentials !== undefined && !(CREDENTIAL_MODES as readonly string[]).includes(credentials)) {
    throw new UsageError(`--credentials must be one of ${CREDENTIAL_MODES.join(", ")}`);
  }
  const url = optionalFlag(args, "register");
  let register: { url: string; username: string; password: string; mode: "bulk" | "device" } | undefined;
  if (url !== undefined) {
    const password = optionalFlag(args, "password") ?? env.TBSDK_PASSWORD;
    if (password === undefined) throw new UsageError("--register needs --password P (or TBSDK_PASSWORD in the environment)");
    const mode = flag(args, "register-mode", "bulk");
    if (mode !== "bulk" && mode !== "device") throw new UsageError("--register-mode must be bulk or device");
    register = { url, username: required(args, "username"), password, mode };
  }
  const secrets = new Set<string>();
  if (register) secrets.add(register.password);
  try {
    const bulkCsv = optionalFlag(args, "bulk-csv");
    const profile = optionalFlag(args, "profile");
    await runFactory({
      devicesFile: required(args, "devices"),
      settingsFile: required(args, "settings"),
      outDir: required(args, "out"),
      size: parseSize(args, 0x6000),
      nvsVersion: parseVersion(args),
      strategy: strategy as FactoryStrategy,
      ...(credentials ? { credentials: credentials as CredentialMode } : {}),
      ...(profile ? { profile } : {}),
      ...(bulkCsv ? { bulkCsv } : {}),
      ...(register ? { register } : {}),
      out: (line) => write(redact(line, secrets)),
      secrets,
    });
    return 0;
  } catch (e) {
    // Messages are written without secret values; redaction is the second line of defence.
    if (e instanceof UsageError) throw new UsageError(redact(e.message, secrets));
    if (e instanceof FactoryError || e instanceof RestError) throw new FactoryError(redact(e.message, secrets));
    throw new Error(redact(e instanceof Error ? e.message : String(e), secrets));
  }
}

export const factoryCommand: Subcommand = {
  summary: "factory images: NVS partitions from CSV/JSON (nvs), or per-device firmware settings + server registration (run)",
  usage: `${NVS_USAGE}\n       ${RUN_USAGE}`,
  async run(args) {
    const [what, ...rest] = args;
    const write = (line: string) => void process.stdout.write(line + "\n");
    if (has(rest, "help")) {
      write(what === "nvs" ? NVS_USAGE : RUN_USAGE);
      return 0;
    }
    if (what === "nvs") return runNvs(rest, write);
    if (what === "run") return runFactoryCommand(rest, write);
    throw new UsageError(what === undefined ? "factory needs nvs or run" : `unknown factory command "${what}" (nvs or run)`);
  },
};
