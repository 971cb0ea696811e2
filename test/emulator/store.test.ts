import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EmulatorStore, DEFAULT_PROFILE_NAME, provisionStateOf } from "../../tools/emulator/store.js";
import { seedStore } from "../../tools/emulator/seed.js";
import { ConflictError, InvalidSeedConfigError, NotFoundError, StateFileCorruptError } from "../../tools/emulator/errors.js";
import { accessTokenCredentials, mqttBasicCredentials, sha3Hex, x509Credentials } from "../../tools/emulator/credentials.js";
import { removeStaleTempFiles, writeFileAtomic } from "../../tools/emulator/atomic-file.js";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\r\nCERTbody==\n-----END CERTIFICATE-----\n";

/** A store seeded with one of everything that must survive a restart. */
function populatedStore(now = () => 1_700_000_000_000): EmulatorStore {
  const store = new EmulatorStore({ now, maxPointsPerKey: 50 });
  seedStore(store, {
    profiles: [
      { name: "esp32", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "k1", provisionDeviceSecret: "s1" },
      { name: "factory", provisionType: "CHECK_PRE_PROVISIONED_DEVICES", provisionDeviceKey: "k2", provisionDeviceSecret: "s2" },
      { name: "off", provisionType: "DISABLED" },
    ],
    devices: [
      { name: "tok", profile: "esp32", credentials: { type: "ACCESS_TOKEN", token: "TOKEN_A" }, label: "bench" },
      { name: "basic", profile: "factory", credentials: { type: "MQTT_BASIC", clientId: "c", username: "u", password: "p" } },
      { name: "cert", profile: "factory", gateway: true, credentials: { type: "X509_CERTIFICATE", pem: PEM } },
      { name: "plain", attributes: { SHARED_SCOPE: { fw: "1.0", cfg: { a: [1, 2] } }, SERVER_SCOPE: { mac: "aa:bb" } } },
    ],
  });
  const tok = store.findDeviceByName("tok")!;
  store.setAttributes(tok.id.id, "SERVER_SCOPE", { provisionState: "provisioned" }, 1234);
  store.setAttributes(tok.id.id, "CLIENT_SCOPE", { rssi: -60, ok: true }, 1235);
  store.appendTimeseries(tok.id.id, 10, { t: 21.5, h: "40" });
  store.appendTimeseries(tok.id.id, 20, { t: 22, s: { nested: true } });
  return store;
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tb-emu-store-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("EmulatorStore in memory", () => {
  it("starts with ThingsBoard's default profile: DISABLED, null key and secret", () => {
    const store = new EmulatorStore();
    const p = store.getDefaultProfile();
    expect(p).toMatchObject({ name: DEFAULT_PROFILE_NAME, default: true, provisionType: "DISABLED" });
    expect(p.provisionDeviceKey).toBeNull();
    expect(p.provisionDeviceSecret).toBeNull();
    expect(p.id.entityType).toBe("DEVICE_PROFILE");
    expect(p.tenantId).toEqual(store.tenantId);
  });

  it("creates devices in ThingsBoard's shape, with a random 20-character token by default", () => {
    const store = new EmulatorStore({ now: () => 42 });
    const { device, credentials } = store.createDevice({ name: "d1" });
    expect(device).toEqual({
      id: { entityType: "DEVICE", id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      createdTime: 42,
      tenantId: store.tenantId,
      name: "d1",
      type: "default",
      label: null,
      deviceProfileId: store.getDefaultProfile().id,
      additionalInfo: null,
    });
    expect(credentials.credentialsType).toBe("ACCESS_TOKEN");
    expect(credentials.credentialsId).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(credentials.credentialsValue).toBeNull();
    expect(credentials.deviceId).toEqual(device.id);
    expect(Object.keys(credentials.id)).toEqual(["id"]);
    expect(store.findByCredentialsId(credentials.credentialsId)?.device).toEqual(device);
    expect(store.getDevice(device.id.id)).toEqual(device);
  });

  it("returns copies: editing a returned object does not change the store", () => {
    const store = new EmulatorStore();
    const { device } = store.createDevice({ name: "d1" });
    device.name = "changed";
    store.findDeviceByName("d1")!.additionalInfo = { gateway: true };
    expect(store.getDevice(device.id.id)).toMatchObject({ name: "d1", additionalInfo: null });
    const value = { nested: [1] };
    store.appendTimeseries(device.id.id, 1, { j: value });
    store.setAttributes(device.id.id, "SHARED_SCOPE", { j: value });
    value.nested.push(2); // the caller's object after storing
    store.latestTimeseries(device.id.id).j!.value = "edited";
    (store.getAttribute(device.id.id, "SHARED_SCOPE", "j")!.value as { nested: number[] }).nested.push(3);
    expect(store.latestTimeseries(device.id.id).j!.value).toEqual({ nested: [1] });
    expect(store.getAttribute(device.id.id, "SHARED_SCOPE", "j")!.value).toEqual({ nested: [1] });
  });

  it("enforces ThingsBoard's uniqueness rules and changes nothing when one is broken", () => {
    const store = populatedStore();
    const before = JSON.stringify(store.toSnapshot());
    const conflict = (f: () => unknown, code: string, message: string) => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ code, message });
    };
    conflict(() => store.createDevice({ name: "tok" }), "DUPLICATE_DEVICE_NAME", "Device with such name already exists!");
    conflict(
      () => store.createDevice({ name: "new", credentials: accessTokenCredentials("TOKEN_A") }),
      "CREDENTIALS_IN_USE",
      "Specified credentials are already registered!",
    );
    conflict(() => store.createProfile({ name: "esp32" }), "DUPLICATE_PROFILE_NAME", "Device profile with such name already exists!");
    conflict(
      () => store.createProfile({ name: "other", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "k2", provisionDeviceSecret: "x" }),
      "DUPLICATE_PROVISION_KEY",
      "Device profile with such provision device key already exists!",
    );
    const basic = store.findDeviceByName("basic")!;
    conflict(() => store.updateCredentials(basic.id.id, accessTokenCredentials("TOKEN_A")), "CREDENTIALS_IN_USE", "Specified credentials are already registered!");
    expect(JSON.stringify(store.toSnapshot())).toBe(before);
  });

  it("finds profiles by name and by provision key; DISABLED profiles are never found by key", () => {
    const store = populatedStore();
    expect(store.findProfileByProvisionKey("k1")?.name).toBe("esp32");
    expect(store.findProfileByProvisionKey("k2")?.provisionDeviceSecret).toBe("s2");
    expect(store.findProfileByName("off")?.provisionDeviceKey).toBeNull();
    expect(store.findProfileByProvisionKey("nope")).toBeUndefined();
    expect(store.listProfiles().map((p) => p.name).sort()).toEqual(["default", "esp32", "factory", "off"]);
  });

  it("updates credentials in place (same record id) and re-indexes the lookup", () => {
    const store = populatedStore();
    const tok = store.findDeviceByName("tok")!;
    const old = store.getCredentialsByDeviceId(tok.id.id)!;
    const updated = store.updateCredentials(tok.id.id, mqttBasicCredentials({ clientId: "", userName: "user", password: "" }));
    expect(updated.id).toEqual(old.id);
    expect(store.findByCredentialsId("TOKEN_A")).toBeUndefined();
    expect(store.findByCredentialsId("user")?.device.name).toBe("tok");
    expect(store.isCredentialsIdFree("TOKEN_A")).toBe(true);
  });

  it("sets, reads and deletes attributes per scope with lastUpdateTs", () => {
    let t = 100;
    const store = new EmulatorStore({ now: () => t });
    const id = store.createDevice({ name: "d" }).device.id.id;
    store.setAttributes(id, "SHARED_SCOPE", { a: 1, b: "x" });
    t = 200;
    store.setAttributes(id, "SHARED_SCOPE", { a: 2 });
    expect(store.getAttributes(id, "SHARED_SCOPE")).toEqual([
      { lastUpdateTs: 200, key: "a", value: 2 },
      { lastUpdateTs: 100, key: "b", value: "x" },
    ]);
    expect(store.getAttributes(id, "SHARED_SCOPE", ["b", "missing"])).toEqual([{ lastUpdateTs: 100, key: "b", value: "x" }]);
    expect(store.getAttributes(id, "SERVER_SCOPE")).toEqual([]);
    expect(store.deleteAttributes(id, "SHARED_SCOPE", ["a", "missing"])).toEqual(["a"]);
    expect(store.getAttribute(id, "SHARED_SCOPE", "a")).toBeUndefined();
    expect(() => store.setAttributes("no-such-device", "SERVER_SCOPE", { a: 1 })).toThrow(NotFoundError);
  });

  it("reads provisionState as ThingsBoard compares it (value as string)", () => {
    const store = populatedStore();
    expect(provisionStateOf(store, store.findDeviceByName("tok")!.id)).toBe("provisioned");
    expect(provisionStateOf(store, store.findDeviceByName("basic")!.id)).toBeUndefined();
  });

  it("updates a device: rename (uniqueness kept), label, profile (type follows), additionalInfo", () => {
    const store = populatedStore();
    const tok = store.findDeviceByName("tok")!;
    expect(() => store.updateDevice(tok.id.id, { name: "basic" })).toThrow(ConflictError);
    expect(() => store.updateDevice(tok.id.id, { deviceProfileId: "nope" })).toThrow(NotFoundError);
    const factory = store.findProfileByName("factory")!;
    const updated = store.updateDevice(tok.id.id, { name: "tok-2", label: null, deviceProfileId: factory.id.id, additionalInfo: { gateway: true } });
    expect(updated).toEqual({ ...tok, name: "tok-2", label: null, type: "factory", deviceProfileId: factory.id, additionalInfo: { gateway: true } });
    expect(store.findDeviceByName("tok")).toBeUndefined();
    expect(store.findDeviceByName("tok-2")).toEqual(updated);
    expect(store.findByCredentialsId("TOKEN_A")?.device).toEqual(updated);
    expect(store.updateDevice(tok.id.id, {})).toEqual(updated); // no changes, same name is not a conflict
  });

  it("deleting a device frees its name and credentials and drops its data", () => {
    const store = populatedStore();
    const tok = store.findDeviceByName("tok")!;
    expect(store.deleteDevice(tok.id.id)).toBe(true);
    expect(store.deleteDevice(tok.id.id)).toBe(false);
    expect(store.findDeviceByName("tok")).toBeUndefined();
    expect(store.findByCredentialsId("TOKEN_A")).toBeUndefined();
    expect(() => store.getAttributes(tok.id.id, "SERVER_SCOPE")).toThrow(NotFoundError);
    store.createDevice({ name: "tok", credentials: accessTokenCredentials("TOKEN_A") });
  });
});

