/**
 * The firmware app (hosts/esp32) on Moddable's real runtime: built with `mcconfig -d -m -p lin -t build`, run in
 * the simulator mcsim under Xvfb, against the emulator. Checked from the emulator's REST API: the device
 * provisioned, stored its credentials (Preference), came back after a power cut without provisioning again, and
 * sent telemetry — over plain TCP and over TLS 1.2 (SecureSocket, CA and host name verified) — and its XS heap does
 * not grow between message 100 and 1,000.
 *
 * Needs the Moddable SDK (MODDABLE set, mcconfig on PATH) and Xvfb; otherwise it is skipped and says why.
 * Settings reach the firmware as on a production line: the factory tool's code makes a per-device NVS image, and its
 * tb_factory namespace is planted in lin's Preference file with ESP32 Preference's types (lin has no NVS partition).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Log } from "../../src/log.js";
import { FACTORY_NAMESPACE, CREDENTIALS_NAMESPACE } from "../../src/settings/keys.js";
import { memorySink, systemClock } from "../../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";
import { makeTestPki } from "../support/certs.js";
import { runSim } from "../../tools/sim.js";
import {
  buildForLin, findModdable, firmwareAppDir, plantFactoryImage, readLinPreferences, runSimulator, startXvfb, writeLinPreferences,
  LIN_PREFERENCES_FILE, type Display, type ModdableTools, type SimulatorRun,
} from "../support/moddable.js";

const APP_DIR = firmwareAppDir();
const KEY = "lin-provision-key";
const SECRET = "lin-provision-secret-0123";
const found = findModdable();

/** The instrumentation figures worth reporting. */
function pick(peaks: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(peaks)) if (/^(Chunk|Slot|Stack) (used|available)$/.test(k)) out[k] = v;
  return out;
}
const tools: ModdableTools | undefined = "missing" in found ? undefined : found;

