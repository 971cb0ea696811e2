/**
 * The Node host's file-backed NVS (hosts/node/nvs-file.ts): the port's limits, persistence across instances,
 * and power cuts at every flash step leaving exactly what NVS (modelled by the core tests' MemoryKeyValueStore)
 * would hold — including under the credential store.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { NvsFileFormatError, NvsFileStore, NvsLimitError, NvsPowerCutError } from "../../hosts/node/index.js";
import { CredentialStore, type CredentialRecord } from "../../src/credentials/index.js";
import { MemoryKeyValueStore, PowerCut } from "../core/support/memory-kv.js";

let root: string;
let dirs = 0;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "nvs-file-"));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
/** A fresh device directory. */
const deviceDir = () => path.join(root, `device-${++dirs}`);

const bytes = (...values: number[]) => new Uint8Array(values);
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

function dump(kv: { get(k: string): Uint8Array | undefined }, keys: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of keys) {
    const v = kv.get(k);
    out[k] = v === undefined ? null : Buffer.from(v).toString("hex");
  }
  return out;
}

describe("NvsFileStore", () => {
  it("enforces the port's limits and changes nothing when it refuses", () => {
    const kv = new NvsFileStore(deviceDir());
    kv.set("k", bytes(1));
    const before = fs.readFileSync(kv.file, "utf8");
    expect(() => kv.set("", bytes(1))).toThrow(NvsLimitError);
    expect(() => kv.set("a".repeat(16), bytes(1))).toThrow(NvsLimitError);
    expect(() => kv.get("a".repeat(16))).toThrow(NvsLimitError);
    expect(() => kv.delete("a".repeat(16))).toThrow(NvsLimitError);
    expect(() => kv.set("k", fill(4001, 7))).toThrow(NvsLimitError);
    expect(() => kv.set("k", [1, 2] as unknown as Uint8Array)).toThrow(NvsLimitError);
    expect(fs.readFileSync(kv.file, "utf8")).toBe(before);
    expect(kv.steps).toEqual([{ kind: "write", key: "k" }]);
    kv.set("a".repeat(15), fill(4000, 9));
    expect(kv.get("a".repeat(15))).toEqual(fill(4000, 9));
    kv.set("empty", new Uint8Array(0));
    expect(kv.get("empty")).toEqual(new Uint8Array(0));
    expect(() => new NvsFileStore(deviceDir(), { namespace: "a".repeat(16) })).toThrow(NvsLimitError);
    expect(() => new NvsFileStore(deviceDir(), { namespace: "../x" })).toThrow(NvsLimitError);
  });

  it("persists across instances, one file per namespace, and hands out copies", () => {
    const dir = deviceDir();
    const kv = new NvsFileStore(dir, { namespace: "cred" });
    const other = new NvsFileStore(dir, { namespace: "wifi" });
    const source = bytes(1, 2, 3);
    kv.set("cred.a", source.subarray(1)); // a view: only its bytes are stored
    other.set("ssid", bytes(9));
    source[1] = 99;
    const got = kv.get("cred.a")!;
    expect(got).toEqual(bytes(2, 3));
    got[0] = 42;
    expect(kv.get("cred.a")).toEqual(bytes(2, 3));
    kv.set("__proto__", bytes(5));
    kv.delete("absent"); // harmless, and no flash step
    expect(kv.steps.length).toBe(2);

    const again = new NvsFileStore(dir, { namespace: "cred" });
    expect(again.keys()).toEqual(["__proto__", "cred.a"]);
    expect(again.get("__proto__")).toEqual(bytes(5));
    expect(again.get("ssid")).toBeUndefined();
    expect(new NvsFileStore(dir, { namespace: "wifi" }).get("ssid")).toEqual(bytes(9));
    expect(fs.readdirSync(dir).sort()).toEqual(["cred.nvs.json", "wifi.nvs.json"]);
    expect(fs.statSync(again.file).mode & 0o777).toBe(0o600);
    again.delete("cred.a");
    expect(kv.get("cred.a")).toBeUndefined(); // every call reads the file: instances agree
    const content = JSON.parse(fs.readFileSync(again.file, "utf8"));
    expect([content.format, content.version, content.namespace]).toEqual(["tbsdk-nvs", 1, "cred"]);
    expect(Object.entries(content.entries)).toEqual([["__proto__", "BQ=="]]);
  });

  it("refuses a file it did not write, saying how to recover", () => {
    const dir = deviceDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "tbsdk.nvs.json"), "{not json");
    expect(() => new NvsFileStore(dir)).toThrow(NvsFileFormatError);
    fs.writeFileSync(path.join(dir, "tbsdk.nvs.json"), JSON.stringify({ entries: {} }));
    expect(() => new NvsFileStore(dir)).toThrow(/delete it to start with empty NVS/);
    // A temporary file left by a kill during a step is ignored: the real file is the last whole step.
    const dir2 = deviceDir();
    const kv = new NvsFileStore(dir2);
    kv.set("k", bytes(1));
    fs.writeFileSync(kv.file + ".tmp", "{torn");
    expect(kv.reboot().get("k")).toEqual(bytes(1));
    kv.set("k", bytes(2));
    expect(fs.existsSync(kv.file + ".tmp")).toBe(false);
  });

  it("survives a real kill -9 in the middle of writing: the file is always a whole step", async () => {
    // The real module, bundled for a plain node child that overwrites one key as fast as it can.
    const bundle = path.join(root, "nvs-file-child.js");
    buildSync({ entryPoints: [path.join(__dirname, "../../hosts/node/nvs-file.ts")], bundle: true, platform: "node", format: "cjs", outfile: bundle, logLevel: "silent" });
    const dir = deviceDir();
    const child = spawn(process.execPath, [
      "-e",
      `const { NvsFileStore } = require(${JSON.stringify(bundle)});
       const kv = new NvsFileStore(${JSON.stringify(dir)});
       for (let i = 1; ; i++) {
         kv.set("big", new Uint8Array(4000).fill(i & 255));
         kv.set("n", new Uint8Array([i & 255]));
         if (i === 5) process.stdout.write("running");
       }`,
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const kv = new NvsFileStore(dir);
    const big = kv.get("big");
    const n = kv.get("n");
    // Whole values only: absent (killed between erase and write) or 4000 equal bytes; never torn.
    if (big !== undefined) expect([big.length, big.every((b) => b === big[0])]).toEqual([4000, true]);
    if (n !== undefined) expect(n.length).toBe(1);
    expect(big !== undefined || n !== undefined).toBe(true);
  });

  /** A script of port calls touching every kind of step: new key, overwrite, delete, absent delete. */
  const script: ((kv: NvsFileStore | MemoryKeyValueStore) => void)[] = [
    (kv) => kv.set("a", bytes(1)),
    (kv) => kv.set("b", fill(4000, 2)),
    (kv) => kv.set("a", bytes(3, 3)),
    (kv) => kv.delete("absent"),
    (kv) => kv.delete("b"),
    (kv) => kv.set("b", bytes(4)),
    (kv) => kv.set("a", new Uint8Array(0)),
  ];
  const KEYS = ["a", "b", "absent"];
  const SCRIPT_STEPS = 8; // 1 + 1 + 2 + 0 + 1 + 1 + 2

  function runScript(kv: NvsFileStore | MemoryKeyValueStore): unknown {
    try {
      for (const call of script) call(kv);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it("leaves exactly what NVS would after a power cut at every step", () => {
    const reference = new MemoryKeyValueStore();
    runScript(reference);
    expect(reference.steps.length).toBe(SCRIPT_STEPS);
    let cutPoints = 0;
    for (let n = 1; n <= SCRIPT_STEPS; n++) {
      const file = new NvsFileStore(deviceDir(), { cutPowerAfter: n, fsync: n % 2 === 0 });
      const model = new MemoryKeyValueStore().cutPowerAfter(n);
      const fileError = runScript(file);
      expect(fileError).toBeInstanceOf(NvsPowerCutError);
      expect(runScript(model)).toBeInstanceOf(PowerCut);
      expect((fileError as NvsPowerCutError).step).toBe(n);
      expect(file.poweredOff).toBe(true);
      expect(() => file.get("a")).toThrow(NvsPowerCutError);
      expect(file.steps).toEqual(model.steps);
      expect(dump(file.reboot(), KEYS)).toEqual(dump(model.reboot(), KEYS));
      cutPoints++;
    }
    expect(cutPoints).toBe(SCRIPT_STEPS);
  });

  it("keeps the previous or the new credential record through a cut at every step of each save", () => {
    const token = (t: string, pending: boolean): CredentialRecord => ({
      credentials: { type: "ACCESS_TOKEN", token: t },
      host: "127.0.0.1",
      port: 1883,
      deviceName: "sim-device-1",
      provisionedAtMs: 1764149000000,
      pending,
    });
    const pemBlock = (label: string, n: number) => `-----BEGIN ${label}-----\n${"QUJD".repeat(n / 4)}\n-----END ${label}-----\n`;
    const x509: CredentialRecord = {
      ...token("x", false),
      credentials: { type: "X509_CERTIFICATE", certificatePem: pemBlock("CERTIFICATE", 2000), privateKeyPem: pemBlock("PRIVATE KEY", 3200) },
    };
    const saves = [token("pending-token-0123456789ab", true), token("pending-token-0123456789ab", false), x509, token("final-token-0123456789abcd", false)];
    const EXPECTED_STEPS = [1, 1, 3, 2]; // write a; write b; erase a + write a1 + write a; erase b + write b
    const dir = new NvsFileStore(deviceDir()).dir; // creates the (empty) device directory
    let previous: CredentialRecord | undefined;
    let cutPoints = 0;
    for (let i = 0; i < saves.length; i++) {
      const dry = fs.mkdtempSync(path.join(root, "dry-"));
      fs.cpSync(dir, dry, { recursive: true });
      const counter = new NvsFileStore(dry, { fsync: false });
      new CredentialStore(counter).save(saves[i]);
      expect(counter.steps.length).toBe(EXPECTED_STEPS[i]);
      for (let n = 1; n <= counter.steps.length; n++) {
        const trial = fs.mkdtempSync(path.join(root, "cut-"));
        fs.cpSync(dir, trial, { recursive: true });
        const kv = new NvsFileStore(trial, { cutPowerAfter: n });
        expect(() => new CredentialStore(kv).save(saves[i])).toThrow(NvsPowerCutError);
        const store = new CredentialStore(kv.reboot());
        const got = store.load().record;
        const candidates = previous === undefined ? [undefined, saves[i]] : [previous, saves[i]];
        expect(candidates.some((c) => JSON.stringify(c) === JSON.stringify(got))).toBe(true);
        store.save(token("later-token-0123456789abcd", false));
        expect(new CredentialStore(kv.reboot()).load().record).toEqual(token("later-token-0123456789abcd", false));
        cutPoints++;
      }
      new CredentialStore(new NvsFileStore(dir)).save(saves[i]);
      previous = saves[i];
    }
    expect(cutPoints).toBe(7);
    expect(new CredentialStore(new NvsFileStore(dir)).load().record).toEqual(saves[3]);
  });
});
