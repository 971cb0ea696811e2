/**
 * Provisioning as ThingsBoard does it: every scenario of its own provisioning tests (MqttProvisionJsonDeviceTest,
 * MqttProvisionProtoDeviceTest) that needs no network, plus each row of the decision table, with the responses
 * compared as exact strings (JSON) or exact bytes (protobuf).
 */
import { createHash } from "node:crypto";
import { EmulatorStore, provisionStateOf } from "../../tools/emulator/store.js";
import { seedStore } from "../../tools/emulator/seed.js";
import { handleProvisionRequest, type ProvisionOptions, type ProvisionResult } from "../../tools/emulator/provision.js";

const NOT_FOUND = '{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}';
const FAILURE = '{"errorMsg":"Failed to provision device!","status":"FAILURE"}';
const NOW = 1_750_000_000_000;
const sha3 = (s: string) => createHash("sha3-256").update(s, "utf8").digest("hex");

const PEM =
  "-----BEGIN CERTIFICATE-----\n" +
  "MIIBfzCCASWgAwIBAgIUVKyupo3LeaPq453506FyrkfduI0wCgYIKoZIzj0EAwIw\n" +
  "FTETMBEGA1UEAwwKZXNwMzItdGVzdDAeFw0yNjExMjYwOTA0NTNaFw0zNjExMjMw\n" +
  "iYDC\n" +
  "-----END CERTIFICATE-----\n";
const PEM_BODY =
  "MIIBfzCCASWgAwIBAgIUVKyupo3LeaPq453506FyrkfduI0wCgYIKoZIzj0EAwIwFTETMBEGA1UEAwwKZXNwMzItdGVzdDAeFw0yNjExMjYwOTA0NTNaFw0zNjExMjMwiYDC";

