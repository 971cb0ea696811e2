/**
 * The device agent against the real emulator over real sockets (127.0.0.1): every credentials mode (device-chosen
 * ACCESS_TOKEN, server-generated token, MQTT_BASIC, X.509 over MQTTS) × both provisioning strategies, plus
 * NOT_FOUND, FAILURE, a disabled profile, a second request after a factory reset (strict and legacy servers) and
 * the gateway flag. Each case checks the agent's end state and log line, what the server holds (exactly one device,
 * its credentials type) and that no secret appears in any captured log line (level D).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CredentialStore } from "../../src/credentials/store.js";
import type { DeviceCredentials } from "../../src/credentials/record.js";
import { DeviceAgent, type ProvisionCredentialsOption } from "../../src/device/agent.js";
import { Log } from "../../src/log.js";
import { cryptoRandom, memorySink, NvsFileStore, systemClock, tcpConnector, tlsConnector, type MemorySink } from "../../hosts/node/index.js";
import { startEmulator, type RunningEmulator } from "../../tools/emulator/index.js";
import type { SeedDevice } from "../../tools/emulator/seed.js";
import { makeTestPki } from "../support/certs.js";
import { until } from "../support/until.js";

jest.setTimeout(30_000);

const pki = makeTestPki();
const clock = systemClock();
const KEY = "matrix-provision-key";
const SECRET = "matrix-provision-secret";
const PRE_TOKEN = "pre-provisioned-token-0001";
const BASIC = { clientId: "matrix-client-id", username: "matrix-user", password: "matrix-password-s3cret" };
let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "device-matrix-"));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

type Strategy = "ALLOW_CREATE_NEW_DEVICES" | "CHECK_PRE_PROVISIONED_DEVICES" | "DISABLED";

async function emulator(strategy: Strategy, devices: SeedDevice[] = [], reprovision: "strict" | "legacy" = "strict"): Promise<RunningEmulator> {
  return startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: 0, reprovision, provisionCloseMs: 200, log: new Log(memorySink(), clock),
    mqttsPort: 0, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, source: "test PKI" },
    config: {
      profiles: [strategy === "DISABLED"
        ? { name: "matrix", provisionType: "DISABLED" }
        : { name: "matrix", provisionType: strategy, provisionDeviceKey: KEY, provisionDeviceSecret: SECRET }],
      devices: devices.map((d) => ({ profile: "matrix", ...d })),
    },
  });
}

interface Setup {
  emu: RunningEmulator;
  name: string;
  credentials: ProvisionCredentialsOption;
  tls?: boolean;
  gateway?: boolean;
  key?: string;
  secret?: string;
  dir?: string;
}

function makeAgent(s: Setup): { agent: DeviceAgent; sink: MemorySink; dir: string } {
  const sink = memorySink();
  const dir = s.dir ?? path.join(root, `${s.name}-${s.emu.mqttPort}`);
  const port = s.tls ? s.emu.mqttsPort! : s.emu.mqttPort;
  const agent = new DeviceAgent({
    server: { host: "127.0.0.1", port },
    connect: (endpoint, credentials) =>
      s.tls
        ? tlsConnector({
            host: endpoint.host, port: endpoint.port, ca: pki.ca.cert, servername: "localhost", tlsVersion: "TLSv1.2",
            ...(credentials?.type === "X509_CERTIFICATE" ? { cert: credentials.certificatePem, key: credentials.privateKeyPem } : {}),
          })
        : tcpConnector(endpoint),
    clock, random: cryptoRandom(),
    store: new CredentialStore(new NvsFileStore(dir, { fsync: false })),
    log: new Log(sink, clock, { level: "D" }),
    deviceName: s.name,
    provisionDeviceKey: s.key ?? KEY, provisionDeviceSecret: s.secret ?? SECRET,
    credentials: s.credentials,
    ...(s.gateway ? { gateway: true } : {}),
    provisionTimeoutMs: 2000, connectTimeoutMs: 2000, ackTimeoutMs: 2000,
    backoff: { baseMs: 20, capMs: 300 },
    epochMs: () => Date.now(),
  });
  return { agent, sink, dir };
}

/** Secrets that must never appear in a log line. */
function secretsOf(extra: Array<string | undefined>): string[] {
  const keyBody = pki.client.key.split("\n").filter((l) => l && !l.startsWith("-----"));
  return [SECRET, KEY, PRE_TOKEN, BASIC.password, BASIC.username, pki.client.key, ...keyBody.slice(0, 3), ...extra].filter(
    (s): s is string => typeof s === "string" && s.length > 0,
  );
}

function expectNoSecrets(sink: MemorySink, extra: Array<string | undefined> = []): void {
  expect(sink.lines.length).toBeGreaterThan(0);
  for (const secret of secretsOf(extra)) expect(sink.lines.filter((l) => l.includes(secret))).toEqual([]);
}

function serverDevice(emu: RunningEmulator, name: string) {
  const devices = emu.store.listDevices().filter((d) => d.name === name);
  expect(devices).toHaveLength(1);
  const credentials = emu.store.getCredentialsByDeviceId(devices[0].id.id)!;
  return { device: devices[0], credentials };
}

