#!/usr/bin/env node
/**
 * The SDK's one command-line entry point: `tbsdk <subcommand> [flags]`.
 * Subcommands are registered here; each lives in its own module.
 */
import { runStart } from "./start.js";

interface Subcommand {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < args.length) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : fallback;
}

function integer(args: string[], name: string, fallback: number): number {
  const raw = flag(args, name, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  return n;
}

class UsageError extends Error {}

const SUBCOMMANDS: Record<string, Subcommand> = {
  start: {
    summary: "run a local broker and a simulated device sending telemetry (the laptop demo)",
    usage: "tbsdk start [--count N (0 = until Ctrl-C)] [--interval-ms MS] [--log-level E|W|I|D|V]",
    async run(args) {
      const level = flag(args, "log-level", "I");
      if (!["E", "W", "I", "D", "V"].includes(level)) throw new UsageError(`--log-level must be one of E W I D V`);
      const count = integer(args, "count", 0);
      const intervalMs = integer(args, "interval-ms", 2000);
      await runStart({ count, intervalMs, level: level as "I" });
      return 0;
    },
  },
};

function help(): string {
  const lines = ["usage: tbsdk <subcommand> [flags]", "", "subcommands:"];
  for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(10)} ${s.summary}`, `             ${s.usage}`);
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(help() + "\n");
    return name ? 0 : 2;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    process.stderr.write(`tbsdk: unknown subcommand "${name}"\n${help()}\n`);
    return 2;
  }
  if (args.includes("--help")) {
    process.stdout.write(sub.usage + "\n");
    return 0;
  }
  try {
    return await sub.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tbsdk ${name}: ${e.message}\nusage: ${sub.usage}\n`);
      return 2;
    }
    process.stderr.write(`tbsdk ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