function makeStore(): EmulatorStore {
  const store = new EmulatorStore({ now: () => NOW - 1000 });
  seedStore(store, {
    profiles: [
      { name: "allow", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "allowKey", provisionDeviceSecret: "allowSecret" },
      { name: "pre", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", provisionDeviceKey: "preKey", provisionDeviceSecret: "preSecret" },
      { name: "off", provisionType: "DISABLED" },
    ],
    devices: [
      { name: "pre-1", profile: "pre", credentials: { type: "ACCESS_TOKEN", token: "PRE_TOKEN" } },
      { name: "pre-basic", profile: "pre", credentials: { type: "MQTT_BASIC", clientId: "pc", username: "pu", password: "pp" } },
      { name: "elsewhere", credentials: { type: "ACCESS_TOKEN", token: "TAKEN_TOKEN" } },
    ],
  });
  return store;
}

let store: EmulatorStore;
let clock: number;
beforeEach(() => {
  store = makeStore();
  clock = NOW;
});

function opts(reprovision: ProvisionOptions["reprovision"] = "strict"): ProvisionOptions {
  return { reprovision, now: () => clock };
}

function provision(request: object | string | Uint8Array, reprovision: ProvisionOptions["reprovision"] = "strict"): ProvisionResult {
  const payload =
    request instanceof Uint8Array ? request : Buffer.from(typeof request === "string" ? request : JSON.stringify(request), "utf8");
  return handleProvisionRequest(store, payload, opts(reprovision));
}

/** The JSON body of a response, failing the test on a malformed outcome; also checks bytes == UTF-8(body). */
function body(r: ProvisionResult): string {
  if (r.outcome !== "response") throw new Error(`expected a response, got malformed: ${r.reason}`);
  if (r.format === "json") expect(Buffer.from(r.bytes).toString("utf8")).toBe(r.body);
  return r.body;
}

const allow = { provisionDeviceKey: "allowKey", provisionDeviceSecret: "allowSecret" };
const pre = { provisionDeviceKey: "preKey", provisionDeviceSecret: "preSecret" };

// ---- an independent protobuf encoder (not the module under test) ----
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const pbBytes = (field: number, payload: number[]) => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
const pbString = (field: number, s: string) => pbBytes(field, [...Buffer.from(s, "utf8")]);
const pbVarint = (field: number, v: number) => [...varint(field << 3), ...varint(v)];

interface ProtoReq {
  deviceName?: string;
  credentialsType?: number;
  key?: string;
  secret?: string;
  token?: string;
  hash?: string;
  clientId?: string;
  userName?: string;
  password?: string;
  gateway?: boolean;
}
function protoRequest(r: ProtoReq): Uint8Array {
  const creds: number[] = [];
  if (r.token !== undefined) creds.push(...pbBytes(1, pbString(1, r.token)));
  if (r.hash !== undefined) creds.push(...pbBytes(2, pbString(1, r.hash)));
  if (r.clientId !== undefined || r.userName !== undefined || r.password !== undefined) {
    const b = [
      ...(r.clientId !== undefined ? pbString(1, r.clientId) : []),
      ...(r.userName !== undefined ? pbString(2, r.userName) : []),
      ...(r.password !== undefined ? pbString(3, r.password) : []),
    ];
    creds.push(...pbBytes(3, b));
  }
  return Uint8Array.from([
    ...(r.deviceName !== undefined ? pbString(1, r.deviceName) : []),
    ...(r.credentialsType !== undefined ? pbVarint(2, r.credentialsType) : []),
    ...pbBytes(3, [...(r.key !== undefined ? pbString(1, r.key) : []), ...(r.secret !== undefined ? pbString(2, r.secret) : [])]),
    ...(creds.length ? pbBytes(4, creds) : []),
    ...(r.gateway ? pbVarint(5, 1) : []),
  ]);
}
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const protoAllow = { key: "allowKey", secret: "allowSecret" };

describe("NOT_FOUND: key or secret empty, unknown key, wrong secret, provisioning disabled", () => {
  it.each([
    ["an unknown key (testProvisioningWithBadKeyDevice)", { deviceName: "d", provisionDeviceKey: "badKey", provisionDeviceSecret: "allowSecret" }],
    ["the right key with a wrong secret (ALLOW_CREATE)", { deviceName: "d", provisionDeviceKey: "allowKey", provisionDeviceSecret: "nope" }],
    ["the right key with a wrong secret (CHECK_PRE)", { deviceName: "pre-1", provisionDeviceKey: "preKey", provisionDeviceSecret: "nope" }],
    ["an empty key", { deviceName: "d", provisionDeviceKey: "", provisionDeviceSecret: "allowSecret" }],
    ["an empty secret", { deviceName: "d", provisionDeviceKey: "allowKey", provisionDeviceSecret: "" }],
    ["a DISABLED profile (testProvisioningDisabledDevice: it has no key)", { deviceName: "d", provisionDeviceKey: "", provisionDeviceSecret: "" }],
  ])("%s", (_label, request) => {
    expect(body(provision(request))).toBe(NOT_FOUND);
    expect(store.findDeviceByName("d")).toBeUndefined();
  });

  it("a DISABLED profile is stored without key or secret, so no key reaches it", () => {
    expect(store.findProfileByName("off")).toMatchObject({ provisionDeviceKey: null, provisionDeviceSecret: null });
    expect(store.createProfile({ name: "off2", provisionType: "DISABLED", provisionDeviceKey: "k", provisionDeviceSecret: "s" }).provisionDeviceKey).toBeNull();
    expect(body(provision({ deviceName: "d", provisionDeviceKey: "k", provisionDeviceSecret: "s" }))).toBe(NOT_FOUND);
  });
});

describe("ALLOW_CREATE_NEW_DEVICES", () => {
  it("new device without credentials: random 20-character token, type = profile name, provisionState set", () => {
    const r = provision({ deviceName: "Test Provision device3", ...allow });
    const b = body(r);
    const token = /^\{"credentialsValue":"([A-Za-z0-9]{20})","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$/.exec(b)?.[1];
    expect(token).toBeDefined();
    expect(b).toBe(`{"credentialsValue":"${token}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`);
    const device = store.findDeviceByName("Test Provision device3")!;
    expect(device).toMatchObject({ type: "allow", deviceProfileId: store.findProfileByName("allow")!.id, additionalInfo: null, label: null });
    expect(r).toMatchObject({
      status: "SUCCESS",
      format: "json",
      device: { id: device.id, name: "Test Provision device3" },
      credentialsType: "ACCESS_TOKEN",
    });
    expect(store.findByCredentialsId(token!)?.device.id).toEqual(device.id);
    expect(store.getAttribute(device.id.id, "SERVER_SCOPE", "provisionState")).toEqual({ key: "provisionState", value: "provisioned", lastUpdateTs: NOW });
  });

  it("gateway flag: additionalInfo.gateway = true", () => {
    body(provision({ deviceName: "gw", gateway: true, ...allow }));
    expect(store.findDeviceByName("gw")!.additionalInfo).toEqual({ gateway: true });
    body(provision({ deviceName: "not-gw", gateway: false, ...allow }));
    expect(store.findDeviceByName("not-gw")!.additionalInfo).toBeNull();
  });

  it("device-chosen access token (testProvisioningCreateNewDeviceWithAccessToken)", () => {
    const r = provision({ deviceName: "tok", credentialsType: "ACCESS_TOKEN", token: "test_token", ...allow });
    expect(body(r)).toBe('{"credentialsValue":"test_token","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    expect(store.findByCredentialsId("test_token")?.device.name).toBe("tok");
    // credentialsType defaults to ACCESS_TOKEN
    expect(body(provision({ deviceName: "tok2", token: "tok2_token", ...allow }))).toBe(
      '{"credentialsValue":"tok2_token","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
    );
  });

  it("X.509 PEM in `hash` (testProvisioningCreateNewDeviceWithCert): stored stripped, id = SHA3-256 hex", () => {
    const r = provision({ deviceName: "cert", credentialsType: "X509_CERTIFICATE", hash: PEM, ...allow });
    expect(body(r)).toBe(`{"credentialsValue":"${PEM_BODY}","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}`);
    const creds = store.getCredentialsByDeviceId(store.findDeviceByName("cert")!.id.id)!;
    expect(creds).toMatchObject({ credentialsType: "X509_CERTIFICATE", credentialsValue: PEM_BODY, credentialsId: sha3(PEM_BODY) });
  });

  it("MQTT basic (testProvisioningCreateNewDeviceWithMqttBasic): id = SHA3 of clientId|username", () => {
    const r = provision({ deviceName: "basic", credentialsType: "MQTT_BASIC", clientId: "c", username: "u", password: "p", ...allow });
    expect(body(r)).toBe('{"credentialsValue":{"clientId":"c","userName":"u","password":"p"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}');
    const creds = store.getCredentialsByDeviceId(store.findDeviceByName("basic")!.id.id)!;
    expect(creds.credentialsId).toBe(sha3("c|u"));
    expect(creds.credentialsValue).toBe('{"clientId":"c","userName":"u","password":"p"}');
  });

  it("MQTT basic with only a user name, or only a client id", () => {
    expect(body(provision({ deviceName: "b1", credentialsType: "MQTT_BASIC", username: "user1", password: "pw", ...allow }))).toBe(
      '{"credentialsValue":{"clientId":"","userName":"user1","password":"pw"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
    expect(store.findByCredentialsId("user1")?.device.name).toBe("b1");
    expect(body(provision({ deviceName: "b2", credentialsType: "MQTT_BASIC", clientId: "cid2", ...allow }))).toBe(
      '{"credentialsValue":{"clientId":"cid2","userName":"","password":""},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
    expect(store.findByCredentialsId(sha3("cid2"))?.device.name).toBe("b2");
  });

  it.each([
    ["MQTT basic without client id and user name", { credentialsType: "MQTT_BASIC", password: "p" }],
    ["MQTT basic with client id and password but no user name", { credentialsType: "MQTT_BASIC", clientId: "c", password: "p" }],
    ["ACCESS_TOKEN type with only a user name (no token to store)", { username: "u" }],
    ["LWM2M_CREDENTIALS with credentials data", { credentialsType: "LWM2M_CREDENTIALS", token: "t" }],
    ["a token another device already has", { token: "TAKEN_TOKEN" }],
    ["MQTT basic credentials another device already has", { credentialsType: "MQTT_BASIC", clientId: "pc", username: "pu", password: "x" }],
  ])("FAILURE and no device left behind: %s", (_label, creds) => {
    const before = store.listDevices().length;
    expect(body(provision({ deviceName: "new-one", ...creds, ...allow }))).toBe(FAILURE);
    expect(store.findDeviceByName("new-one")).toBeUndefined();
    expect(store.listDevices()).toHaveLength(before);
  });

  it("LWM2M_CREDENTIALS without credentials data gets a generated access token", () => {
    expect(body(provision({ deviceName: "lw", credentialsType: "LWM2M_CREDENTIALS", ...allow }))).toMatch(
      /^\{"credentialsValue":"[A-Za-z0-9]{20}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"\}$/,
    );
  });

  it("a name that exists in the tenant (any profile) is FAILURE, and so is the second request (not idempotent)", () => {
    expect(body(provision({ deviceName: "elsewhere", ...allow }))).toBe(FAILURE);
    body(provision({ deviceName: "twice", token: "twice_token", ...allow }));
    for (const mode of ["strict", "legacy"] as const) {
      expect(body(provision({ deviceName: "twice", token: "twice_token", ...allow }, mode))).toBe(FAILURE);
    }
  });

  it("deviceName is trimmed (Java's trim: code points <= U+0020 only)", () => {
    body(provision({ deviceName: " \t trimmed \r\n", ...allow }));
    expect(store.findDeviceByName("trimmed")).toBeDefined();
    body(provision({ deviceName: "\u00a0nbsp\u00a0", ...allow }));
    expect(store.findDeviceByName("\u00a0nbsp\u00a0")).toBeDefined();
  });

  it("a whitespace-only deviceName is FAILURE, checked before the key", () => {
    expect(body(provision({ deviceName: "   ", ...allow }))).toBe(FAILURE);
    expect(body(provision({ deviceName: "\t", provisionDeviceKey: "badKey", provisionDeviceSecret: "x" }))).toBe(FAILURE);
  });

  it("an absent (or empty) deviceName gets a random 20-character name", () => {
    const before = new Set(store.listDevices().map((d) => d.name));
    body(provision({ ...allow }));
    body(provision({ deviceName: "", ...allow }));
    const added = store.listDevices().filter((d) => !before.has(d.name));
    expect(added).toHaveLength(2);
    for (const d of added) expect(d.name).toMatch(/^[A-Za-z0-9]{20}$/);
  });

  it("a name longer than 255 characters fails ThingsBoard's validation (inferred from @Length)", () => {
    expect(body(provision({ deviceName: "x".repeat(256), ...allow }))).toBe(FAILURE);
    expect(body(provision({ deviceName: "y".repeat(255), ...allow }))).toContain('"status":"SUCCESS"');
  });
});

describe("CHECK_PRE_PROVISIONED_DEVICES", () => {
  it("pre-provisioned device (testProvisioningCheckPreProvisionedDevice): its existing credentials, request credentials ignored", () => {
    const r = provision({ deviceName: "pre-1", token: "ignored", credentialsType: "ACCESS_TOKEN", ...pre });
    expect(body(r)).toBe('{"credentialsValue":"PRE_TOKEN","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    const dev = store.findDeviceByName("pre-1")!;
    expect(store.getAttribute(dev.id.id, "SERVER_SCOPE", "provisionState")).toEqual({ key: "provisionState", value: "provisioned", lastUpdateTs: NOW });
    expect(store.findByCredentialsId("ignored")).toBeUndefined();
    expect(body(provision({ deviceName: "pre-basic", ...pre }))).toBe(
      '{"credentialsValue":{"clientId":"pc","userName":"pu","password":"pp"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
  });

  it("no device of that name in this profile is FAILURE", () => {
    expect(body(provision({ deviceName: "ghost", ...pre }))).toBe(FAILURE);
    expect(body(provision({ deviceName: "elsewhere", ...pre }))).toBe(FAILURE); // exists, other profile
    expect(body(provision({ ...pre }))).toBe(FAILURE); // no name at all
    expect(store.findDeviceByName("ghost")).toBeUndefined();
  });

  it("second request, --reprovision strict (4.2.1.1+): FAILURE", () => {
    body(provision({ deviceName: "pre-1", ...pre }, "strict"));
    expect(body(provision({ deviceName: "pre-1", ...pre }, "strict"))).toBe(FAILURE);
  });

  it("second request, --reprovision legacy (<= 4.2.1): SUCCESS again, same credentials, provisionState re-saved", () => {
    const first = body(provision({ deviceName: "pre-1", ...pre }, "legacy"));
    clock = NOW + 5000;
    expect(body(provision({ deviceName: "pre-1", ...pre }, "legacy"))).toBe(first);
    const dev = store.findDeviceByName("pre-1")!;
    expect(store.getAttribute(dev.id.id, "SERVER_SCOPE", "provisionState")?.lastUpdateTs).toBe(NOW + 5000);
  });

  it.each(["strict", "legacy"] as const)("any other provisionState value is FAILURE (%s)", (mode) => {
    const dev = store.findDeviceByName("pre-1")!;
    store.setAttributes(dev.id.id, "SERVER_SCOPE", { provisionState: "blocked" });
    expect(body(provision({ deviceName: "pre-1", ...pre }, mode))).toBe(FAILURE);
    expect(provisionStateOf(store, dev.id)).toBe("blocked");
  });

  it("deleting provisionState (as the REST DELETE does) re-opens provisioning", () => {
    body(provision({ deviceName: "pre-1", ...pre }));
    expect(body(provision({ deviceName: "pre-1", ...pre }))).toBe(FAILURE);
    store.deleteAttributes(store.findDeviceByName("pre-1")!.id.id, "SERVER_SCOPE", ["provisionState"]);
    expect(body(provision({ deviceName: "pre-1", ...pre }))).toContain('"status":"SUCCESS"');
  });
});

describe("malformed requests: no response, error PUBACK and close", () => {
  it.each([
    ["missing provisionDeviceKey", { deviceName: "m", provisionDeviceSecret: "allowSecret" }, /provisionDeviceKey/],
    ["missing provisionDeviceSecret", { deviceName: "m", provisionDeviceKey: "allowKey" }, /provisionDeviceSecret/],
    ["an unknown credentialsType", { deviceName: "m", credentialsType: "PSK", ...allow }, /credentialsType/],
    ["a lower-case credentialsType", { deviceName: "m", credentialsType: "access_token", ...allow }, /credentialsType/],
    ["credentialsType null", { deviceName: "m", credentialsType: null, ...allow }, /null/],
    ["deviceName null", { deviceName: null, ...allow }, /deviceName.*null/],
    ["token null", { deviceName: "m", token: null, ...allow }, /token.*null/],
    ["provisionDeviceKey null", { deviceName: "m", provisionDeviceKey: null, provisionDeviceSecret: "allowSecret" }, /null/],
    ["gateway null (inferred)", { deviceName: "m", gateway: null, ...allow }, /gateway.*null/],
    ["deviceName an object", { deviceName: { a: 1 }, ...allow }, /object/],
    ["deviceName a two-element array", { deviceName: ["a", "b"], ...allow }, /array/],
  ])("%s", (_label, request, reason) => {
    const r = provision(request);
    expect(r.outcome).toBe("malformed");
    if (r.outcome === "malformed") {
      expect(r.reason).toMatch(reason);
      expect(r.reason).not.toContain("allowSecret"); // never echoes secrets
    }
    expect(store.findDeviceByName("m")).toBeUndefined();
  });

  it("an empty payload is malformed (no protobuf fallback)", () => {
    expect(provision(new Uint8Array())).toEqual({ outcome: "malformed", reason: "payload is empty" });
  });

  it("bytes that are neither JSON nor protobuf are malformed", () => {
    expect(provision("{not json")).toMatchObject({ outcome: "malformed", reason: expect.stringMatching(/neither JSON nor protobuf/) });
    expect(provision(Uint8Array.from([0xff, 0xff, 0xff]))).toMatchObject({ outcome: "malformed" });
  });

  it("fields the server does not read may be anything, null included", () => {
    expect(body(provision({ deviceName: "extra", foo: null, bar: { x: [1] }, ...allow }))).toContain('"status":"SUCCESS"');
  });
});

describe("JSON reading as Gson does it", () => {
  it("numbers, booleans and one-element arrays are read as text (getAsString)", () => {
    body(provision({ deviceName: 12345, ...allow }));
    expect(store.findDeviceByName("12345")).toBeDefined();
    body(provision({ deviceName: ["in-array"], ...allow }));
    expect(store.findDeviceByName("in-array")).toBeDefined();
    expect(body(provision({ deviceName: "bool-tok", token: true, ...allow }))).toBe(
      '{"credentialsValue":"true","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
    );
  });

  it('gateway as a string is parsed like Boolean.parseBoolean ("TRUE" is true, "1" is not) (inferred)', () => {
    body(provision({ deviceName: "g1", gateway: "TRUE", ...allow }));
    body(provision({ deviceName: "g2", gateway: 1, ...allow }));
    expect(store.findDeviceByName("g1")!.additionalInfo).toEqual({ gateway: true });
    expect(store.findDeviceByName("g2")!.additionalInfo).toBeNull();
  });

  it("a UTF-8 byte order mark before the JSON is skipped", () => {
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ deviceName: "bom", ...allow }))]);
    expect(provision(new Uint8Array(payload))).toMatchObject({ format: "json", status: "SUCCESS" });
  });

  // Control characters in credentials are accepted up to 4.3; ThingsBoard's master branch has started to refuse
  // them (DeviceCredentialsDataValidator.rejectControlChars), which the emulator does not imitate yet.
  it("responses escape like Gson and store MQTT basic credentials like Jackson", () => {
    const r = provision({ deviceName: "esc", credentialsType: "MQTT_BASIC", username: 'u"\\/\u0001\u001f\n\u2028é', password: "<p&>", ...allow });
    expect(body(r)).toBe(
      '{"credentialsValue":{"clientId":"","userName":"u\\"\\\\/\\u0001\\u001f\\n\\u2028é","password":"<p&>"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}',
    );
    const creds = store.getCredentialsByDeviceId(store.findDeviceByName("esc")!.id.id)!;
    expect(creds.credentialsValue).toBe('{"clientId":"","userName":"u\\"\\\\/\\u0001\\u001F\\n\u2028é","password":"<p&>"}');
  });
});

describe("protobuf requests get protobuf responses (status=1, credentialsType=2, credentialsValue=3)", () => {
  it("bad key → NOT_FOUND is exactly 08 02; a failure is exactly 08 03", () => {
    const r = provision(protoRequest({ deviceName: "p", key: "badKey", secret: "x" }));
    expect(r).toMatchObject({ outcome: "response", format: "protobuf", status: "NOT_FOUND", body: NOT_FOUND });
    expect(r.outcome === "response" && hex(r.bytes)).toBe("0802");
    const f = provision(protoRequest({ deviceName: "elsewhere", ...protoAllow }));
    expect(f.outcome === "response" && hex(f.bytes)).toBe("0803");
  });

  it("missing key and secret are not malformed in protobuf: they are empty strings → NOT_FOUND", () => {
    const r = provision(Uint8Array.from(pbString(1, "nokey")));
    expect(r.outcome === "response" && [r.format, hex(r.bytes)]).toEqual(["protobuf", "0802"]);
  });

  it("new device without credentials: SUCCESS with a token (ACCESS_TOKEN = 0 is left out)", () => {
    const r = provision(protoRequest({ deviceName: "proto-dev", ...protoAllow }));
    if (r.outcome !== "response") throw new Error(r.reason);
    const token = store.getCredentialsByDeviceId(store.findDeviceByName("proto-dev")!.id.id)!.credentialsId;
    expect(hex(r.bytes)).toBe("0801" + "1a14" + Buffer.from(token).toString("hex"));
    expect(r.body).toBe(`{"credentialsValue":"${token}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`);
  });

  it("device-chosen token, gateway flag", () => {
    const r = provision(protoRequest({ deviceName: "pgw", token: "proto_token", gateway: true, ...protoAllow }));
    expect(r.outcome === "response" && hex(r.bytes)).toBe("0801" + "1a0b" + Buffer.from("proto_token").toString("hex"));
    expect(store.findDeviceByName("pgw")!.additionalInfo).toEqual({ gateway: true });
  });

  it("MQTT basic: credentialsType 2 and the stored JSON as the value", () => {
    const r = provision(protoRequest({ deviceName: "pb", credentialsType: 2, clientId: "c", userName: "u", password: "p", ...protoAllow }));
    const value = '{"clientId":"c","userName":"u","password":"p"}';
    expect(r.outcome === "response" && hex(r.bytes)).toBe("0801" + "1002" + "1a" + value.length.toString(16) + Buffer.from(value).toString("hex"));
    expect(store.findByCredentialsId(sha3("c|u"))?.device.name).toBe("pb");
  });

  it("X.509: credentialsType 1 and the stripped certificate", () => {
    const r = provision(protoRequest({ deviceName: "px", credentialsType: 1, hash: PEM, ...protoAllow }));
    const v = Buffer.from(PEM_BODY);
    expect(r.outcome === "response" && hex(r.bytes)).toBe("0801" + "1001" + "1a" + Buffer.from(varint(v.length)).toString("hex") + v.toString("hex"));
  });

  it("CHECK_PRE second request under each --reprovision mode", () => {
    const req = protoRequest({ deviceName: "pre-1", key: "preKey", secret: "preSecret" });
    const success = "0801" + "1a09" + Buffer.from("PRE_TOKEN").toString("hex");
    const first = provision(req, "legacy");
    expect(first.outcome === "response" && hex(first.bytes)).toBe(success);
    const again = provision(req, "legacy");
    expect(again.outcome === "response" && hex(again.bytes)).toBe(success);
    const strict = provision(req, "strict");
    expect(strict.outcome === "response" && hex(strict.bytes)).toBe("0803");
  });

  it("unknown fields are skipped, repeated messages merged, the last scalar wins", () => {
    const bytes = Uint8Array.from([
      ...pbVarint(15, 7), // unknown varint
      ...[0x79, 1, 2, 3, 4, 5, 6, 7, 8], // unknown fixed64 (field 15)
      ...pbString(1, "first"),
      ...pbBytes(3, pbString(1, "allowKey")),
      ...pbBytes(3, pbString(2, "allowSecret")), // merged into the same ProvisionDeviceCredentialsMsg
      ...[0x5b, ...pbVarint(1, 1), 0x5c], // a group (field 11) with content
      ...pbString(1, "last"),
    ]);
    expect(provision(bytes)).toMatchObject({ outcome: "response", format: "protobuf", status: "SUCCESS" });
    expect(store.findDeviceByName("last")).toBeDefined();
  });

  it("valid JSON that is not an object falls back to protobuf", () => {
    // "8 " is the JSON number 8, and also field 7 (varint) = 32: a valid, empty ProvisionDeviceRequestMsg.
    const r = provision("8 ");
    expect(r.outcome === "response" && [r.format, hex(r.bytes)]).toEqual(["protobuf", "0802"]);
  });

  const nestedGroups = (n: number) => [...new Array<number>(n).fill(0x5b), ...new Array<number>(n).fill(0x5c)];

  it("groups nested 100 deep are skipped; 101 deep exceed protobuf-java's recursion limit", () => {
    const ok = provision(Uint8Array.from([...nestedGroups(100), ...pbBytes(3, pbString(1, "badKey"))]));
    expect(ok.outcome === "response" && hex(ok.bytes)).toBe("0802");
    expect(provision(Uint8Array.from(nestedGroups(101)))).toEqual({ outcome: "malformed", reason: "neither JSON nor protobuf: nesting too deep" });
  });

  it.each([
    ["an unknown credentialsType number", protoRequest({ deviceName: "x", credentialsType: 9, ...protoAllow }), "unknown credentialsType number 9"],
    ["a truncated string", Uint8Array.from([0x0a, 0x05, 0x61]), "truncated length-delimited field"],
    ["a truncated fixed32", Uint8Array.from([0x7d, 0x01]), "truncated fixed-width field"],
    ["a negative length", Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), "negative length"],
    ["field number 0", Uint8Array.from([0x00, 0x01]), "invalid tag (field number 0)"],
    ["wire type 7", Uint8Array.from([0x0f]), "invalid wire type 7"],
    ["a stray end-group", Uint8Array.from([0x0c]), "unexpected end-group tag"],
    ["a stray end-group inside a nested message", Uint8Array.from(pbBytes(3, [0x0c])), "unexpected end-group tag"],
    ["a mismatched end-group", Uint8Array.from([0x5b, 0x64]), "mismatched end-group tag"],
    ["an unterminated group", Uint8Array.from([0x5b]), "truncated group"],
    ["invalid UTF-8 in a string", Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]), "string field is not valid UTF-8"],
    ["a varint longer than 10 bytes", Uint8Array.from([0x10, ...new Array<number>(11).fill(0xff), 0x01]), "malformed varint (more than 10 bytes)"],
  ])("malformed protobuf: %s", (_label, bytes, reason) => {
    const r = provision(bytes);
    expect(r.outcome).toBe("malformed");
    expect(r.outcome === "malformed" && r.reason.replace(/^neither JSON nor protobuf: /, "")).toBe(reason);
    expect(store.findDeviceByName("x")).toBeUndefined();
  });
});