/** The stored record's credentials as the server holds them. */
function expectStoredMatchesServer(stored: DeviceCredentials | undefined, server: { credentialsType: string; credentialsId: string; credentialsValue: string | null }): void {
  expect(stored?.type).toBe(server.credentialsType);
  if (stored?.type === "ACCESS_TOKEN") expect(stored.token).toBe(server.credentialsId);
  else if (stored?.type === "MQTT_BASIC") {
    const v = JSON.parse(server.credentialsValue ?? "{}") as { clientId?: string; userName?: string; password?: string };
    expect({ clientId: stored.clientId, username: stored.username, password: stored.password }).toEqual({
      clientId: v.clientId || undefined, username: v.userName || undefined, password: v.password || undefined,
    });
  } else if (stored?.type === "X509_CERTIFICATE") {
    expect(stored.certificatePem).toBe(pki.client.cert);
    expect(stored.privateKeyPem).toBe(pki.client.key);
  }
}

interface Mode {
  label: string;
  option: ProvisionCredentialsOption;
  tls?: boolean;
  /** The device pre-created for CHECK_PRE_PROVISIONED_DEVICES. */
  pre: SeedDevice["credentials"];
  type: "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";
}

const MODES: Mode[] = [
  { label: "device-chosen ACCESS_TOKEN", option: { type: "ACCESS_TOKEN" }, pre: { type: "ACCESS_TOKEN", token: PRE_TOKEN }, type: "ACCESS_TOKEN" },
  { label: "server-generated token", option: { type: "SERVER_GENERATED_TOKEN" }, pre: { type: "ACCESS_TOKEN", token: PRE_TOKEN }, type: "ACCESS_TOKEN" },
  { label: "MQTT_BASIC", option: { type: "MQTT_BASIC", ...BASIC }, pre: { type: "MQTT_BASIC", ...BASIC }, type: "MQTT_BASIC" },
  {
    label: "X509_CERTIFICATE over MQTTS", tls: true, type: "X509_CERTIFICATE",
    option: { type: "X509_CERTIFICATE", certificatePem: pki.client.cert, privateKeyPem: pki.client.key },
    pre: { type: "X509_CERTIFICATE", pem: pki.client.cert },
  },
];

describe.each(["ALLOW_CREATE_NEW_DEVICES", "CHECK_PRE_PROVISIONED_DEVICES"] as const)("%s", (strategy) => {
  it.each(MODES.map((m) => [m.label, m] as const))("%s: provisions, goes online, server holds exactly one device", async (_label, mode) => {
    const name = `matrix-${mode.type}-${mode.option.type}-${strategy}`.slice(0, 60);
    const emu = await emulator(strategy, strategy === "CHECK_PRE_PROVISIONED_DEVICES" ? [{ name, credentials: mode.pre }] : []);
    try {
      const d = makeAgent({ emu, name, credentials: mode.option, ...(mode.tls ? { tls: true } : {}) });
      d.agent.start();
      await until(`${name} online`, () => d.agent.state === "online");
      let fate = "";
      d.agent.sendTelemetry({ t: 1 }, (f) => (fate = f));
      await until("telemetry acked", () => fate === "acked");
      d.agent.stop();

      expect(emu.store.listDevices()).toHaveLength(1);
      const { device, credentials } = serverDevice(emu, name);
      expect(credentials.credentialsType).toBe(mode.type);
      expect(emu.store.latestTimeseries(device.id.id, ["t"]).t).toBeDefined();
      const record = new CredentialStore(new NvsFileStore(d.dir)).load().record;
      expect(record?.pending).toBe(false);
      expectStoredMatchesServer(record?.credentials, credentials);
      if (strategy === "CHECK_PRE_PROVISIONED_DEVICES" && mode.type === "ACCESS_TOKEN") {
        // The server ignores the device's choice and answers with the pre-provisioned token.
        expect(credentials.credentialsId).toBe(PRE_TOKEN);
      }
      expect(d.agent.stats.provisionRequests).toBe(1);
      expect(d.sink.lines.some((l) => l.includes(`Provision response credential type: ${mode.type}`))).toBe(true);
      expect(d.sink.lines.some((l) => l.includes("state connecting -> online"))).toBe(true);
      expectNoSecrets(d.sink, [credentials.credentialsType === "ACCESS_TOKEN" ? credentials.credentialsId : undefined]);
    } finally {
      await emu.close();
    }
  });
});

async function expectRefused(emu: RunningEmulator, s: Omit<Setup, "emu">, line: RegExp): Promise<MemorySink> {
  const d = makeAgent({ emu, ...s });
  d.agent.start();
  await until(`${s.name} refused`, () => d.sink.lines.some((l) => line.test(l)));
  // A second refusal (retried at the back-off cap) is not logged in full again.
  await until("a second attempt refused", () => d.agent.stats.provisionRequests >= 2 && d.agent.state === "waiting");
  expect(d.sink.lines.filter((l) => line.test(l))).toHaveLength(1);
  d.agent.stop();
  expect(d.agent.stats.connects).toBe(0);
  expect(new CredentialStore(new NvsFileStore(d.dir)).load().record?.pending ?? true).toBe(true); // nothing confirmed
  expectNoSecrets(d.sink, [s.secret]);
  return d.sink;
}