describe("timeseries", () => {
  it("keeps points sorted, overwrites a repeated ts, queries [startTs, endTs) with order and limit", () => {
    const store = new EmulatorStore();
    const id = store.createDevice({ name: "d" }).device.id.id;
    for (const ts of [30, 10, 20, 40]) store.appendTimeseries(id, ts, { t: ts / 10 });
    store.appendTimeseries(id, 20, { t: 99 });
    const all = { startTs: 0, endTs: 1000, limit: 100 } as const;
    expect(store.queryTimeseries(id, "t", { ...all, order: "ASC" })).toEqual([
      { ts: 10, value: 1 },
      { ts: 20, value: 99 },
      { ts: 30, value: 3 },
      { ts: 40, value: 4 },
    ]);
    expect(store.queryTimeseries(id, "t", { startTs: 20, endTs: 40, limit: 100, order: "DESC" })).toEqual([
      { ts: 30, value: 3 },
      { ts: 20, value: 99 },
    ]);
    expect(store.queryTimeseries(id, "t", { ...all, limit: 1, order: "DESC" })).toEqual([{ ts: 40, value: 4 }]);
    expect(store.queryTimeseries(id, "nope", { ...all, order: "ASC" })).toEqual([]);
    expect(store.latestTimeseries(id)).toEqual({ t: { ts: 40, value: 4 } });
    expect(store.timeseriesKeys(id)).toEqual(["t"]);
  });

  it("is bounded per key: the oldest points go, memory stays flat however much arrives", () => {
    const store = new EmulatorStore({ maxPointsPerKey: 100 });
    const id = store.createDevice({ name: "d" }).device.id.id;
    const sizeAfter = (n: number, from: number) => {
      for (let i = from; i < from + n; i++) store.appendTimeseries(id, i, { t: i, h: i % 7 });
      return JSON.stringify(store.toSnapshot()).length;
    };
    const after10k = sizeAfter(10_000, 0);
    const after100k = sizeAfter(90_000, 10_000);
    expect(store.timeseriesSize(id, "t")).toBe(100);
    expect(store.timeseriesSize(id, "h")).toBe(100);
    // Same number of points with values of the same width: the state does not grow with traffic.
    expect(after100k - after10k).toBeLessThanOrEqual(100 * 2 * 2);
    const kept = store.queryTimeseries(id, "t", { startTs: 0, endTs: Infinity, limit: 1000, order: "ASC" });
    expect(kept[0]).toEqual({ ts: 99_900, value: 99_900 });
    expect(kept[99]).toEqual({ ts: 99_999, value: 99_999 });
    // An old point arriving late is the oldest, so it is the one dropped.
    store.appendTimeseries(id, 5, { t: 5 });
    expect(store.queryTimeseries(id, "t", { startTs: 0, endTs: Infinity, limit: 1, order: "ASC" })).toEqual([{ ts: 99_900, value: 99_900 }]);
  });

  it("rejects a nonsensical bound", () => {
    expect(() => new EmulatorStore({ maxPointsPerKey: 0 })).toThrow(/positive integer/);
  });
});

