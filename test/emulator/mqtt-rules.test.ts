/**
 * The pure rules under the MQTT device API, where the wire tests would need many round trips per case:
 * ThingsBoard's payload conversion, topic/QoS rules, CONNACK codes and the attribute-response shape.
 */
import { EmulatorStore } from "../../tools/emulator/store.js";
import { parseAttributeRequest, parseClientRpcRequest, parseTelemetry, PayloadConversionError } from "../../tools/emulator/mqtt-payload.js";
import { grantedQos, javaParseInt, qosForTopic, topicMatches, type Qos } from "../../tools/emulator/mqtt-topics.js";
import { authenticateBasic, isProvisionConnect, refusalCode } from "../../tools/emulator/mqtt-auth.js";
import { accessTokenCredentials, mqttBasicCredentials } from "../../tools/emulator/credentials.js";
import { attributeResponse } from "../../tools/emulator/mqtt-device-api.js";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("telemetry conversion (JsonConverter)", () => {
  test("an object with ts but no values is plain values, `ts` included", () => {
    expect(parseTelemetry(bytes('{"ts":5,"t":1}'), 100)).toEqual([{ ts: 100, values: { ts: 5, t: 1 } }]);
  });
  test("ts may be a decimal string; a fractional ts is truncated", () => {
    expect(parseTelemetry(bytes('{"ts":"1700","values":{"a":1}}'), 0)).toEqual([{ ts: 1700, values: { a: 1 } }]);
    expect(parseTelemetry(bytes('{"ts":1700.9,"values":{"a":1}}'), 0)).toEqual([{ ts: 1700, values: { a: 1 } }]);
  });
  test("strings that read as numbers are stored as numbers (json.type_cast_enabled)", () => {
    const values = parseTelemetry(bytes('{"a":"25.1","b":"-7","c":".5","d":"5.","e":"1e3","f":"+1","g":"99999999999999999999","h":"x"}'), 0)[0]!.values;
    expect(values).toEqual({ a: 25.1, b: -7, c: 0.5, d: "5.", e: "1e3", f: "+1", g: "99999999999999999999", h: "x" });
  });
  test("null values are skipped; records left empty are dropped", () => {
    expect(parseTelemetry(bytes('[{"a":null},{"b":2}]'), 7)).toEqual([{ ts: 7, values: { b: 2 } }]);
  });
  test.each(["", "not json", "5", '"s"', "[1]", '{"ts":"x","values":{}}', '{"ts":1,"values":[1]}', '{"big":1e19}'])(
    "%j is refused",
    (payload) => {
      expect(() => parseTelemetry(bytes(payload), 0)).toThrow(PayloadConversionError);
    },
  );
});

describe("attribute requests", () => {
  test("keys are split on commas like Java's String.split", () => {
    expect(parseAttributeRequest(bytes('{"clientKeys":"a,b,,c,","sharedKeys":"x"}'))).toEqual({ clientKeys: ["a", "b", "", "c"], sharedKeys: ["x"] });
    expect(parseAttributeRequest(bytes("{}"))).toEqual({});
    expect(() => parseAttributeRequest(bytes("[]"))).toThrow(PayloadConversionError);
    expect(() => parseAttributeRequest(bytes('{"clientKeys":null}'))).toThrow(PayloadConversionError);
  });

  test("no keys → every client and shared attribute; keys of one scope only → that scope only", () => {
    const store = new EmulatorStore();
    const id = store.createDevice({ name: "d" }).device.id.id;
    store.setAttributes(id, "CLIENT_SCOPE", { c1: 1, c2: "two" });
    store.setAttributes(id, "SHARED_SCOPE", { s1: true });
    store.setAttributes(id, "SERVER_SCOPE", { secret: "never sent" });
    expect(attributeResponse(store, id, {})).toBe('{"client":{"c1":1,"c2":"two"},"shared":{"s1":true}}');
    expect(attributeResponse(store, id, { clientKeys: ["c2"] })).toBe('{"client":{"c2":"two"}}');
    expect(attributeResponse(store, id, { sharedKeys: ["nope"] })).toBe("{}");
  });
});

describe("client RPC requests", () => {
  test("method is required; params default to null", () => {
    expect(parseClientRpcRequest(bytes('{"method":"m"}'))).toEqual({ method: "m", params: null });
    expect(() => parseClientRpcRequest(bytes('{"params":{}}'))).toThrow(PayloadConversionError);
  });
});

describe("topics and QoS", () => {
  test("request ids are read like Integer.parseInt", () => {
    expect(javaParseInt("007")).toBe(7);
    expect(javaParseInt("+3")).toBe(3);
    expect(javaParseInt("2147483648")).toBeUndefined();
    expect(javaParseInt("1a")).toBeUndefined();
    expect(javaParseInt("")).toBeUndefined();
  });
  test("granted QoS is capped at 1; server messages use the one matching subscription's QoS, else 1", () => {
    expect([0, 1, 2].map(grantedQos)).toEqual([0, 1, 1]);
    const subs = new Map<string, Qos>([["v1/devices/me/rpc/request/+", 0]]);
    expect(topicMatches("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/12")).toBe(true);
    expect(qosForTopic(subs, "v1/devices/me/rpc/request/12")).toBe(0);
    expect(qosForTopic(subs, "v1/devices/me/attributes")).toBe(1);
  });
});

describe("CONNECT authentication", () => {
  test("provision sessions by username or client id", () => {
    expect(isProvisionConnect({ clientId: "x", username: "provision" })).toBe(true);
    expect(isProvisionConnect({ clientId: "provision" })).toBe(true);
    expect(isProvisionConnect({ clientId: "x", username: "Provision" })).toBe(false);
  });
  test("refusal codes: 2 for a client id alone, 5 otherwise", () => {
    expect(refusalCode({ clientId: "c" })).toBe(2);
    expect(refusalCode({ clientId: "" })).toBe(5);
    expect(refusalCode({ clientId: "c", username: "u" })).toBe(5);
    expect(refusalCode({ clientId: "c", password: Buffer.from("p") })).toBe(5);
  });
  test("a token found by user name wins; basic credentials found by user name do not fall through to the hashes", () => {
    const store = new EmulatorStore();
    store.createDevice({ name: "tok", credentials: accessTokenCredentials("shared-name") });
    store.createDevice({ name: "basic", credentials: mqttBasicCredentials({ clientId: "", userName: "u", password: "p" }) });
    store.createDevice({ name: "hashed", credentials: mqttBasicCredentials({ clientId: "c", userName: "u", password: "" }) });
    const found = authenticateBasic(store, { clientId: "c", username: "shared-name" });
    expect(found.ok && found.device.name).toBe("tok");
    // "u" names the basic device, whose password does not match: refused, although sha3("c|u") would match.
    expect(authenticateBasic(store, { clientId: "c", username: "u", password: Buffer.from("wrong") })).toEqual({ ok: false, returnCode: 5 });
  });
});
