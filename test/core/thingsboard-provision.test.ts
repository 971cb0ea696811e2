/**
 * Provisioning payloads (src/thingsboard): the request for every credentials mode, byte-exact; the token
 * generator; and the response parser against the exact server strings and hostile responses.
 * Runs on Node and inside XS (test/xs), so only portable code here.
 */
import {
  ProvisionFailedError,
  ProvisionNotFoundError,
  ProvisionRequestError,
  ProvisionResponseError,
  ThingsBoardError,
} from "../../src/thingsboard/errors.js";
import {
  expectedCredentialsType,
  generateAccessToken,
  MAX_CREDENTIAL_BYTES,
  provisionRequestBytes,
  provisionRequestJson,
  TOKEN_ALPHABET,
  type ProvisionRequest,
} from "../../src/thingsboard/provision-request.js";
import {
  MAX_PROVISION_RESPONSE_BYTES,
  parseProvisionResponse,
  type ProvisionExpectation,
} from "../../src/thingsboard/provision-response.js";
import { KV_MAX_VALUE_BYTES, type RandomSource } from "../../src/ports.js";
import { concat, utf8 } from "./support/bytes.js";
import { Prng, scaled } from "./support/prng.js";
import { thrown } from "./support/thrown.js";

const KEY = "pk-0123456789abcdef";
const SECRET = "ps-SECRET-fedcba9876543210";
const base = { deviceName: "ESP32-A1B2C3", provisionDeviceKey: KEY, provisionDeviceSecret: SECRET };

/** A RandomSource over the seeded test PRNG. */
function seeded(seed: number): RandomSource & { bytesDrawn: number } {
  const prng = new Prng(seed);
  return {
    bytesDrawn: 0,
    fill(target: Uint8Array) {
      for (let i = 0; i < target.length; i++) target[i] = (prng.next() * 256) | 0;
      this.bytesDrawn += target.length;
    },
  };
}

/** A RandomSource that plays back `bytes` (then repeats the last one). */
function scripted(bytes: number[]): RandomSource {
  let i = 0;
  return {
    fill(target: Uint8Array) {
      for (let j = 0; j < target.length; j++) target[j] = bytes[Math.min(i++, bytes.length - 1)];
    },
  };
}


function requestError(request: ProvisionRequest): ProvisionRequestError {
  const e = thrown(() => provisionRequestJson(request));
  expect(e).toBeInstanceOf(ProvisionRequestError);
  return e as ProvisionRequestError;
}

