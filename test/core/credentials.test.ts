/**
 * The power-safe credential store (src/credentials). Runs on Node and, through test/xs, inside XS.
 * The power-cut tests cut power after every single flash step (erase or write) of every save in a sequence
 * and check that the next boot reads exactly the previous or the new record.
 */
import {
  CredentialStore,
  CredentialStoreError,
  CredentialTooLargeError,
  InvalidCredentialRecordError,
  crc32,
  decodeRecord,
  encodeRecord,
  isNewerSequence,
  type CredentialRecord,
} from "../../src/credentials/index.js";
import { KV_MAX_VALUE_BYTES } from "../../src/ports.js";
import { utf8 } from "./support/bytes.js";
import { MemoryKeyValueStore, PowerCut } from "./support/memory-kv.js";
import { Prng, scaled } from "./support/prng.js";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A PEM block with `bodyChars` of base64-looking text: the size of a real one, without generating keys. */
function pem(label: string, bodyChars: number, seed: number): string {
  const rng = new Prng(seed);
  const lines: string[] = [`-----BEGIN ${label}-----`];
  let line = "";
  for (let i = 0; i < bodyChars; i++) {
    line += B64[rng.int(0, 63)];
    if (line.length === 64) {
      lines.push(line);
      line = "";
    }
  }
  if (line) lines.push(line);
  lines.push(`-----END ${label}-----`, "");
  return lines.join("\n");
}

const TOKEN = "A1b2C3d4E5f6G7h8I9j0kLmN";

function tokenRecord(token = TOKEN, pending = false, provisionedAtMs = 1764149000123): CredentialRecord {
  return {
    credentials: { type: "ACCESS_TOKEN", token },
    host: "tb.example.com",
    port: 1883,
    deviceName: "ESP32-A1B2C3",
    provisionedAtMs,
    pending,
  };
}

function basicRecord(): CredentialRecord {
  return {
    credentials: { type: "MQTT_BASIC", clientId: "esp32-a1b2c3", username: "dev-user", password: "pa55-wörd" },
    host: "mqtt.example.org",
    port: 8883,
    deviceName: "Kühlschrank-🧊-01",
    provisionedAtMs: 1764149999999,
    pending: false,
  };
}

/** RSA-2048-sized certificate and PKCS#8 key: one NVS value. */
function x509Record(seed = 1): CredentialRecord {
  return {
    credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 1100, seed), privateKeyPem: pem("PRIVATE KEY", 1620, seed + 1) },
    host: "tb.example.com",
    port: 8883,
    deviceName: "ESP32-X509",
    provisionedAtMs: 1764150000000,
    pending: false,
  };
}

/** RSA-4096-sized: two NVS values. */
function bigX509Record(seed = 10): CredentialRecord {
  return {
    credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 1900, seed), privateKeyPem: pem("PRIVATE KEY", 3240, seed + 1) },
    host: "tb.example.com",
    port: 8883,
    deviceName: "ESP32-X509-4096",
    provisionedAtMs: 2 ** 53 - 1,
    pending: true,
  };
}

function snapshot(flash: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const copy = new Map<string, Uint8Array>();
  for (const [k, v] of flash) copy.set(k, v.slice());
  return copy;
}

function flashText(flash: Map<string, Uint8Array>): string[] {
  const out: string[] = [];
  for (const [k, v] of flash) out.push(`${k}:${v.length}:${crc32(v)}`);
  return out.sort();
}

