/**
 * What every `tbsdk` subcommand shares: the Subcommand shape and flag parsing. A subcommand lives in its own module
 * (e.g. tools/flash/command.ts exports `flashCommand`) and is registered in tools/cli.ts.
 */

export interface Subcommand {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

/** The value of `--name V` or `--name=V`; the last occurrence wins (so flags override a config file's). */
export function flag(args: string[], name: string, fallback: string): string {
  for (let i = args.length - 1; i >= 0; i--) {
    if (args[i] === `--${name}` && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return fallback;
}

export function integer(args: string[], name: string, fallback: number): number {
  const raw = flag(args, name, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  return n;
}

/** Every value of a repeatable flag (`--image A --image B`, or `--image=A`), in order. */
export function allFlags(args: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) out.push(args[++i]);
    else if (args[i].startsWith(`--${name}=`)) out.push(args[i].slice(name.length + 3));
  }
  return out;
}

export function has(args: string[], name: string): boolean {
  return args.includes(`--${name}`);
}

export function optionalFlag(args: string[], name: string): string | undefined {
  const v = flag(args, name, "");
  return v === "" ? undefined : v;
}

/** A mistake on the command line: printed with the subcommand's usage, exit code 2. */
export class UsageError extends Error {}
