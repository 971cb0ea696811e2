/**
 * Secrets the monitor must never print: `--redact VALUE`, `--redact-file FILE` (one per line), and the secret
 * settings (src/settings/keys.ts, `secret: true`) of a factory CSV (NVS CSV `key,type,encoding,value`) or JSON.
 * Every occurrence becomes `[redacted]` (src/log.ts's REDACTED), on screen and in the --log file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REDACTED } from "../../src/log.js";
import { SETTINGS } from "../../src/settings/keys.js";
import { parseNvsCsv } from "../factory/nvs-image.js";

export class Redactor {
  readonly secrets: readonly string[];
  private readonly re: RegExp | undefined;

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is replaced whole; one pass, so "[redacted]" is never rescanned.
    this.secrets = [...new Set([...secrets].filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.re = this.secrets.length ? new RegExp(this.secrets.map(escapeRegExp).join("|"), "g") : undefined;
  }

  redact(text: string): string {
    return this.re ? text.replace(this.re, REDACTED) : text;
  }

  /**
   * How many characters at the end of `text` could be the start of a secret that the next chunk completes: an
   * unfinished line is shown only up to there, so a secret is never printed in part.
   */
  holdBack(text: string): number {
    let longest = 0;
    for (const s of this.secrets) {
      for (let n = Math.min(s.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(s.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The NVS keys (and SDK names) of the secret settings. */
export function secretSettingKeys(): Set<string> {
  const keys = new Set<string>();
  for (const [name, d] of Object.entries(SETTINGS)) {
    if (d.secret) {
      keys.add(d.key);
      keys.add(name);
    }
  }
  return keys;
}

/**
 * A secret value, and each line of it when it has several (a PEM key is printed line by line, if at all).
 * PEM armour lines ("-----BEGIN …") are not secret.
 */
export function secretForms(value: string): string[] {
  const out = [value];
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r\n|\r|\n/)) {
      const t = line.trim();
      if (t.length >= 8 && !t.startsWith("-----")) out.push(t);
    }
  }
  return out.filter((s) => s.length > 0);
}

/** One secret per line (CR LF or LF); empty lines skipped, nothing else is trimmed. */
export function secretsFromLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

/** The values of secret settings in a factory file: NVS CSV (`key,type,encoding,value`) or JSON (any nesting). */
export function secretsFromFactoryFile(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const keys = secretSettingKeys();
  const values: string[] = [];
  if (/\.json$/i.test(file) || /^\s*[{[]/.test(text)) {
    collectJson(JSON.parse(text), keys, values, false);
  } else {
    const dir = path.dirname(file);
    for (const e of parseNvsCsv(text, (p) => new Uint8Array(fs.readFileSync(path.resolve(dir, p))))) {
      if (e.kind === "namespace" || !keys.has(e.key)) continue;
      if (e.kind === "string") values.push(e.value);
      else if (e.kind === "blob") {
        const t = utf8OrUndefined(e.value);
        if (t !== undefined) values.push(t);
      }
    }
  }
  return values.flatMap(secretForms);
}

function collectJson(v: unknown, keys: Set<string>, out: string[], isSecret: boolean): void {
  if (typeof v === "string") {
    if (isSecret) out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) collectJson(x, keys, out, isSecret);
  } else if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (isSecret) {
      // A secret's value written as {type, value} or {base64}: only the value is secret, not "string" or "blob".
      if (typeof o.base64 === "string") {
        const t = utf8OrUndefined(new Uint8Array(Buffer.from(o.base64, "base64")));
        if (t !== undefined) out.push(t);
      }
      if ("value" in o) collectJson(o.value, keys, out, true);
      return;
    }
    for (const [k, x] of Object.entries(o)) collectJson(x, keys, out, keys.has(k));
  }
}

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/\0+$/, "");
  } catch {
    return undefined;
  }
}