describe("credential record encoding", () => {
  const records: [string, CredentialRecord][] = [
    ["ACCESS_TOKEN", tokenRecord()],
    ["ACCESS_TOKEN pending", tokenRecord(TOKEN, true, 0)],
    ["MQTT_BASIC with all three", basicRecord()],
    ["MQTT_BASIC client id only", { ...basicRecord(), credentials: { type: "MQTT_BASIC", clientId: "only-client" } }],
    ["MQTT_BASIC user name and empty password", { ...basicRecord(), credentials: { type: "MQTT_BASIC", username: "u", password: "" } }],
    ["X509_CERTIFICATE", x509Record()],
    ["X509_CERTIFICATE (two values)", bigX509Record()],
  ];

  it.each(records)("round-trips %s", (_name, record) => {
    const bytes = encodeRecord(record, 7);
    const decoded = decodeRecord(bytes);
    expect(decoded).toStrictEqual({ ok: true, record, sequence: 7 });
  });

  it("lays out the header as documented (version 1)", () => {
    const bytes = encodeRecord(tokenRecord(TOKEN, true), 0x01020304);
    expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([0x54, 0x43, 1, 1]);
    expect([bytes[4], bytes[5], bytes[6], bytes[7]]).toEqual([1, 2, 3, 4]);
    expect((bytes[8] << 8) | bytes[9]).toBe(bytes.length);
    expect(bytes[10]).toBe(1);
    expect((bytes[12] << 8) | bytes[13]).toBe(1883);
    const n = bytes.length;
    const stored = ((bytes[n - 4] << 24) | (bytes[n - 3] << 16) | (bytes[n - 2] << 8) | bytes[n - 1]) >>> 0;
    expect(stored).toBe(crc32(bytes, 0, n - 4));
    // 22 header + host 2+14 + name 2+12 + token 2+24 + CRC 4
    expect(n).toBe(82);
  });

  it("computes the standard CRC-32 and chains it across pieces", () => {
    const check = utf8("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32(check, 4, 9, crc32(check, 0, 4))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("orders sequences across the u32 wrap", () => {
    expect(isNewerSequence(2, 1)).toBe(true);
    expect(isNewerSequence(1, 2)).toBe(false);
    expect(isNewerSequence(0, 0xffffffff)).toBe(true);
    expect(isNewerSequence(0xffffffff, 0)).toBe(false);
    expect(isNewerSequence(5, 5)).toBe(false);
  });

  it("reports foreign, unsupported and truncated bytes without throwing", () => {
    expect(decodeRecord(utf8('{"token":"x"}'))).toMatchObject({ ok: false, problem: "foreign" });
    expect(decodeRecord(new Uint8Array(0))).toMatchObject({ ok: false, problem: "foreign" });
    const v2 = encodeRecord(tokenRecord(), 1);
    v2[2] = 2;
    expect(decodeRecord(v2)).toMatchObject({ ok: false, problem: "unsupported" });
    const full = encodeRecord(tokenRecord(), 1);
    for (let n = 0; n < full.length; n++) expect(decodeRecord(full.subarray(0, n)).ok).toBe(false);
  });

  it("refuses records whose CRC is good but whose content is not", () => {
    /** Applies `edit` to an encoded record and recomputes its length field and CRC, as a buggy writer would. */
    const resealed = (edit: (b: Uint8Array) => Uint8Array): Uint8Array => {
      const b = edit(encodeRecord(basicRecord(), 3));
      b[8] = b.length >> 8;
      b[9] = b.length & 0xff;
      const crc = crc32(b, 0, b.length - 4);
      b[b.length - 4] = crc >>> 24;
      b[b.length - 3] = (crc >>> 16) & 0xff;
      b[b.length - 2] = (crc >>> 8) & 0xff;
      b[b.length - 1] = crc & 0xff;
      return b;
    };
    const grow = (b: Uint8Array, extra: number) => {
      const out = new Uint8Array(b.length + extra);
      out.set(b.subarray(0, b.length - 4));
      return out;
    };
    expect(decodeRecord(resealed((b) => b)).ok).toBe(true);
    const cases: [string, (b: Uint8Array) => Uint8Array][] = [
      ["unsupported", (b) => ((b[3] = 0x02), b)], // unknown flag
      ["unsupported", (b) => ((b[10] = 9), b)], // unknown credentials type
      ["corrupt", (b) => ((b[11] = 0x08), b)], // unknown optional field
      ["corrupt", (b) => ((b[12] = 0), (b[13] = 0), b)], // port 0
      ["corrupt", (b) => ((b[14] = 0xff), b)], // provisioned-at beyond 2^53
      ["corrupt", (b) => grow(b, 1)], // a byte after the last field
      ["corrupt", (b) => ((b[23] = 0xff), b)], // host length runs past the end
      ["corrupt", (b) => ((b[24] = 0xc0), b)], // invalid UTF-8 in the host
      ["corrupt", (b) => ((b[24] = 0), b)], // U+0000 in the host
      ["corrupt", (b) => ((b[11] = 0x04), b.subarray(0, b.length))], // password only: no identity, strings misaligned
    ];
    for (const [problem, edit] of cases) expect(decodeRecord(resealed(edit))).toMatchObject({ ok: false, problem });
  });

  it("refuses invalid records with the field named and no secret in the message", () => {
    const secretKey = pem("PRIVATE KEY", 200, 99);
    const bad: [string, unknown][] = [
      ["credentials.token", { ...tokenRecord(), credentials: { type: "ACCESS_TOKEN", token: "" } }],
      ["credentials.token", { ...tokenRecord(), credentials: { type: "ACCESS_TOKEN", token: "bad\u0000" + TOKEN } }],
      ["credentials.token", { ...tokenRecord(), credentials: { type: "ACCESS_TOKEN", token: TOKEN + "\ud800" } }],
      ["credentials.clientId", { ...basicRecord(), credentials: { type: "MQTT_BASIC", password: "p4ss" } }],
      ["credentials.privateKeyPem", { ...x509Record(), credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 100, 1), privateKeyPem: secretKey.replace(/PRIVATE KEY/g, "RSA PRIVATE KEY") } }],
      ["credentials.privateKeyPem", { ...x509Record(), credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 100, 1), privateKeyPem: secretKey.replace(/PRIVATE KEY/g, "ENCRYPTED PRIVATE KEY") } }],
      ["credentials.certificatePem", { ...x509Record(), credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 100, 1) + secretKey, privateKeyPem: secretKey } }],
      ["credentials.certificatePem", { ...x509Record(), credentials: { type: "X509_CERTIFICATE", certificatePem: "MIIB" + TOKEN, privateKeyPem: secretKey } }],
      ["credentials.type", { ...tokenRecord(), credentials: { type: "PSK", token: TOKEN } }],
      ["port", { ...tokenRecord(), port: 0 }],
      ["port", { ...tokenRecord(), port: 65536 }],
      ["host", { ...tokenRecord(), host: "" }],
      ["provisionedAtMs", { ...tokenRecord(), provisionedAtMs: -1 }],
      ["provisionedAtMs", { ...tokenRecord(), provisionedAtMs: 1.5 }],
      ["pending", { ...tokenRecord(), pending: "yes" }],
      ["deviceName", { ...tokenRecord(), deviceName: 42 }],
    ];
    for (const [field, record] of bad) {
      let error: unknown;
      try {
        encodeRecord(record as CredentialRecord, 1);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidCredentialRecordError);
      const e = error as InvalidCredentialRecordError;
      expect([e.code, e.field]).toEqual(["invalid-record", field]);
      expect(e.message.indexOf(TOKEN)).toBe(-1);
      expect(e.message.indexOf("p4ss")).toBe(-1);
      expect(e.message.indexOf(secretKey.split("\n")[1])).toBe(-1);
    }
  });
});