describe("thingsboard: provision request", () => {
  it("server-generated token: no credentials fields at all", () => {
    expect(provisionRequestJson(base)).toBe(
      '{"deviceName":"ESP32-A1B2C3","provisionDeviceKey":"pk-0123456789abcdef","provisionDeviceSecret":"ps-SECRET-fedcba9876543210"}',
    );
    expect(provisionRequestJson({ ...base, credentials: { type: "SERVER_GENERATED_TOKEN" } })).toBe(provisionRequestJson(base));
    expect(expectedCredentialsType(base)).toBe("ACCESS_TOKEN");
  });

  it("no device name: the server invents one", () => {
    expect(provisionRequestJson({ provisionDeviceKey: "k", provisionDeviceSecret: "s" })).toBe(
      '{"provisionDeviceKey":"k","provisionDeviceSecret":"s"}',
    );
  });

  it("device-chosen ACCESS_TOKEN", () => {
    const request: ProvisionRequest = { ...base, credentials: { type: "ACCESS_TOKEN", token: "tok12345678901234567" } };
    expect(provisionRequestJson(request)).toBe(
      '{"deviceName":"ESP32-A1B2C3","provisionDeviceKey":"pk-0123456789abcdef","provisionDeviceSecret":"ps-SECRET-fedcba9876543210",' +
        '"credentialsType":"ACCESS_TOKEN","token":"tok12345678901234567"}',
    );
    expect(expectedCredentialsType(request)).toBe("ACCESS_TOKEN");
  });

  it("MQTT_BASIC: every valid combination, only the fields in use, fixed order", () => {
    const head = '{"provisionDeviceKey":"k","provisionDeviceSecret":"s","credentialsType":"MQTT_BASIC"';
    const mqtt = (c: { clientId?: string; username?: string; password?: string }) =>
      provisionRequestJson({ provisionDeviceKey: "k", provisionDeviceSecret: "s", credentials: { type: "MQTT_BASIC", ...c } });
    expect(mqtt({ password: "p", username: "u", clientId: "c" })).toBe(head + ',"clientId":"c","username":"u","password":"p"}');
    expect(mqtt({ clientId: "c" })).toBe(head + ',"clientId":"c"}');
    expect(mqtt({ username: "u" })).toBe(head + ',"username":"u"}');
    expect(mqtt({ username: "u", password: "p" })).toBe(head + ',"username":"u","password":"p"}');
    expect(mqtt({ clientId: "c", username: "u" })).toBe(head + ',"clientId":"c","username":"u"}');
    // Empty strings count as absent and are never sent.
    expect(mqtt({ clientId: "c", username: "", password: "" })).toBe(head + ',"clientId":"c"}');
    expect(expectedCredentialsType({ ...base, credentials: { type: "MQTT_BASIC", clientId: "c" } })).toBe("MQTT_BASIC");
  });

  it("MQTT_BASIC: combinations ThingsBoard refuses are refused early", () => {
    const bad = (c: { clientId?: string; username?: string; password?: string }) =>
      requestError({ ...base, credentials: { type: "MQTT_BASIC", ...c } }).code;
    expect(bad({})).toBe("mqtt-basic-no-identity");
    expect(bad({ password: "p" })).toBe("mqtt-basic-no-identity");
    expect(bad({ clientId: "", username: "", password: "p" })).toBe("mqtt-basic-no-identity");
    expect(bad({ clientId: "c", password: "p" })).toBe("mqtt-basic-password-needs-username");
    expect(bad({ clientId: "c", username: "", password: "p" })).toBe("mqtt-basic-password-needs-username");
  });

  it("X509_CERTIFICATE: the PEM goes in hash, escaped as JSON", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAQAB\n-----END CERTIFICATE-----\n";
    const request: ProvisionRequest = { ...base, gateway: false, credentials: { type: "X509_CERTIFICATE", certificatePem: pem } };
    expect(provisionRequestJson(request)).toBe(
      '{"deviceName":"ESP32-A1B2C3","provisionDeviceKey":"pk-0123456789abcdef","provisionDeviceSecret":"ps-SECRET-fedcba9876543210",' +
        '"credentialsType":"X509_CERTIFICATE","hash":"-----BEGIN CERTIFICATE-----\\nMIIBszCCAVmgAwIBAgIU\\nAQAB\\n-----END CERTIFICATE-----\\n"}',
    );
    expect(expectedCredentialsType(request)).toBe("X509_CERTIFICATE");
    const withKey = pem + "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\n";
    const e = requestError({ ...base, credentials: { type: "X509_CERTIFICATE", certificatePem: withKey } });
    expect(e.code).toBe("private-key-in-certificate");
    expect(e.message).not.toContain("MC4CAQAw");
  });

  it("gateway: true is sent last; false and absent send nothing", () => {
    expect(provisionRequestJson({ provisionDeviceKey: "k", provisionDeviceSecret: "s", gateway: true })).toBe(
      '{"provisionDeviceKey":"k","provisionDeviceSecret":"s","gateway":true}',
    );
    expect(
      provisionRequestJson({ provisionDeviceKey: "k", provisionDeviceSecret: "s", gateway: true, credentials: { type: "ACCESS_TOKEN", token: "t" } }),
    ).toBe('{"provisionDeviceKey":"k","provisionDeviceSecret":"s","credentialsType":"ACCESS_TOKEN","token":"t","gateway":true}');
    expect(provisionRequestJson({ provisionDeviceKey: "k", provisionDeviceSecret: "s", gateway: false })).toBe(
      '{"provisionDeviceKey":"k","provisionDeviceSecret":"s"}',
    );
  });

  it("escapes and encodes non-ASCII names as UTF-8 bytes", () => {
    const request = { deviceName: 'Küche "1" 😀', provisionDeviceKey: "k", provisionDeviceSecret: "s" };
    const json = '{"deviceName":"Küche \\"1\\" 😀","provisionDeviceKey":"k","provisionDeviceSecret":"s"}';
    expect(provisionRequestJson(request)).toBe(json);
    expect(provisionRequestBytes(request)).toEqual(utf8(json));
    expect(JSON.parse(provisionRequestJson(request))).toEqual(request);
  });

  it("refuses what the server would refuse, naming the field, never the value", () => {
    const cases: [ProvisionRequest, string][] = [
      [{ ...base, provisionDeviceKey: "" }, "missing-provision-key"],
      [{ ...base, provisionDeviceSecret: "" }, "missing-provision-secret"],
      [{ ...base, provisionDeviceSecret: undefined as unknown as string }, "missing-provision-secret"],
      [{ ...base, deviceName: "   " }, "invalid-device-name"],
      [{ ...base, deviceName: "" }, "invalid-device-name"],
      [{ ...base, deviceName: "x".repeat(256) }, "invalid-device-name"],
      [{ ...base, deviceName: 42 as unknown as string }, "invalid-field"],
      [{ ...base, credentials: { type: "ACCESS_TOKEN", token: "" } }, "invalid-field"],
      [{ ...base, credentials: { type: "ACCESS_TOKEN", token: "bad\u0000token-SECRET" } }, "invalid-field"],
      [{ ...base, credentials: { type: "ACCESS_TOKEN", token: "lone\ud800-SECRET" } }, "invalid-field"],
      [{ ...base, credentials: { type: "ACCESS_TOKEN", token: "T".repeat(MAX_CREDENTIAL_BYTES + 1) } }, "credential-too-large"],
      [{ ...base, credentials: { type: "MQTT_BASIC", username: "u", password: "p".repeat(MAX_CREDENTIAL_BYTES) } }, "credential-too-large"],
      [{ ...base, credentials: { type: "X509_CERTIFICATE", certificatePem: "" } }, "invalid-field"],
      [{ ...base, credentials: { type: "PSK" } as unknown as ProvisionRequest["credentials"] }, "invalid-field"],
      [{ ...base, gateway: "yes" as unknown as boolean }, "invalid-field"],
    ];
    for (const [request, code] of cases) {
      const e = requestError(request);
      expect([e.code, e instanceof ThingsBoardError]).toEqual([code, true]);
      expect(e.message).not.toContain("SECRET");
      expect(e.message).not.toContain(KEY);
    }
    expect(MAX_CREDENTIAL_BYTES).toBe(KV_MAX_VALUE_BYTES);
    // Exactly at the limit is fine.
    const token = "T".repeat(MAX_CREDENTIAL_BYTES);
    expect(provisionRequestJson({ ...base, credentials: { type: "ACCESS_TOKEN", token } })).toContain(`"token":"${token}"`);
  });
});

