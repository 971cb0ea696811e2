/**
 * Bundles core test suites + the expect shim into one plain script for the XS engine.
 *
 * The script installs the shim's Jest-like globals, loads each suite file (tagging its tests with the
 * file name), runs every test, and hands the RunResult to `globalThis.__report` (defined by
 * xsnap-runner.js). Node built-ins are refused at bundle time: the core must not need them.
 */
import { existsSync } from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { build, type BuildFailure, type Message, type Plugin } from "esbuild";

export interface BundleOptions {
  /** Directory that file labels are relative to (default: the current working directory). */
  rootDir?: string;
}

const BUILTINS = new Set(builtinModules);

function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith("node:")) return true;
  // "fs/promises" -> "fs"; also catches npm polyfills named like built-ins ("buffer", "events"), which
  // would resolve silently on Node but are not what the device has.
  return BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]);
}

/** Fails the build on any import of a Node built-in, naming the importing file. */
function refuseNodeBuiltins(rootDir: string): Plugin {
  return {
    name: "refuse-node-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point" || !isNodeBuiltin(args.path)) return undefined;
        const importer = args.importer ? path.relative(rootDir, args.importer) : "(entry)";
        return {
          errors: [
            {
              text:
                `"${args.path}" is a Node built-in (imported by ${importer}); core code and core suites must run on XS. ` +
                "Node-only tests belong in test/node/.",
            },
          ],
        };
      });
    },
  };
}

/**
 * Globals that xsnap's worker adds but Moddable's device runtime lacks. The bundle deletes them first so
 * a core module that leans on them fails here rather than on the device. (The runner's prelude has
 * already captured issueCommand/TextEncoder for __report.) `trace`, `harden` and `Compartment` stay:
 * Moddable has them too.
 */
export const XSNAP_ONLY_GLOBALS = [
  "TextEncoder",
  "TextDecoder",
  "Base64",
  "setImmediate",
  "performance",
  "print",
  "gc",
  "issueCommand",
  "currentMeterLimit",
  "resetMeter",
];

/**
 * Moddable's linker freezes every built-in constructor and prototype once preloading is done, so on a device
 * `this.name = "X"` in an Error subclass throws ("set name: not writable"), and so does any patch of a built-in.
 * xsnap leaves them writable; freezing them here makes the core's suites meet the device's rules.
 */
const FREEZE_BUILTINS = `{
  const seen = new Set();
  const freezeAll = (o) => { if ((typeof o === "object" || typeof o === "function") && o !== null && !seen.has(o)) { seen.add(o); Object.freeze(o); } };
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    const v = globalThis[name];
    if (typeof v === "function" && /^[A-Z]/.test(name)) { freezeAll(v); freezeAll(v.prototype); }
    else if (name === "Math" || name === "JSON" || name === "Reflect" || name === "Atomics") freezeAll(v);
  }
  freezeAll(Object.getPrototypeOf(Uint8Array)); freezeAll(Object.getPrototypeOf(Uint8Array).prototype);
  freezeAll(Object.getPrototypeOf(function* () {}).prototype);
}`;