describe("CredentialStore", () => {
  function fresh(options?: ConstructorParameters<typeof CredentialStore>[1]) {
    const kv = new MemoryKeyValueStore();
    return { kv, store: new CredentialStore(kv, options) };
  }

  it("loads nothing from empty flash and says both slots are empty", () => {
    const { store } = fresh();
    expect(store.load()).toStrictEqual({ record: undefined, sequence: undefined, slot: undefined, slots: [{ slot: "a", state: "empty" }, { slot: "b", state: "empty" }] });
  });

  it.each([
    ["ACCESS_TOKEN", tokenRecord()],
    ["MQTT_BASIC", basicRecord()],
    ["X509_CERTIFICATE", x509Record()],
    ["X509_CERTIFICATE over two values", bigX509Record()],
  ] as [string, CredentialRecord][])("saves and loads %s, also after a reboot", (_name, record) => {
    const { kv, store } = fresh();
    const saved = store.save(record);
    expect(saved.slot).toBe("a");
    expect(saved.sequence).toBe(1);
    expect(store.load().record).toStrictEqual(record);
    const again = new CredentialStore(kv.reboot()).load();
    expect(again.record).toStrictEqual(record);
    expect(again.slots[0]).toStrictEqual({ slot: "a", state: "valid", sequence: 1 });
    for (const key of kv.flash.keys()) expect(key.length).toBeLessThanOrEqual(15);
    for (const value of kv.flash.values()) expect(value.length).toBeLessThanOrEqual(KV_MAX_VALUE_BYTES);
    expect(kv.flash.size).toBe(Math.ceil(saved.bytes / KV_MAX_VALUE_BYTES));
  });

  it("alternates slots with rising sequence numbers and keeps the previous record", () => {
    const { kv, store } = fresh();
    for (let i = 1; i <= 5; i++) {
      const result = store.save(tokenRecord(`token-number-${i}-abcdefghij`));
      expect([result.slot, result.sequence]).toEqual([i % 2 === 1 ? "a" : "b", i]);
      const loaded = store.load();
      expect(loaded.record!.credentials).toEqual({ type: "ACCESS_TOKEN", token: `token-number-${i}-abcdefghij` });
      expect([loaded.slot, loaded.sequence]).toEqual([result.slot, i]);
    }
    // The older slot still holds record 4: it is what a cut during the next save falls back to.
    kv.flash.delete("cred.a");
    expect(store.load().record!.credentials).toEqual({ type: "ACCESS_TOKEN", token: "token-number-4-abcdefghij" });
  });

  it("takes the newer record across the sequence wrap, and continues from it", () => {
    const { kv, store } = fresh();
    kv.flash.set("cred.a", encodeRecord(tokenRecord("old-old-old-old-old-old"), 0xffffffff));
    kv.flash.set("cred.b", encodeRecord(tokenRecord("new-new-new-new-new-new"), 0));
    const loaded = store.load();
    expect([loaded.slot, loaded.sequence]).toEqual(["b", 0]);
    expect(loaded.record!.credentials).toEqual({ type: "ACCESS_TOKEN", token: "new-new-new-new-new-new" });
    expect(store.save(basicRecord())).toEqual({ slot: "a", sequence: 1, bytes: encodeRecord(basicRecord(), 1).length });
    expect(store.load().record).toStrictEqual(basicRecord());
  });

  it("confirms a pending record as a new save", () => {
    const { store } = fresh();
    expect(() => store.confirm(5)).toThrow(CredentialStoreError);
    store.save(tokenRecord(TOKEN, true, 100));
    const result = store.confirm(1764149000999);
    expect([result.slot, result.sequence]).toEqual(["b", 2]);
    expect(store.load().record).toStrictEqual(tokenRecord(TOKEN, false, 1764149000999));
  });

  it("refuses records that cannot fit, before writing anything", () => {
    const { kv, store } = fresh();
    store.save(tokenRecord());
    const before = flashText(kv.flash);
    const steps = kv.steps.length;
    const chain = bigX509Record();
    const huge: CredentialRecord = {
      ...chain,
      credentials: { type: "X509_CERTIFICATE", certificatePem: pem("CERTIFICATE", 3000, 3) + pem("CERTIFICATE", 2000, 4), privateKeyPem: pem("PRIVATE KEY", 3240, 5) },
    };
    let error: unknown;
    try {
      store.save(huge);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialTooLargeError);
    const tooLarge = error as CredentialTooLargeError;
    expect(tooLarge.code).toBe("too-large");
    expect(tooLarge.limit).toBe(8000);
    expect(tooLarge.bytes).toBeGreaterThan(8000);
    expect(tooLarge.message.indexOf(pem("PRIVATE KEY", 3240, 5).split("\n")[1])).toBe(-1);
    expect(() => store.check(huge)).toThrow(CredentialTooLargeError);
    // A store limited to one value refuses the RSA-4096-sized record that the default store takes.
    const small = new CredentialStore(kv, { maxParts: 1 });
    expect(() => small.save(bigX509Record())).toThrow(CredentialTooLargeError);
    expect(() => store.save({ ...tokenRecord(), port: -1 })).toThrow(InvalidCredentialRecordError);
    expect(flashText(kv.flash)).toEqual(before);
    expect(kv.steps.length).toBe(steps);
    expect(store.load().record).toStrictEqual(tokenRecord());
    // The one-value store still reads a record longer than its own limit.
    store.save(bigX509Record());
    expect(small.load().record).toStrictEqual(bigX509Record());
  });

  it("checks its options", () => {
    const kv = new MemoryKeyValueStore();
    expect(() => new CredentialStore(kv, { keyPrefix: "abcdefghijklm" })).toThrow(CredentialStoreError);
    expect(() => new CredentialStore(kv, { keyPrefix: "" })).toThrow(CredentialStoreError);
    expect(() => new CredentialStore(kv, { maxParts: 5 })).toThrow(CredentialStoreError);
    expect(() => new CredentialStore(kv, { maxParts: 0 })).toThrow(CredentialStoreError);
    const store = new CredentialStore(kv, { keyPrefix: "abcdefghijkl", maxParts: 4 });
    expect(store.keys.length).toBe(8);
    for (const key of store.keys) expect(key.length).toBeLessThanOrEqual(15);
    store.save(bigX509Record());
    expect([...kv.flash.keys()].sort()).toEqual(["abcdefghijkl.a", "abcdefghijkl.a1"]);
  });

  it("ignores and reports foreign and unknown-version slots", () => {
    const { kv, store } = fresh();
    kv.flash.set("cred.a", utf8('{"token":"legacy"}'));
    const v2 = encodeRecord(tokenRecord(), 9);
    v2[2] = 2;
    kv.flash.set("cred.b", v2);
    const loaded = store.load();
    expect(loaded.record).toBeUndefined();
    expect(loaded.slots.map((s) => s.state)).toEqual(["foreign", "unsupported"]);
    store.save(basicRecord());
    expect(store.load().record).toStrictEqual(basicRecord());
    store.save(x509Record());
    const last = store.load();
    expect(last.record).toStrictEqual(x509Record());
    expect(last.slots.map((s) => s.state)).toEqual(["valid", "valid"]);
  });

  it("never returns a wrong record when any byte of either slot is damaged", () => {
    // Slot a: record 1 (sequence 1), slot b: record 2 (sequence 2).
    const { kv, store } = fresh();
    const r1 = tokenRecord("first-token-aaaaaaaaaaaa");
    const r2 = basicRecord();
    store.save(r1);
    store.save(r2);
    const pristine = snapshot(kv.flash);
    let damaged = 0;
    for (const [key, expected, state] of [["cred.a", r2, "b"], ["cred.b", r1, "a"]] as const) {
      const length = pristine.get(key)!.length;
      for (let i = 0; i < length; i++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const bytes = pristine.get(key)!.slice();
          bytes[i] ^= mask;
          kv.flash.set(key, bytes);
          const loaded = store.load();
          expect(loaded.record).toStrictEqual(expected);
          expect(loaded.slot).toBe(state);
          expect(loaded.slots[key === "cred.a" ? 0 : 1].state === "valid").toBe(false);
          damaged++;
        }
      }
      kv.flash.set(key, pristine.get(key)!.slice());
    }
    expect(damaged).toBe(3 * (pristine.get("cred.a")!.length + pristine.get("cred.b")!.length));
    // With a single record stored, any damaged byte leaves nothing rather than something wrong.
    const lone = fresh();
    lone.store.save(r1);
    const bytes0 = lone.kv.flash.get("cred.a")!;
    for (let i = 0; i < bytes0.length; i++) {
      const bytes = bytes0.slice();
      bytes[i] ^= 0x10;
      lone.kv.flash.set("cred.a", bytes);
      expect(lone.store.load().record).toBeUndefined();
    }
  });

  it("detects damage, a missing piece or a wrong-sized piece in a record spread over two values", () => {
    const { kv, store } = fresh();
    store.save(tokenRecord());
    store.save(bigX509Record());
    const pristine = snapshot(kv.flash);
    expect([...pristine.keys()].sort()).toEqual(["cred.a", "cred.b", "cred.b1"]);
    const rng = new Prng(4242);
    for (const key of ["cred.b", "cred.b1"]) {
      const length = pristine.get(key)!.length;
      const positions = [0, 1, 2, 3, 4, 7, 8, 9, length - 1, length - 4];
      for (let n = 0; n < scaled(120); n++) positions.push(rng.int(0, length - 1));
      for (const i of positions) {
        const bytes = pristine.get(key)!.slice();
        bytes[i] ^= 1 << rng.int(0, 7);
        kv.flash.set(key, bytes);
        expect(store.load().record).toStrictEqual(tokenRecord());
      }
      kv.flash.set(key, pristine.get(key)!.slice());
    }
    kv.flash.delete("cred.b1");
    expect(store.load().slots[1]).toMatchObject({ state: "incomplete" });
    expect(store.load().record).toStrictEqual(tokenRecord());
    kv.flash.set("cred.b1", pristine.get("cred.b1")!.subarray(1).slice());
    expect(store.load().slots[1]).toMatchObject({ state: "corrupt" });
    kv.flash.set("cred.b1", pristine.get("cred.b1")!.slice());
    expect(store.load().record).toStrictEqual(bigX509Record());
  });

  it("passes a failing key-value store's error through and keeps the previous record", () => {
    const { kv, store } = fresh();
    store.save(tokenRecord());
    const full = {
      get: (key: string) => kv.get(key),
      set: () => {
        throw new Error("NVS full");
      },
      delete: (key: string) => kv.delete(key),
    };
    expect(() => new CredentialStore(full).save(basicRecord())).toThrow("NVS full");
    expect(store.load().record).toStrictEqual(tokenRecord());
  });

  it("never throws on, and never accepts, random bytes in the slots (seeded)", () => {
    const seed = 7331;
    const rng = new Prng(seed);
    const { kv, store } = fresh();
    const template = encodeRecord(x509Record(), 1);
    for (let i = 0; i < scaled(400); i++) {
      for (const key of ["cred.a", "cred.b", "cred.a1", "cred.b1"]) {
        if (rng.bool(0.3)) {
          kv.flash.delete(key);
          continue;
        }
        const n = rng.bool(0.5) ? rng.int(0, 64) : rng.int(0, KV_MAX_VALUE_BYTES);
        const bytes = rng.bytes(n);
        // Often a plausible header (magic, version, a length that matches), so the deeper checks run too.
        if (rng.bool(0.6) && n >= 22) {
          bytes.set(template.subarray(0, rng.int(3, 22)));
          if (rng.bool(0.5)) {
            const length = key.length === 6 && rng.bool(0.5) ? n + rng.int(1, 4000) : n;
            bytes[8] = length >> 8;
            bytes[9] = length & 0xff;
          }
        }
        kv.flash.set(key, bytes);
      }
      const loaded = store.load();
      expect([`seed ${seed} round ${i}`, loaded.record]).toEqual([`seed ${seed} round ${i}`, undefined]);
      for (const report of loaded.slots) expect(report.state === "valid").toBe(false);
    }
  });

  it("factory reset erases both slots and nothing else", () => {
    const { kv, store } = fresh();
    kv.flash.set("wifi.ssid", utf8("home"));
    store.save(bigX509Record());
    store.save(tokenRecord());
    store.save(bigX509Record(20));
    store.factoryReset();
    expect([...kv.flash.keys()]).toEqual(["wifi.ssid"]);
    expect(store.load().record).toBeUndefined();
    store.save(basicRecord());
    expect(store.load()).toMatchObject({ slot: "a", sequence: 1, record: basicRecord() });
  });

  it("drops the pieces a longer record left behind in its slot", () => {
    const { kv, store } = fresh();
    store.save(bigX509Record()); // a, a1
    store.save(tokenRecord()); // b
    store.save(basicRecord()); // a: a1 is stale
    expect([...kv.flash.keys()].sort()).toEqual(["cred.a", "cred.b"]);
    expect(store.load().record).toStrictEqual(basicRecord());
  });
});

