/** Shared helpers for the factory suites: temp dirs, captured output, the in-process emulator and its REST API. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Log } from "../../src/log.js";
import { memorySink, systemClock } from "../../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";
import { factoryCommand } from "../../tools/factory/command.js";

export const FIXTURES = path.join(__dirname, "..", "fixtures", "factory");

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Runs `tbsdk factory …` with stdout and stderr captured. A thrown error is reported the way tools/cli.ts prints
 * it (its message on stderr), so `output` is everything a user would see.
 */
export async function runFactoryCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string; error?: Error }> {
  let output = "";
  const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await factoryCommand.run(args);
    return { code, output };
  } catch (e) {
    output += `tbsdk factory: ${(e as Error).message}\n`;
    return { code: 1, output, error: e as Error };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

export async function startTestEmulator(config?: unknown): Promise<RunningEmulator> {
  return startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision: "strict", log: new Log(memorySink(), systemClock()),
    ...(config !== undefined ? { config } : {}),
  });
}

export class Rest {
  private token = "";
  constructor(readonly base: string) {}
  async login(): Promise<void> {
    this.token = (await this.call<{ token: string }>("POST", "/api/auth/login", { username: "tenant@thingsboard.org", password: "tenant" })).token;
  }
  async call<T = any>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + p, {
      method,
      headers: { "content-type": "application/json", ...(this.token ? { "X-Authorization": `Bearer ${this.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  /** name → {id, credentials} for every device, in name order. */
  async devices(): Promise<Record<string, { id: string; type: string; credentials: { credentialsType: string; credentialsId: string; credentialsValue: string | null } }>> {
    const page = await this.call<{ data: { id: { id: string }; name: string; type: string }[] }>("GET", "/api/tenant/devices?pageSize=1000&page=0");
    const out: Record<string, any> = {};
    for (const d of [...page.data].sort((a, b) => a.name.localeCompare(b.name))) {
      const c = await this.call("GET", `/api/device/${d.id.id}/credentials`);
      out[d.name] = { id: d.id.id, type: d.type, credentials: { credentialsType: c.credentialsType, credentialsId: c.credentialsId, credentialsValue: c.credentialsValue } };
    }
    return out;
  }
}

export const PREPROVISIONED_PROFILE = {
  name: "esp32-factory",
  provisionType: "CHECK_PRE_PROVISIONED_DEVICES",
  provisionDeviceKey: "factory-prov-key-7f3a",
  provisionDeviceSecret: "factory-prov-secret-c91d",
};