describe("persistence", () => {
  it("round-trips profiles, devices, credentials, provisionState, attributes and telemetry", async () => {
    const file = path.join(dir, "state.json");
    const store = populatedStore();
    await store.save(file);
    const loaded = await EmulatorStore.load(file, { maxPointsPerKey: 50 });
    expect(loaded.toSnapshot()).toEqual(store.toSnapshot());
    expect(loaded.tenantId).toEqual(store.tenantId);

    const tok = loaded.findDeviceByName("tok")!;
    expect(provisionStateOf(loaded, tok.id)).toBe("provisioned");
    expect(loaded.findByCredentialsId("TOKEN_A")?.device.id).toEqual(tok.id);
    expect(loaded.findByCredentialsId(sha3Hex("c|u"))?.device.name).toBe("basic");
    expect(loaded.findByCredentialsId(x509Credentials(PEM).credentialsId)?.device).toMatchObject({
      name: "cert",
      additionalInfo: { gateway: true },
      type: "factory",
    });
    expect(loaded.findProfileByProvisionKey("k1")?.name).toBe("esp32");
    expect(loaded.getDefaultProfile().name).toBe("default");
    expect(loaded.getAttributes(tok.id.id, "CLIENT_SCOPE")).toEqual([
      { lastUpdateTs: 1235, key: "rssi", value: -60 },
      { lastUpdateTs: 1235, key: "ok", value: true },
    ]);
    expect(loaded.latestTimeseries(tok.id.id)).toEqual({
      t: { ts: 20, value: 22 },
      h: { ts: 10, value: "40" },
      s: { ts: 20, value: { nested: true } },
    });
    // The reloaded store keeps enforcing uniqueness.
    expect(() => loaded.createDevice({ name: "n", credentials: accessTokenCredentials("TOKEN_A") })).toThrow(ConflictError);
  });

  it("a bad option is the caller's error, not a corrupt file", async () => {
    const file = path.join(dir, "state.json");
    await populatedStore().save(file);
    await expect(EmulatorStore.load(file, { maxPointsPerKey: -1 })).rejects.toThrow(/maxPointsPerKey must be a positive integer/);
  });

  it("loading with a smaller bound keeps only the newest points", async () => {
    const file = path.join(dir, "state.json");
    const store = new EmulatorStore({ maxPointsPerKey: 10 });
    const id = store.createDevice({ name: "d" }).device.id.id;
    for (let ts = 1; ts <= 10; ts++) store.appendTimeseries(id, ts, { t: ts });
    await store.save(file);
    const small = await EmulatorStore.load(file, { maxPointsPerKey: 3 });
    expect(small.queryTimeseries(id, "t", { startTs: 0, endTs: 100, limit: 100, order: "ASC" }).map((p) => p.ts)).toEqual([8, 9, 10]);
  });

  it("a missing file loads as an empty store", async () => {
    const store = await EmulatorStore.load(path.join(dir, "absent.json"));
    expect(store.listDevices()).toEqual([]);
    expect(store.listProfiles().map((p) => p.name)).toEqual(["default"]);
  });

  it.each([
    ["garbage bytes", "\u0000\u00ff{not json", /not valid JSON|Unexpected token|JSON/],
    ["truncated JSON", '{"format":"tb-emulator-state","version":1,"profi', /JSON|Unterminated|Unexpected end/],
    ["another format", '{"hello":"world"}', /state\.format/],
    ["a newer version", '{"format":"tb-emulator-state","version":2}', /unsupported version 2/],
    ["a bad field", JSON.stringify({ ...new EmulatorStore().toSnapshot(), profiles: [{ name: 1 }] }), /state\.profiles\[0\]/],
  ])("a corrupt file (%s) is a StateFileCorruptError naming the file, and is left as it was", async (_label, text, detail) => {
    const file = path.join(dir, "state.json");
    await fs.writeFile(file, text);
    const err = await EmulatorStore.load(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StateFileCorruptError);
    expect((err as StateFileCorruptError).file).toBe(file);
    expect((err as Error).message).toContain(file);
    expect((err as StateFileCorruptError).detail).toMatch(detail);
    expect(await fs.readFile(file, "utf8")).toBe(text);
  });

  it("a save that fails between writing the temp file and the rename leaves the previous state loadable", async () => {
    const file = path.join(dir, "state.json");
    const store = populatedStore();
    await store.save(file);
    const previous = store.toSnapshot();

    store.createDevice({ name: "added-later" });
    let tempSeen = "";
    const failing = store.save(file, {
      beforeRename: async (temp) => {
        tempSeen = temp;
        // The new state is complete and durable in the temp file before the rename is attempted.
        expect(JSON.parse(await fs.readFile(temp, "utf8")).devices).toHaveLength(5);
        throw new Error("simulated crash before rename");
      },
    });
    await expect(failing).rejects.toThrow("simulated crash before rename");
    await expect(fs.access(tempSeen)).rejects.toThrow(); // cleaned up
    expect((await EmulatorStore.load(file, { maxPointsPerKey: 50 })).toSnapshot()).toEqual(previous);

    // A failed save does not block the next one.
    await store.save(file);
    expect((await EmulatorStore.load(file)).findDeviceByName("added-later")).toBeDefined();
  });

  it("a writer killed mid-save (temp file left behind, partly written) leaves the previous state loadable", async () => {
    const file = path.join(dir, "state.json");
    const store = populatedStore();
    await store.save(file);
    const previous = store.toSnapshot();
    store.createDevice({ name: "lost-in-crash" });

    // Freeze the writer just before the rename, as a SIGKILL at that instant would: nothing more happens.
    let frozenTemp = "";
    void store.save(file, { beforeRename: (temp) => ((frozenTemp = temp), new Promise<void>(() => undefined)) });
    await new Promise((r) => setTimeout(r, 50));
    expect(frozenTemp).not.toBe("");
    // A kill during the write itself leaves a truncated temp file too.
    const truncated = path.join(dir, ".state.json.deadbeef0000.tmp");
    await fs.writeFile(truncated, JSON.stringify(store.toSnapshot()).slice(0, 100));

    const reloaded = await EmulatorStore.load(file, { maxPointsPerKey: 50 });
    expect(reloaded.toSnapshot()).toEqual(previous);
    expect(reloaded.findDeviceByName("lost-in-crash")).toBeUndefined();
    // Load removed the debris.
    expect((await fs.readdir(dir)).sort()).toEqual(["state.json"]);
  });

  it("overlapping saves are applied in call order: the file ends with the latest state", async () => {
    const file = path.join(dir, "state.json");
    const store = new EmulatorStore();
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      store.createDevice({ name: `d${i}` });
      saves.push(store.save(file));
    }
    await Promise.all(saves);
    expect((await EmulatorStore.load(file)).listDevices()).toHaveLength(10);
    expect(await fs.readdir(dir)).toEqual(["state.json"]);
  });

  it("writeFileAtomic replaces the whole file and removeStaleTempFiles only touches its own temp files", async () => {
    const file = path.join(dir, "x.json");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(await fs.readFile(file, "utf8")).toBe("two");
    await fs.writeFile(path.join(dir, ".x.json.abc.tmp"), "junk");
    await fs.writeFile(path.join(dir, ".other.json.abc.tmp"), "keep");
    expect(await removeStaleTempFiles(file)).toEqual([".x.json.abc.tmp"]);
    expect((await fs.readdir(dir)).sort()).toEqual([".other.json.abc.tmp", "x.json"]);
  });
});