describe("CredentialStore under power cuts", () => {
  type Operation = { name: string; run: (store: CredentialStore) => void; after: CredentialRecord | undefined };

  const pending = tokenRecord("device-chosen-token-0123456789", true, 1764149000000);
  const confirmed = tokenRecord("device-chosen-token-0123456789", false, 1764149000500);
  const big = bigX509Record(30);
  const basic = basicRecord();
  const big2 = bigX509Record(40);
  const small = x509Record(50);
  const last = tokenRecord("server-issued-token-aaaaaaaa");

  /** Every step of every operation, in order; each starts from the flash the previous one left. */
  const operations: Operation[] = [
    { name: "first save (pending) into empty flash", run: (s) => s.save(pending), after: pending },
    { name: "pending -> confirmed", run: (s) => s.confirm(1764149000500), after: confirmed },
    { name: "third save: X.509 over two values", run: (s) => s.save(big), after: big },
    { name: "fourth save: MQTT_BASIC into the slot of a two-value record", run: (s) => s.save(basic), after: basic },
    { name: "fifth save: X.509 over two values again", run: (s) => s.save(big2), after: big2 },
    { name: "sixth save: one-value X.509", run: (s) => s.save(small), after: small },
    { name: "seventh save: token into the slot of a two-value record", run: (s) => s.save(last), after: last },
  ];
  /**
   * Flash steps per operation, pinned so the enumeration cannot shrink unnoticed:
   * 1. write a                                  (a was empty)
   * 2. write b                                  (b was empty)
   * 3. erase a, write a1, write a               (two values into a, which held one)
   * 4. erase b, write b
   * 5. erase a, erase a1, write a1, write a     (two values into a, which held two)
   * 6. erase b, write b
   * 7. erase a, write a, erase a1               (one value into a; its stale second piece is dropped)
   */
  const EXPECTED_STEPS = [
    ["write cred.a"],
    ["write cred.b"],
    ["erase cred.a", "write cred.a1", "write cred.a"],
    ["erase cred.b", "write cred.b"],
    ["erase cred.a", "erase cred.a1", "write cred.a1", "write cred.a"],
    ["erase cred.b", "write cred.b"],
    ["erase cred.a", "write cred.a", "erase cred.a1"],
  ];
  const EXPECTED_CUT_POINTS = 16;

  it("reads the previous or the new record after a cut at every step of every save", () => {
    let flash = new Map<string, Uint8Array>();
    let before: CredentialRecord | undefined;
    const stepsPerOperation: string[][] = [];
    let cutPoints = 0;
    for (const op of operations) {
      // Dry run to count the steps, then one run per cut point, each from the same starting flash.
      const dry = new MemoryKeyValueStore(snapshot(flash));
      op.run(new CredentialStore(dry));
      const total = dry.steps.length;
      stepsPerOperation.push(dry.steps.map((step) => `${step.kind} ${step.key}`));
      let sawNew = false;
      for (let n = 1; n <= total; n++) {
        const kv = new MemoryKeyValueStore(snapshot(flash)).cutPowerAfter(n);
        let cut: unknown;
        try {
          op.run(new CredentialStore(kv));
        } catch (e) {
          cut = e;
        }
        expect(cut).toBeInstanceOf(PowerCut);
        const booted = kv.reboot();
        const store = new CredentialStore(booted);
        const got = store.load().record;
        const where = `${op.name}, cut after step ${n} of ${total}`;
        if (sawNew) expect([where, got]).toStrictEqual([where, op.after]);
        else if (before === undefined) expect([where, got === undefined || equal(got, op.after)]).toEqual([where, true]);
        else expect([where, equal(got, before) || equal(got, op.after)]).toEqual([where, true]);
        if (got !== undefined && equal(got, op.after)) sawNew = true;
        // The device goes on: a later save and load work from whatever the cut left.
        store.save(tokenRecord("after-the-cut-token-xyz0"));
        expect(store.load().record).toStrictEqual(tokenRecord("after-the-cut-token-xyz0"));
        store.save(basic);
        expect(new CredentialStore(booted.reboot()).load().record).toStrictEqual(basic);
        cutPoints++;
      }
      // After the last step the new record is what the next boot reads.
      expect([op.name, sawNew]).toEqual([op.name, true]);
      op.run(new CredentialStore(new MemoryKeyValueStore(flash)));
      before = op.after;
    }
    expect(stepsPerOperation).toEqual(EXPECTED_STEPS);
    expect(cutPoints).toBe(EXPECTED_CUT_POINTS);
  });

  it("factory reset cut at every step leaves the newest record or none, never an older one", () => {
    const base = new MemoryKeyValueStore();
    const setup = new CredentialStore(base);
    setup.save(bigX509Record(60)); // a, a1 (older)
    setup.save(big2); // b, b1 (newest)
    const flash = snapshot(base.flash);
    const dry = new MemoryKeyValueStore(snapshot(flash));
    new CredentialStore(dry).factoryReset();
    expect(dry.steps.map((s) => `${s.kind} ${s.key}`)).toEqual(["erase cred.a", "erase cred.b", "erase cred.a1", "erase cred.b1"]);
    let gone = false;
    for (let n = 1; n <= dry.steps.length; n++) {
      const kv = new MemoryKeyValueStore(snapshot(flash)).cutPowerAfter(n);
      expect(() => new CredentialStore(kv).factoryReset()).toThrow(PowerCut);
      const got = new CredentialStore(kv.reboot()).load().record;
      if (gone) expect(got).toBeUndefined();
      else expect(got === undefined || equal(got, big2)).toBe(true);
      if (got === undefined) gone = true;
    }
    expect(gone).toBe(true);
  });
});