/** The shim as source (.ts next to this file under ts-jest) or compiled (.js under dist/). */
function shimPath(): string {
  for (const ext of [".ts", ".js"]) {
    const candidate = path.join(__dirname, `expect-shim${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`expect-shim not found next to ${__filename}`);
}

/**
 * The entry uses require() on purpose: it makes load order explicit (globals first, then each suite,
 * each preceded by setCurrentFile) and lets a suite whose top level throws be reported instead of
 * aborting the whole script. esbuild turns each require into an in-bundle lazy module init.
 */
function entrySource(shim: string, files: { abs: string; label: string }[]): string {
  const lines = [
    `for (const name of ${JSON.stringify(XSNAP_ONLY_GLOBALS)}) delete globalThis[name];`,
    `const shim = require(${JSON.stringify(shim)});`,
    "shim.installGlobals();",
    FREEZE_BUILTINS,
    ...files.map(
      ({ abs, label }) =>
        `shim.setCurrentFile(${JSON.stringify(label)});\n` +
        `try { require(${JSON.stringify(abs)}); } catch (error) { shim.recordLoadError(${JSON.stringify(label)}, error); }`,
    ),
    "shim.runAll().then(",
    "  (result) => globalThis.__report(result),",
    "  (error) => globalThis.__report({ passed: 0, failed: [{ name: '(runner)', error: String(error && error.stack || error) }], tests: [], registered: 0, skipped: [], files: {} }),",
    ");",
  ];
  return lines.join("\n");
}

function formatMessages(messages: Message[]): string {
  return messages
    .map((m) => {
      const where = m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : "";
      return `${where}${m.text}`;
    })
    .join("\n");
}

/** Bundles the given suite files into one XS-ready script (IIFE, ES2022, no Node built-ins). */
export async function bundleCoreSuites(files: string[], options: BundleOptions = {}): Promise<string> {
  if (files.length === 0) throw new Error("bundleCoreSuites: no suite files given");
  const rootDir = path.resolve(options.rootDir ?? process.cwd());
  const suites = files.map((f) => {
    const abs = path.resolve(rootDir, f);
    return { abs, label: path.relative(rootDir, abs).split(path.sep).join("/") };
  });

  let result;
  try {
    result = await build({
      stdin: { contents: entrySource(shimPath(), suites), resolveDir: rootDir, sourcefile: "xs-entry.js", loader: "js" },
      bundle: true,
      write: false,
      format: "iife",
      platform: "neutral",
      target: "es2022",
      // platform "neutral" has no main fields; allow plain-JS packages should a core suite ever need one.
      mainFields: ["module", "main"],
      // Suites import "../../src/x.js": esbuild itself falls back to x.ts when x.js does not exist
      // (TypeScript's convention), so no resolver plugin is needed.
      plugins: [refuseNodeBuiltins(rootDir)],
      logLevel: "silent",
      charset: "ascii",
      legalComments: "none",
      // XS stacks name bundle lines ("at f (#1:123)"); an inline map lets mapXsStack() point at the suites.
      sourcemap: "inline",
      sourcesContent: false,
      absWorkingDir: rootDir,
    });
  } catch (error) {
    const failure = error as BuildFailure;
    if (Array.isArray(failure.errors)) throw new Error(`XS bundle failed:\n${formatMessages(failure.errors)}`);
    throw error;
  }
  const code = result.outputFiles[0].text;
  // esbuild emits a `__require` helper only for require() calls it could not bundle (dynamic ones): in
  // XS there is no require, so that would fail at run time. Refuse it here with a clear message.
  if (/\b__require\s*=/.test(code)) {
    throw new Error("XS bundle contains a dynamic require() that esbuild could not resolve; core code must use static imports.");
  }
  return code;
}

// ---------------------------------------------------------------------------------------------
// Stack mapping: turn XS frames "(#1:LINE)" (bundle lines) into "(test/core/x.test.ts:LINE)".

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** For each generated line, the original [sourceIndex, line] of its first mapped segment. */
function firstMappingPerLine(mappings: string): ([number, number] | undefined)[] {
  const result: ([number, number] | undefined)[] = [];
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  for (const generatedLine of mappings.split(";")) {
    let first: [number, number] | undefined;
    for (const segment of generatedLine.split(",")) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      // fields: [generatedColumn, source, originalLine, originalColumn, name?], all but the first relative.
      if (fields.length >= 4) {
        source += fields[1];
        line += fields[2];
        column += fields[3];
        if (fields.length >= 5) name += fields[4];
        first ??= [source, line];
      }
    }
    result.push(first);
  }
  return result;
}

/**
 * Rewrites XS stack frames in `text` to source locations using the bundle's inline source map, and
 * drops frames inside the shim and the generated entry (noise in a failure report).
 */
export function mapXsStack(text: string, bundleCode: string, maxFrames = 5): string {
  const match = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(bundleCode);
  if (!match) return text;
  const map = JSON.parse(Buffer.from(match[1], "base64").toString("utf8")) as { sources: string[]; mappings: string };
  const lines = firstMappingPerLine(map.mappings);
  let kept = 0;
  const out: string[] = [];
  for (const rawLine of text.split("\n")) {
    const frame = /^(\s*at .*?)\(#\d+:(\d+)\)\s*$/.exec(rawLine);
    if (!frame && /^\s*at /.test(rawLine)) continue; // host frames such as "at ()" / "at eval ()"
    if (!frame) {
      out.push(rawLine);
      continue;
    }
    const mapped = lines[Number(frame[2]) - 1];
    const source = mapped ? map.sources[mapped[0]] : undefined;
    if (!mapped || !source || /expect-shim\.[jt]s$|xs-entry\.js$/.test(source)) continue;
    if (kept++ < maxFrames) out.push(`${frame[1]}(${source}:${mapped[1] + 1})`);
  }
  return out.join("\n");
}