describe("refusals", () => {
  it("NOT_FOUND (wrong key, then wrong secret): waiting, configuration error logged once, no device created", async () => {
    const emu = await emulator("ALLOW_CREATE_NEW_DEVICES");
    try {
      const sink = await expectRefused(emu, { name: "bad-key", credentials: { type: "ACCESS_TOKEN" }, key: "wrong-key-value" }, /Provisioning refused: NOT_FOUND.*configuration error/);
      expect(sink.lines.filter((l) => l.includes("Provisioning refused: NOT_FOUND"))).toHaveLength(1);
      expect(sink.lines.some((l) => l.includes("NOT_FOUND again"))).toBe(true);
      await expectRefused(emu, { name: "bad-secret", credentials: { type: "ACCESS_TOKEN" }, secret: "wrong-secret-value" }, /Provisioning refused: NOT_FOUND/);
      expect(emu.store.listDevices()).toHaveLength(0);
    } finally {
      await emu.close();
    }
  });

  it("disabled profile: NOT_FOUND, waiting, no device created", async () => {
    const emu = await emulator("DISABLED");
    try {
      await expectRefused(emu, { name: "disabled", credentials: { type: "ACCESS_TOKEN" } }, /Provisioning refused: NOT_FOUND.*provisioning is enabled/);
      expect(emu.store.listDevices()).toHaveLength(0);
    } finally {
      await emu.close();
    }
  });

  it("FAILURE: duplicate name under ALLOW_CREATE_NEW_DEVICES, waiting with the hint, the existing device untouched", async () => {
    const emu = await emulator("ALLOW_CREATE_NEW_DEVICES", [{ name: "taken", credentials: { type: "ACCESS_TOKEN", token: PRE_TOKEN } }]);
    try {
      await expectRefused(emu, { name: "taken", credentials: { type: "ACCESS_TOKEN" } }, /Provisioning refused: FAILURE.*exists already/);
      expect(emu.store.listDevices()).toHaveLength(1);
      expect(serverDevice(emu, "taken").credentials.credentialsId).toBe(PRE_TOKEN);
    } finally {
      await emu.close();
    }
  });
});

describe("second request after a factory reset (CHECK_PRE_PROVISIONED_DEVICES)", () => {
  it.each(["strict", "legacy"] as const)("%s server", async (reprovision) => {
    const name = `second-${reprovision}`;
    const emu = await emulator("CHECK_PRE_PROVISIONED_DEVICES", [{ name, credentials: { type: "ACCESS_TOKEN", token: PRE_TOKEN } }], reprovision);
    try {
      const first = makeAgent({ emu, name, credentials: { type: "ACCESS_TOKEN" } });
      first.agent.start();
      await until("first provisioning online", () => first.agent.state === "online");
      first.agent.stop();
      new CredentialStore(new NvsFileStore(first.dir)).factoryReset();
      expect(new CredentialStore(new NvsFileStore(first.dir)).load().record).toBeUndefined();

      const second = makeAgent({ emu, name, credentials: { type: "ACCESS_TOKEN" }, dir: first.dir });
      second.agent.start();
      if (reprovision === "strict") {
        await until("FAILURE logged", () => second.sink.lines.some((l) => l.includes("Provisioning refused: FAILURE")));
        await until("waiting", () => second.agent.state === "waiting");
        second.agent.stop();
        const line = second.sink.lines.find((l) => l.includes("Provisioning refused: FAILURE"))!;
        expect(line).toMatch(/an operator must reset its provisionState \(delete its server attribute provisionState\)/);
        expect(second.agent.stats.connects).toBe(0);
      } else {
        await until("second provisioning online", () => second.agent.state === "online");
        second.agent.stop();
        expect(second.agent.stats.provisionRequests).toBe(1);
        const record = new CredentialStore(new NvsFileStore(first.dir)).load().record;
        expect(record?.credentials).toEqual({ type: "ACCESS_TOKEN", token: PRE_TOKEN });
      }
      expect(emu.store.listDevices()).toHaveLength(1);
      expect(serverDevice(emu, name).credentials.credentialsId).toBe(PRE_TOKEN);
      expectNoSecrets(first.sink);
      expectNoSecrets(second.sink);
    } finally {
      await emu.close();
    }
  });
});

describe("gateway", () => {
  it("provisions with additionalInfo.gateway = true on the server", async () => {
    const emu = await emulator("ALLOW_CREATE_NEW_DEVICES");
    try {
      const d = makeAgent({ emu, name: "matrix-gateway", credentials: { type: "ACCESS_TOKEN" }, gateway: true });
      d.agent.start();
      await until("gateway online", () => d.agent.state === "online");
      d.agent.stop();
      const { device, credentials } = serverDevice(emu, "matrix-gateway");
      expect(device.additionalInfo).toEqual({ gateway: true });
      expect(emu.store.listDevices()).toHaveLength(1);
      expectNoSecrets(d.sink, [credentials.credentialsId]);
    } finally {
      await emu.close();
    }
  });
});