describe("seeding from a config object", () => {
  it("builds credentials exactly as ThingsBoard would store them", () => {
    const store = populatedStore();
    const creds = (name: string) => store.getCredentialsByDeviceId(store.findDeviceByName(name)!.id.id)!;
    expect(creds("tok")).toMatchObject({ credentialsType: "ACCESS_TOKEN", credentialsId: "TOKEN_A", credentialsValue: null });
    expect(creds("basic")).toMatchObject({
      credentialsType: "MQTT_BASIC",
      credentialsId: sha3Hex("c|u"),
      credentialsValue: '{"clientId":"c","userName":"u","password":"p"}',
    });
    expect(creds("cert")).toMatchObject({ credentialsType: "X509_CERTIFICATE", credentialsValue: "MIIBfakeCERTbody==" });
    expect(store.getAttributes(store.findDeviceByName("plain")!.id.id, "SHARED_SCOPE").map((a) => [a.key, a.value])).toEqual([
      ["fw", "1.0"],
      ["cfg", { a: [1, 2] }],
    ]);
  });

  it("skips names that already exist, so the same config can be applied on every start", () => {
    const store = populatedStore();
    const before = JSON.stringify(store.toSnapshot());
    const report = seedStore(store, { profiles: [{ name: "esp32" }], devices: [{ name: "tok" }] });
    expect(report).toEqual({ createdProfiles: [], createdDevices: [], skipped: ["esp32", "tok"] });
    expect(JSON.stringify(store.toSnapshot())).toBe(before);
  });

  it.each([
    [{ profiles: {} }, "config.profiles"],
    [{ devices: [{ name: "a", profil: "x" }] }, "devices[0].profil"],
    [{ profiles: [{ name: "p", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "k" }] }, "profiles[0].provisionDeviceSecret"],
    [{ profiles: [{ name: "p", provisionType: "SOMETIMES" }] }, "profiles[0].provisionType"],
    [{ devices: [{ name: "a", profile: "missing" }] }, "devices[0].profile"],
    [{ devices: [{ name: "a", credentials: { type: "MQTT_BASIC", password: "p" } }] }, "devices[0].credentials"],
    [{ devices: [{ name: "a", credentials: { type: "PSK" } }] }, "devices[0].credentials.type"],
    [{ devices: [{ name: "a", attributes: { SERVER_SCOPE: { x: null } } }] }, "devices[0].attributes.SERVER_SCOPE.x"],
    [{ devices: [{ name: "a" }, { name: "b", credentials: { type: "ACCESS_TOKEN", token: "TOKEN_A" } }] }, "devices[1]"],
  ])("rejects %j at %s, all or nothing", (config, where) => {
    const store = populatedStore();
    const before = JSON.stringify(store.toSnapshot());
    let err: unknown;
    try {
      seedStore(store, config);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidSeedConfigError);
    expect((err as InvalidSeedConfigError).where).toBe(where);
    expect(JSON.stringify(store.toSnapshot())).toBe(before);
  });
});