describe("thingsboard: generateAccessToken", () => {
  it("makes tokens of the asked length from the 62-character alphabet", () => {
    expect(TOKEN_ALPHABET.length).toBe(62);
    expect(new Set(TOKEN_ALPHABET.split("")).size).toBe(62);
    const random = seeded(1);
    for (const length of [20, 21, 32, 64, 256]) {
      const token = generateAccessToken(random, length);
      expect(token.length).toBe(length);
      expect(/^[A-Za-z0-9]+$/.test(token)).toBe(true);
    }
    expect(generateAccessToken(random).length).toBe(20);
    expect(generateAccessToken(seeded(7))).toBe(generateAccessToken(seeded(7)));
    expect(generateAccessToken(seeded(7))).not.toBe(generateAccessToken(seeded(8)));
  });

  it("refuses lengths under 20 or over 256", () => {
    for (const length of [0, 19, 20.5, 257, NaN]) {
      expect((thrown(() => generateAccessToken(seeded(1), length)) as ProvisionRequestError).code).toBe("invalid-token-length");
    }
  });

  it("rejects bytes 248..255 (rejection sampling) and maps the rest by byte % 62", () => {
    const bytes = [255, 248, 0, 249, 61, 62, 247, 250, 123, 186, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
    const token = generateAccessToken(scripted(bytes), 20);
    const expected = [0, 61, 0, 247 % 62, 123 % 62, 186 % 62, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => TOKEN_ALPHABET[i]).join("");
    expect(token).toBe(expected);
  });

  it("refuses a random source stuck in the rejected range instead of looping", () => {
    const e = thrown(() => generateAccessToken(scripted([255]), 20)) as ProvisionRequestError;
    expect([e instanceof ProvisionRequestError, e.code]).toEqual([true, "random-source-stuck"]);
  });

  it("is uniform over the alphabet (chi-square, 61 degrees of freedom)", () => {
    const random = seeded(20261126);
    const counts = new Array<number>(62).fill(0);
    const index = new Map<string, number>();
    for (let i = 0; i < 62; i++) index.set(TOKEN_ALPHABET[i], i);
    const tokens = scaled(4000); // 80,000 characters on Node, 8,000 in XS
    let n = 0;
    for (let t = 0; t < tokens; t++) {
      const token = generateAccessToken(random, 20);
      for (const ch of token) {
        counts[index.get(ch)!]++;
        n++;
      }
    }
    const expected = n / 62;
    let chi2 = 0;
    for (const c of counts) chi2 += ((c - expected) * (c - expected)) / expected;
    // Mean 61, sd ≈ 11: 120 is beyond p = 1e-5. A plain `byte % 62` without rejection makes the first 8
    // characters 25% likelier, which gives chi2 ≈ 590 at this n on Node.
    expect(chi2).toBeLessThan(120);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

const TOKEN = "A1b2C3d4E5f6G7h8I9j0";
const AT: ProvisionExpectation = { credentialsType: "ACCESS_TOKEN" };
const BASIC: ProvisionExpectation = { credentialsType: "MQTT_BASIC" };
const X509: ProvisionExpectation = { credentialsType: "X509_CERTIFICATE" };

/** Everything parseProvisionResponse throws for `payload`: must be one of the three typed errors. */
function responseError(payload: Uint8Array | string, expected: ProvisionExpectation = AT): ProvisionResponseError | ProvisionNotFoundError | ProvisionFailedError {
  const e = thrown(() => parseProvisionResponse(typeof payload === "string" ? utf8(payload) : payload, expected));
  const typed = e instanceof ProvisionResponseError || e instanceof ProvisionNotFoundError || e instanceof ProvisionFailedError;
  if (!typed) throw new Error(`untyped error: ${String(e)}`);
  expect(e instanceof ThingsBoardError).toBe(true);
  return e as ProvisionResponseError;
}

/** The code of the ProvisionResponseError thrown for `payload`. */
function hostile(payload: Uint8Array | string, expected: ProvisionExpectation = AT): string {
  const e = responseError(payload, expected);
  expect(e).toBeInstanceOf(ProvisionResponseError);
  return e.code;
}

/** `{"credentialsValue":` + fill × n + `,...}` built from bytes (no per-character work on big strings). */
function bigPayload(head: string, fillByte: number, n: number, tail: string): Uint8Array {
  const fill = new Uint8Array(n);
  fill.fill(fillByte);
  return concat([utf8(head), fill, utf8(tail)]);
}

describe("thingsboard: provision response, as the server sends it", () => {
  it("ACCESS_TOKEN", () => {
    expect(parseProvisionResponse(utf8(`{"credentialsValue":"${TOKEN}","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`), AT)).toEqual({
      credentialsType: "ACCESS_TOKEN",
      token: TOKEN,
    });
  });

  it("X509_CERTIFICATE", () => {
    expect(parseProvisionResponse(utf8('{"credentialsValue":"MIIBszCCAVmgAwIBAgIUAQAB","credentialsType":"X509_CERTIFICATE","status":"SUCCESS"}'), X509)).toEqual({
      credentialsType: "X509_CERTIFICATE",
      certificate: "MIIBszCCAVmgAwIBAgIUAQAB",
    });
  });

  it("MQTT_BASIC (note userName), with absent or null fields read as empty", () => {
    const result = parseProvisionResponse(
      utf8('{"credentialsValue":{"clientId":"c","userName":"u","password":"p"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}'),
      BASIC,
    );
    expect(result).toEqual({ credentialsType: "MQTT_BASIC", clientId: "c", userName: "u", password: "p" });
    expect(Object.keys(result)).toEqual(["credentialsType", "clientId", "userName", "password"]);
    // What the server stores for a username-only request: empty fields as "".
    expect(parseProvisionResponse(utf8('{"credentialsValue":{"clientId":"","userName":"only","password":""},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}'), BASIC)).toEqual({
      credentialsType: "MQTT_BASIC",
      clientId: "",
      userName: "only",
      password: "",
    });
    expect(parseProvisionResponse(utf8('{"credentialsValue":{"clientId":null,"userName":"u"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}'), BASIC)).toEqual({
      credentialsType: "MQTT_BASIC",
      clientId: "",
      userName: "u",
      password: "",
    });
  });

  it("NOT_FOUND: typed, carries errorMsg, tells the person what to check", () => {
    const e = responseError('{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}');
    expect(e).toBeInstanceOf(ProvisionNotFoundError);
    expect([e.code, (e as ProvisionNotFoundError).errorMsg]).toEqual(["provision-not-found", "Provision data was not found!"]);
    expect(e.message).toContain("Provision data was not found!");
    expect(e.message).toContain("provision device key and secret");
    expect(e.message).toContain("provisioning is enabled");
  });

  it("FAILURE: typed, carries errorMsg", () => {
    const e = responseError('{"errorMsg":"Failed to provision device!","status":"FAILURE"}', BASIC);
    expect(e).toBeInstanceOf(ProvisionFailedError);
    expect([e.code, (e as ProvisionFailedError).errorMsg]).toEqual(["provision-failed", "Failed to provision device!"]);
    expect(e.message).toContain("Failed to provision device!");
  });

  it("NOT_FOUND / FAILURE without errorMsg, and a hostile errorMsg kept short and on one line", () => {
    expect((responseError('{"status":"FAILURE"}') as ProvisionFailedError).errorMsg).toBe("");
    const e = responseError(`{"status":"NOT_FOUND","errorMsg":"a\\nI (0) forged: line${"x".repeat(5000)}"}`) as ProvisionNotFoundError;
    expect(e).toBeInstanceOf(ProvisionNotFoundError);
    expect(e.errorMsg.length).toBeLessThan(210);
    expect(e.message.indexOf("\n")).toBe(-1);
    expect(hostile('{"status":"FAILURE","errorMsg":42}')).toBe("invalid-field");
    expect(hostile('{"status":"NOT_FOUND","errorMsg":null}')).toBe("invalid-field");
  });

  it("ignores unknown extra fields and accepts a value exactly at the size limit", () => {
    expect(parseProvisionResponse(utf8(`{"status":"SUCCESS","deviceId":"x","credentialsType":"ACCESS_TOKEN","credentialsValue":"${TOKEN}"}`), AT)).toEqual({
      credentialsType: "ACCESS_TOKEN",
      token: TOKEN,
    });
    const atLimit = bigPayload('{"credentialsValue":"', 0x41, MAX_CREDENTIAL_BYTES, '","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}');
    const result = parseProvisionResponse(atLimit, AT);
    expect(result.credentialsType === "ACCESS_TOKEN" && result.token.length).toBe(MAX_CREDENTIAL_BYTES);
  });
});

describe("thingsboard: hostile provision responses", () => {
  const ok = (value: string, type = "ACCESS_TOKEN") => `{"credentialsValue":${value},"credentialsType":"${type}","status":"SUCCESS"}`;

  it("not JSON, not UTF-8, not an object", () => {
    expect(hostile("")).toBe("invalid-json");
    expect(hostile("SUCCESS")).toBe("invalid-json");
    expect(hostile('{"status":"SUCCESS"')).toBe("invalid-json");
    expect(hostile("\ufeff" + ok(`"${TOKEN}"`))).toBe("invalid-json");
    expect(hostile(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]))).toBe("invalid-utf8");
    expect(hostile(new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x7d]))).toBe("invalid-utf8"); // overlong
    expect(hostile(new Uint8Array([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]))).toBe("invalid-utf8"); // surrogate
    expect(hostile(new Uint8Array([0x7b, 0x00, 0x7d]))).toBe("invalid-utf8");
    for (const text of ["null", "42", '"SUCCESS"', "true", "[]", `[${ok(`"${TOKEN}"`)}]`]) expect(hostile(text)).toBe("not-an-object");
  });

  it("status missing, null, of the wrong type or unknown", () => {
    expect(hostile(`{"credentialsValue":"${TOKEN}","credentialsType":"ACCESS_TOKEN"}`)).toBe("missing-field");
    expect(hostile('{"status":null}')).toBe("invalid-field");
    expect(hostile('{"status":1}')).toBe("invalid-field");
    expect(hostile('{"status":["SUCCESS"]}')).toBe("invalid-field");
    expect(hostile('{"status":{"SUCCESS":true}}')).toBe("invalid-field");
    expect(hostile('{"status":"success"}')).toBe("unknown-status");
    expect(hostile('{"status":"UNKNOWN"}')).toBe("unknown-status");
    expect(hostile('{"status":""}')).toBe("unknown-status");
    expect(hostile('{"status":"constructor"}')).toBe("unknown-status");
  });

  it("SUCCESS with credentialsType or credentialsValue missing or null", () => {
    expect(hostile(`{"credentialsValue":"${TOKEN}","status":"SUCCESS"}`)).toBe("missing-field");
    expect(hostile('{"credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}')).toBe("missing-field");
    expect(hostile(`{"credentialsValue":"${TOKEN}","credentialsType":null,"status":"SUCCESS"}`)).toBe("invalid-field");
    expect(hostile(ok("null"))).toBe("invalid-field");
    expect(hostile(ok("null", "MQTT_BASIC"), BASIC)).toBe("invalid-field");
    expect(hostile(ok("null", "X509_CERTIFICATE"), X509)).toBe("invalid-field");
  });

  it("credentialsValue of the wrong type or empty", () => {
    for (const value of ["42", "true", "{}", `{"token":"${TOKEN}"}`, `["${TOKEN}"]`, '""']) {
      expect(hostile(ok(value))).toBe("invalid-field");
      expect(hostile(ok(value, "X509_CERTIFICATE"), X509)).toBe("invalid-field");
    }
    for (const value of ['"c:u:p"', "42", "[]", '["c","u","p"]', "{}", '{"clientId":"","userName":"","password":"p"}',
      '{"clientId":1,"userName":"u"}', '{"clientId":"c","userName":{"x":1}}', '{"clientId":"c","password":["p"]}', '{"clientId":"c","password":false}']) {
      expect(hostile(ok(value, "MQTT_BASIC"), BASIC)).toBe("invalid-field");
    }
    // Escapes that decode to what MQTT cannot carry.
    expect(hostile(ok('"tok\\u0000en"'))).toBe("invalid-field");
    expect(hostile(ok('"tok\\ud800en"'))).toBe("invalid-field");
    expect(hostile(ok('{"clientId":"c\\udc00"}', "MQTT_BASIC"), BASIC)).toBe("invalid-field");
  });

  it("a response for another credentials type than asked", () => {
    expect(hostile(ok(`"${TOKEN}"`), X509)).toBe("credentials-type-mismatch");
    expect(hostile(ok(`"${TOKEN}"`), BASIC)).toBe("credentials-type-mismatch");
    expect(hostile(ok('{"clientId":"c","userName":"u","password":"p"}', "MQTT_BASIC"))).toBe("credentials-type-mismatch");
    expect(hostile(ok('"MIIB"', "X509_CERTIFICATE"))).toBe("credentials-type-mismatch");
    expect(hostile(ok('"x"', "LWM2M_CREDENTIALS"))).toBe("credentials-type-mismatch");
    expect(hostile(ok(`"${TOKEN}"`, "access_token"))).toBe("credentials-type-mismatch");
    expect(hostile(`{"credentialsValue":"${TOKEN}","credentialsType":1,"status":"SUCCESS"}`)).toBe("invalid-field");
  });

  it("alsoAccept: other types a device can use (CHECK_PRE_PROVISIONED answers with existing credentials)", () => {
    const either: ProvisionExpectation = { credentialsType: "MQTT_BASIC", alsoAccept: ["ACCESS_TOKEN"] };
    expect(parseProvisionResponse(utf8(ok(`"${TOKEN}"`)), either)).toEqual({ credentialsType: "ACCESS_TOKEN", token: TOKEN });
    expect(parseProvisionResponse(utf8(ok('{"clientId":"c"}', "MQTT_BASIC")), either)).toEqual({
      credentialsType: "MQTT_BASIC", clientId: "c", userName: "", password: "",
    });
    // The shape checked is the one of the type received.
    expect(hostile(ok('{"clientId":"c"}', "ACCESS_TOKEN"), either)).toBe("invalid-field");
    expect(hostile(ok('"MIIB"', "X509_CERTIFICATE"), either)).toBe("credentials-type-mismatch");
    const anything = { credentialsType: "ACCESS_TOKEN", alsoAccept: ["LWM2M_CREDENTIALS", "constructor"] } as unknown as ProvisionExpectation;
    expect(hostile(ok('"x"', "LWM2M_CREDENTIALS"), anything)).toBe("credentials-type-mismatch");
    expect(hostile(ok('"x"', "constructor"), anything)).toBe("credentials-type-mismatch");
  });

  it("values that would not fit the credential store", () => {
    const tail = (type: string) => `","credentialsType":"${type}","status":"SUCCESS"}`;
    expect(hostile(bigPayload('{"credentialsValue":"', 0x41, MAX_CREDENTIAL_BYTES + 1, tail("ACCESS_TOKEN")))).toBe("credential-too-large");
    expect(hostile(bigPayload('{"credentialsValue":"', 0x41, 6000, tail("X509_CERTIFICATE")), X509)).toBe("credential-too-large");
    const basic = bigPayload('{"credentialsValue":{"clientId":"c","userName":"u","password":"', 0x70, MAX_CREDENTIAL_BYTES - 1, '"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}');
    expect(hostile(basic, BASIC)).toBe("credential-too-large");
    // Multi-byte: 1400 × "€" is 1400 characters but 4200 bytes.
    expect(hostile(ok(`"${"€".repeat(1400)}"`))).toBe("credential-too-large");
    // A smaller store limit, as a record with a header would pass.
    expect(hostile(ok(`"${TOKEN}"`), { credentialsType: "ACCESS_TOKEN", maxCredentialBytes: 19 })).toBe("credential-too-large");
  });

  it("a huge payload is refused before decoding", () => {
    expect(MAX_PROVISION_RESPONSE_BYTES).toBe(8192);
    expect(hostile(bigPayload('{"credentialsValue":"', 0x41, MAX_PROVISION_RESPONSE_BYTES, '","status":"SUCCESS"}'))).toBe("payload-too-large");
    // Not even UTF-8 checking happens first: invalid bytes in a huge payload still say payload-too-large.
    expect(hostile(bigPayload("", 0xff, 100000, ""))).toBe("payload-too-large");
  });

  it("deep nesting is refused before JSON.parse", () => {
    expect(hostile(bigPayload("", 0x5b, 8000, ""))).toBe("too-deep");
    expect(hostile(`{"status":"SUCCESS","x":[[[[[1]]]]]}`)).toBe("too-deep");
    // Brackets inside strings do not count.
    expect(parseProvisionResponse(utf8(ok('"[[[[[{{{{{\\"[[["')), AT)).toEqual({ credentialsType: "ACCESS_TOKEN", token: '[[[[[{{{{{"[[[' });
  });

  it("__proto__ keys and a polluted prototype change nothing", () => {
    expect(hostile(`{"__proto__":{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${TOKEN}"}}`)).toBe("missing-field");
    expect(hostile(`{"status":"SUCCESS","__proto__":{"credentialsType":"ACCESS_TOKEN","credentialsValue":"${TOKEN}"}}`)).toBe("missing-field");
    expect(hostile(ok('{"__proto__":{"clientId":"c","userName":"u"}}', "MQTT_BASIC"), BASIC)).toBe("invalid-field");
    const result = parseProvisionResponse(utf8(ok('{"userName":"u","__proto__":{"password":"p"}}', "MQTT_BASIC")), BASIC);
    expect(result).toEqual({ credentialsType: "MQTT_BASIC", clientId: "", userName: "u", password: "" });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).password).toBeUndefined();
  });

  it("a polluted Object.prototype is not read as response fields", () => {
    const polluted = ["status", "credentialsType", "credentialsValue", "userName"];
    const values: Record<string, unknown> = { status: "SUCCESS", credentialsType: "ACCESS_TOKEN", credentialsValue: TOKEN, userName: "u" };
    try {
      for (const k of polluted) Object.defineProperty(Object.prototype, k, { value: values[k], configurable: true, writable: true });
    } catch {
      return; // frozen intrinsics (SES lockdown in the XS harness): nothing can pollute them there
    }
    try {
      expect(hostile("{}")).toBe("missing-field");
      expect(hostile('{"status":"SUCCESS"}')).toBe("missing-field");
      expect(hostile('{"status":"SUCCESS","credentialsType":"MQTT_BASIC","credentialsValue":{}}', BASIC)).toBe("invalid-field");
    } finally {
      for (const k of polluted) delete (Object.prototype as Record<string, unknown>)[k];
    }
  });

  it("never puts a credential or a response value in an error message", () => {
    const secret = "S3CRET-" + TOKEN;
    const payloads: [string, ProvisionExpectation][] = [
      [ok(`"${secret}"`), X509],
      [ok(`"${secret}"`), BASIC],
      [ok(`{"clientId":"${secret}","userName":"${secret}","password":"${secret}"}`, "MQTT_BASIC"), AT],
      [ok(`{"clientId":"${secret}","password":["${secret}"]}`, "MQTT_BASIC"), BASIC],
      [ok(`"${secret}"`, secret), AT],
      [ok(`"${secret}\\u0000"`), AT],
      [ok(`{"password":"${secret}"}`, "MQTT_BASIC"), BASIC],
      [`{"status":"${secret}","credentialsValue":"${secret}"}`, AT],
      [`{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${secret}"`, AT],
      [`{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${secret}","x":[[[[[]]]]]}`, AT],
      [`{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${secret}${"x".repeat(4000)}"}`, AT],
      [`{"status":"SUCCESS","credentialsType":"ACCESS_TOKEN","credentialsValue":"${secret}${"x".repeat(9000)}"}`, AT],
    ];
    for (const [payload, expected] of payloads) {
      const e = responseError(payload, expected);
      expect(e.message.indexOf(secret)).toBe(-1);
      expect(e.message.indexOf("S3CRET")).toBe(-1);
      expect(String(e).indexOf("S3CRET")).toBe(-1);
    }
  });

  it("random mutations of valid responses give credentials or a typed error, nothing else", () => {
    const prng = new Prng(4242);
    const valid = [
      [ok(`"${TOKEN}"`), AT],
      [ok('{"clientId":"c","userName":"u","password":"p"}', "MQTT_BASIC"), BASIC],
      [ok('"MIIBszCCAVmgAwIBAgIUAQAB"', "X509_CERTIFICATE"), X509],
      ['{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}', AT],
    ] as const;
    const interesting = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x00, 0xff, 0xc3, 0x6e];
    for (let i = 0; i < scaled(3000); i++) {
      const [text, expected] = prng.pick(valid);
      const bytes = utf8(text);
      const flips = prng.int(1, 3);
      for (let f = 0; f < flips; f++) bytes[prng.int(0, bytes.length - 1)] = prng.bool() ? prng.pick(interesting) : prng.int(0, 255);
      try {
        parseProvisionResponse(bytes, expected);
      } catch (e) {
        const typed = e instanceof ProvisionResponseError || e instanceof ProvisionNotFoundError || e instanceof ProvisionFailedError;
        if (!typed) throw new Error(`seed 4242 iteration ${i}: untyped ${String(e)}`);
      }
    }
  });
});