describe("CredentialStore under repeated power cuts (seeded random walk)", () => {
  it("always boots into the last record it read or the one being written, from any leftover state", () => {
    const pool = [tokenRecord(), tokenRecord("pending-token-abcdefghijklmn", true, 5), basicRecord(), x509Record(70), bigX509Record(80), bigX509Record(90)];
    const seed = 20261126;
    const rng = new Prng(seed);
    let kv = new MemoryKeyValueStore();
    let visible: CredentialRecord | undefined;
    let cuts = 0;
    const rounds = scaled(1000);
    for (let round = 0; round < rounds; round++) {
      const reset = rng.bool(0.05);
      const record = rng.pick(pool);
      const cutAfter = rng.int(1, 6);
      kv.cutPowerAfter(cutAfter);
      const store = new CredentialStore(kv);
      let cut = false;
      try {
        if (reset) store.factoryReset();
        else store.save(record);
      } catch (e) {
        expect(e).toBeInstanceOf(PowerCut);
        cut = true;
        cuts++;
      }
      kv = kv.reboot();
      const got = new CredentialStore(kv).load().record;
      const where = `seed ${seed}, round ${round}, ${reset ? "factory reset" : "save"}, cut after ${cutAfter}: ${cut}`;
      const allowed = reset ? [visible, undefined] : [visible, record];
      if (!cut) expect([where, equal(got, reset ? undefined : record)]).toEqual([where, true]);
      else expect([where, allowed.some((r) => equal(got, r))]).toEqual([where, true]);
      visible = got;
    }
    // The walk must really have cut power often, and from states with leftovers of earlier cuts.
    expect(cuts).toBeGreaterThan(rounds / 4);
  });
});

/** Deep equality for records (portable: the XS shim's expect has no boolean-returning form). */
function equal(a: CredentialRecord | undefined, b: CredentialRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sorted((value as Record<string, unknown>)[key]);
  return out;
}