describe("HTTP (POST /api/v1/provision) reads JSON only", () => {
  const http = (payload: Uint8Array | string) =>
    handleProvisionRequest(store, typeof payload === "string" ? Buffer.from(payload) : payload, { ...opts(), protobufFallback: false });

  it("the same JSON answers as over MQTT", () => {
    expect(body(http(JSON.stringify({ deviceName: "h", token: "http_tok", ...allow })))).toBe(
      '{"credentialsValue":"http_tok","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}',
    );
  });
  it("a protobuf body, or JSON that is not an object, is malformed rather than a protobuf reply", () => {
    expect(http(protoRequest({ deviceName: "h2", ...protoAllow }))).toEqual({ outcome: "malformed", reason: "body is not valid JSON" });
    expect(http("8 ")).toEqual({ outcome: "malformed", reason: "JSON body is not an object" });
    expect(store.findDeviceByName("h2")).toBeUndefined();
  });
});

describe("after provisioning, the returned credentials are what a connecting device is looked up by", () => {
  it.each([
    ["ACCESS_TOKEN", { token: "conn_token" }, "conn_token"],
    ["MQTT_BASIC", { credentialsType: "MQTT_BASIC", clientId: "cc", username: "uu", password: "pp" }, sha3("cc|uu")],
    ["X509_CERTIFICATE", { credentialsType: "X509_CERTIFICATE", hash: PEM }, sha3(PEM_BODY)],
  ])("%s", (_type, creds, lookupId) => {
    body(provision({ deviceName: "conn", ...creds, ...allow }));
    expect(store.findByCredentialsId(lookupId)?.device.name).toBe("conn");
  });
});