if (!tools) {
  describe("firmware app on Moddable lin (mcconfig + mcsim)", () => {
    it.skip(`SKIPPED: ${(found as { missing: string }).missing}`, () => {});
  });
  // Visible in the Jest output, not only as a skipped count.
  console.warn(`firmware-lin.test.ts SKIPPED: ${(found as { missing: string }).missing}`);
} else {
  describe("firmware app on Moddable lin (mcconfig + mcsim)", () => {
    let emulator: RunningEmulator;
    let display: Display;
    let mcSo: string;
    let savedPreferences: string | undefined;
    let token: string;
    const runs: SimulatorRun[] = [];
    const provisions: string[] = [];
    const pki = makeTestPki();
    const report: string[] = [];

    beforeAll(async () => {
      mcSo = buildForLin(tools, APP_DIR);
      savedPreferences = fs.existsSync(LIN_PREFERENCES_FILE) ? fs.readFileSync(LIN_PREFERENCES_FILE, "utf8") : undefined;
      display = await startXvfb(tools);
      emulator = await startEmulator({
        bind: "127.0.0.1", mqttPort: 0, httpPort: 0, mqttsPort: 0, reprovision: "strict", maxPointsPerKey: 5000,
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, source: "test PKI" },
        config: { profiles: [{ name: "lin", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }] },
        log: new Log(memorySink(), systemClock()),
      });
      emulator.subscribe((e) => {
        if (e.type === "provisioned") provisions.push(`${e.deviceName}:${e.status}`);
      });
      token = await login();
    }, 15 * 60_000);

    afterAll(async () => {
      for (const r of runs) await r.powerOff();
      await emulator?.close();
      display?.stop();
      if (savedPreferences === undefined) fs.rmSync(LIN_PREFERENCES_FILE, { force: true });
      else fs.writeFileSync(LIN_PREFERENCES_FILE, savedPreferences);
      if (report.length) console.log(`firmware on lin:\n  ${report.join("\n  ")}`);
    });

    /** Factory settings for a TLS device verifying the emulator's certificate against `caDer`. */
    function tlsSettings(name: string, caDer: Uint8Array, extra: Record<string, unknown> = {}): Record<string, unknown> {
      return {
        tb_host: "127.0.0.1", tb_port: emulator.mqttsPort, tb_tls: true, tb_sni: "localhost", tb_ca: caDer,
        prov_key: KEY, prov_secret: SECRET, dev_name: name, tm_interval: 100, ...extra,
      };
    }

    async function boot(): Promise<SimulatorRun> {
      const run = await runSimulator(tools!, mcSo, display);
      runs.push(run);
      return run;
    }

    /** GET on the emulator's REST API. One retry on a reset: a kept-alive connection can close under a request after a long build. */
    async function get(p: string): Promise<Response> {
      const go = () => fetch(`http://127.0.0.1:${emulator.httpPort}${p}`, { headers: { "X-Authorization": `Bearer ${token}` } });
      try {
        return await go();
      } catch {
        return go();
      }
    }

    async function api(p: string): Promise<any> {
      const r = await get(p);
      if (r.status !== 200) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
      return r.json();
    }

    async function login(): Promise<string> {
      const r = await fetch(`http://127.0.0.1:${emulator.httpPort}/api/auth/login`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
      });
      return ((await r.json()) as { token: string }).token;
    }

    async function deviceByName(name: string): Promise<any | undefined> {
      const r = await get(`/api/tenant/devices?deviceName=${encodeURIComponent(name)}`);
      return r.status === 200 ? r.json() : undefined;
    }

    /** Every telemetry point of `keys` as rows keyed by ts, oldest first. */
    async function telemetryRows(deviceId: string, keys: string[]): Promise<Record<string, number>[]> {
      const data = await api(`/api/plugins/telemetry/DEVICE/${deviceId}/values/timeseries?keys=${keys.join(",")}&startTs=0&endTs=${Date.now() + 60_000}&limit=100000&orderBy=ASC&useStrictDataTypes=true`);
      const rows = new Map<number, Record<string, number>>();
      for (const k of keys) for (const p of data[k] ?? []) rows.set(p.ts, { ...(rows.get(p.ts) ?? { ts: p.ts }), [k]: Number(p.value) });
      return [...rows.values()].sort((a, b) => a.ts - b.ts);
    }

    /** Polls the REST API until the device sent a message with seq >= n after `since`. */
    async function waitForSeq(name: string, n: number, since: number, run: SimulatorRun, ms: number): Promise<Record<string, number>[]> {
      const deadline = Date.now() + ms;
      for (;;) {
        const d = await deviceByName(name);
        if (d) {
          const rows = (await telemetryRows(d.id.id, ["seq", "xs_slot_used", "xs_chunk_used"])).filter((r) => r.ts >= since);
          if (rows.some((r) => r.seq >= n)) {
            // The server has the messages; the firmware's own lines travel separately (xsbug) and can lag. Its
            // "acked" line comes after every line the assertions look at, so wait for one before the power cut.
            const lineDeadline = Date.now() + 10_000;
            while (!run.lines.some((l) => /telemetry: telemetry #\d+ acked/.test(l)) && Date.now() < lineDeadline) await new Promise((r) => setTimeout(r, 50));
            return rows;
          }
        }
        if (run.child.exitCode !== null || run.child.signalCode !== null || Date.now() > deadline) {
          throw new Error(`no telemetry seq ${n} from ${name} (simulator ${run.child.exitCode ?? run.child.signalCode ?? "running"}); its log:\n${run.lines.slice(-40).join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    const secrets = [KEY, SECRET];
    function expectNoSecrets(lines: string[]): void {
      for (const s of secrets) expect(lines.filter((l) => l.includes(s))).toEqual([]);
    }

    it("provisions over plain TCP, stores its credentials in Preference and sends 1,000 messages without its heap growing", async () => {
      const name = "ESP32-MCSIM-TCP";
      plantFactoryImage({ tb_host: "127.0.0.1", tb_port: emulator.mqttPort, tb_tls: false, prov_key: KEY, prov_secret: SECRET, dev_name: name, tm_interval: 20, tm_gc: true }, false);
      const started = Date.now();
      const run = await boot();
      const rows = await waitForSeq(name, 1000, started, run, 120_000);
      await run.powerOff();

      const device = await deviceByName(name);
      const credentials = await api(`/api/device/${device.id.id}/credentials`);
      expect(credentials.credentialsType).toBe("ACCESS_TOKEN");
      secrets.push(credentials.credentialsId);
      expect(provisions).toEqual([`${name}:SUCCESS`]);
      const stored = readLinPreferences()[CREDENTIALS_NAMESPACE] ?? {};
      expect(Object.keys(stored).sort()).toEqual(expect.arrayContaining(["cred.b"]));
      expect(run.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^I \(\d+\) provision: Starting provision to 127\.0\.0\.1:\d+$/), expect.stringMatching(/device: credentials stored \(ACCESS_TOKEN/)]));
      expect(run.lines.filter((l) => /^[EW] /.test(l) && !/tb_tls=0/.test(l))).toEqual([]);
      expectNoSecrets(run.lines);

      // Memory, measured by the firmware itself after a forced GC (tm_gc) and sent as telemetry.
      const at = (seq: number) => rows.find((r) => r.seq === seq)!;
      const [first, m100, m1000] = [at(1), at(100), at(1000)];
      report.push(
        `XS heap in use after provisioning (message 1): slots ${first.xs_slot_used} B, chunks ${first.xs_chunk_used} B`,
        `after message 100: slots ${m100.xs_slot_used} B, chunks ${m100.xs_chunk_used} B`,
        `after message 1000: slots ${m1000.xs_slot_used} B, chunks ${m1000.xs_chunk_used} B`,
        `series (seq: slots/chunks): ${rows.filter((r) => r.seq % 50 === 0).map((r) => `${r.seq}: ${r.xs_slot_used}/${r.xs_chunk_used}`).join(", ")}`,
        `peak over messages 1..1000: slots ${Math.max(...rows.map((r) => r.xs_slot_used))} B, chunks ${Math.max(...rows.map((r) => r.xs_chunk_used))} B`,
      );
      expect(rows.filter((r) => r.seq >= 1 && r.seq <= 1000).length).toBe(1000);
      // Live heap after GC moves in a bounded sawtooth (XS's own tables; period about 400 messages here), so "does
      // not grow" is checked as: the second half's peak is no higher than the first's, and the same phase of the
      // cycle returns to the same figure.
      const peak = (from: number, to: number, k: "xs_slot_used" | "xs_chunk_used") => Math.max(...rows.filter((r) => r.seq >= from && r.seq <= to).map((r) => r[k]!));
      for (const k of ["xs_slot_used", "xs_chunk_used"] as const) {
        expect(peak(551, 1000, k)).toBeLessThanOrEqual(peak(100, 550, k));
        expect(Math.min(...rows.filter((r) => r.seq >= 551 && r.seq <= 1000).map((r) => r[k]!))).toBeLessThanOrEqual(m100[k]!);
      }
      report.push(`xsbug samples, whole run (no GC forced between samples): ${JSON.stringify(pick(run.peaks))}`);
    }, 180_000);

    it("comes back after a power cut from the stored credentials, without provisioning again", async () => {
      const name = "ESP32-MCSIM-TCP";
      plantFactoryImage({ tb_host: "127.0.0.1", tb_port: emulator.mqttPort, tb_tls: false, prov_key: KEY, prov_secret: SECRET, dev_name: name, tm_interval: 50 }, true);
      const started = Date.now();
      const run = await boot();
      await waitForSeq(name, 5, started, run, 30_000);
      await run.powerOff();
      expect(provisions).toEqual([`${name}:SUCCESS`]);
      expect(run.lines.some((l) => /device: stored credentials loaded: ACCESS_TOKEN/.test(l))).toBe(true);
      expect(run.lines.some((l) => /Starting provision/.test(l))).toBe(false);
      const all = await api(`/api/tenant/devices?pageSize=100&page=0`);
      expect(all.data.filter((d: { name: string }) => d.name === name)).toHaveLength(1);
      expectNoSecrets(run.lines);
    }, 60_000);

    it("provisions and sends over TLS 1.2 (SecureSocket), verifying the server against the factory CA", async () => {
      const name = "ESP32-MCSIM-TLS";
      plantFactoryImage(tlsSettings(name, pki.ca.certDer), false);
      const started = Date.now();
      const run = await boot();
      await waitForSeq(name, 3, started, run, 60_000);
      await run.powerOff();
      expect(provisions).toContain(`${name}:SUCCESS`);
      expect(run.lines.filter((l) => /no tb_ca|not verified/.test(l))).toEqual([]);
      report.push(`TLS boot, xsbug samples (peaks, including the handshake): ${JSON.stringify(pick(run.peaks))}`);
      expectNoSecrets(run.lines);
    }, 90_000);

    it("provisions with its own X.509 certificate and connects with it as the TLS client credential (RSA, PKCS#8)", async () => {
      const name = "ESP32-MCSIM-X509";
      secrets.push(pki.client.key.split("\n")[1]!);
      plantFactoryImage(tlsSettings(name, pki.ca.certDer, { cred_type: "x509", dev_cert: pki.client.cert, dev_key: pki.client.key }), false);
      const started = Date.now();
      const run = await boot();
      await waitForSeq(name, 3, started, run, 60_000);
      await run.powerOff();
      expect(provisions).toContain(`${name}:SUCCESS`);
      const device = await deviceByName(name);
      const credentials = await api(`/api/device/${device.id.id}/credentials`);
      expect(credentials.credentialsType).toBe("X509_CERTIFICATE");
      report.push(`X.509 boot, xsbug samples (peaks): ${JSON.stringify(pick(run.peaks))}`);
      expect(run.lines.filter((l) => /device: (connected|connecting)/.test(l)).join("\n")).toMatch(/connected to 127\.0\.0\.1:\d+ as "ESP32-MCSIM-X509"/);
      expectNoSecrets(run.lines);
    }, 90_000);

    it("refuses a server whose certificate its CA did not sign, and says so", async () => {
      const name = "ESP32-MCSIM-BADCA";
      const otherCaDer = Buffer.from(pki.otherCa.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
      plantFactoryImage(tlsSettings(name, otherCaDer), false);
      const run = await boot();
      const deadline = Date.now() + 30_000;
      while (!run.lines.some((l) => /retrying in/.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await run.powerOff();
      expect(run.lines.some((l) => /retrying in/.test(l))).toBe(true);
      expect(provisions.filter((p) => p.startsWith(name))).toEqual([]);
      expect(await deviceByName(name)).toBeUndefined();
    }, 60_000);

    it("verifies the server against a CA built into the firmware as a resource when the factory image has none", async () => {
      // An app that is the firmware plus one resource, as an OEM pinning one CA for a fleet would build it.
      const appDir = path.join(os.tmpdir(), "tbsdk-fw-ca");
      fs.rmSync(appDir, { recursive: true, force: true });
      fs.mkdirSync(appDir);
      fs.writeFileSync(path.join(appDir, "tb-ca.der"), pki.ca.certDer);
      fs.writeFileSync(path.join(appDir, "manifest.json"), JSON.stringify({ include: [path.join(APP_DIR, "manifest.json")], resources: { "*": "./tb-ca" } }));
      const withCa = buildForLin(tools, appDir);
      const name = "ESP32-MCSIM-RESCA";
      const { tb_ca: _none, ...settings } = tlsSettings(name, pki.ca.certDer);
      plantFactoryImage(settings, false);
      const started = Date.now();
      const run = await runSimulator(tools, withCa, display);
      runs.push(run);
      await waitForSeq(name, 3, started, run, 60_000);
      await run.powerOff();
      expect(provisions).toContain(`${name}:SUCCESS`);
      expect(run.lines).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`boot: tb_ca: ${pki.ca.certDer.length} B DER from the firmware's resource tb-ca\\.der$`))]));
      expect(run.lines.filter((l) => /NOT verified/.test(l))).toEqual([]);
    }, 15 * 60_000);

    it("with no factory image and no mc/config values, names the missing setting in one E line and stays idle", async () => {
      const prefs = readLinPreferences();
      delete prefs[FACTORY_NAMESPACE];
      delete prefs[CREDENTIALS_NAMESPACE];
      writeLinPreferences(prefs);
      const run = await boot();
      const deadline = Date.now() + 20_000;
      while (!run.lines.some((l) => /^E \(\d+\) boot: /.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500)); // anything it would do next would show by now
      await run.powerOff();
      expect(run.lines.filter((l) => /^[EW] /.test(l))).toEqual([
        expect.stringMatching(/^E \(\d+\) boot: tb_host is not set \(.*\): set it in mc\/config or the factory NVS image; not starting$/),
      ]);
      expect(run.lines.some((l) => /provision|device: /.test(l))).toBe(false);
    }, 60_000);

    it("`tbsdk sim` runs the same firmware against its own emulator: boot 1 provisions, boot 2 does not", async () => {
      const out: string[] = [];
      const code = await runSim({
        count: 2, boots: 2, name: "ESP32-SIM-CMD", intervalMs: 50, httpPort: 0, settings: {}, keepCredentials: false,
        stream: { write: (s: string) => out.push(s), isTTY: false },
      });
      const text = out.join("");
      expect(code).toBe(0);
      // Each boot runs until at least 2 messages are stored (more may arrive before the power cut lands).
      const boots = [...text.matchAll(/sim: power off #(\d): (\d+) provision request\(s\), (\d+) telemetry message\(s\) stored/g)];
      expect(boots.map((m) => [m[1], m[2]])).toEqual([["1", "1"], ["2", "0"]]);
      for (const m of boots) expect(Number(m[3])).toBeGreaterThanOrEqual(2);
      expect(text).toContain("device: stored credentials loaded: ACCESS_TOKEN");
      expect(text).not.toContain("demo-provision-secret");
    }, 120_000);
  });
}


