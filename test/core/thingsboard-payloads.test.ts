/**
 * Device API topics and payloads (src/thingsboard/topics.ts, payloads.ts): exact strings, and every value
 * ThingsBoard would refuse or misread refused with a typed PayloadError. Runs on Node and inside XS.
 */
import { PayloadError, ThingsBoardError } from "../../src/thingsboard/errors.js";
import {
  attributeRequestPayload,
  attributesPayload,
  MAX_KEY_LENGTH,
  MAX_VALUE_DEPTH,
  telemetryPayload,
  type KvValues,
  type Telemetry,
} from "../../src/thingsboard/payloads.js";
import {
  ATTRIBUTES_RESPONSE_FILTER,
  ATTRIBUTES_TOPIC,
  attributeRequestTopic,
  attributeResponseId,
  attributeResponseTopic,
  PROVISION_REQUEST_TOPIC,
  PROVISION_RESPONSE_TOPIC,
  PROVISION_USERNAME,
  RPC_REQUEST_FILTER,
  rpcRequestId,
  rpcRequestTopic,
  rpcResponseId,
  rpcResponseTopic,
  TELEMETRY_TOPIC,
} from "../../src/thingsboard/topics.js";

function payloadError(fn: () => unknown): PayloadError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof PayloadError)) throw new Error(`expected a PayloadError, got ${String(caught)}`);
  expect(caught instanceof ThingsBoardError).toBe(true);
  return caught;
}

describe("thingsboard: topics", () => {
  it("are ThingsBoard's, exactly", () => {
    expect(PROVISION_USERNAME).toBe("provision");
    expect(PROVISION_REQUEST_TOPIC).toBe("/provision/request");
    expect(PROVISION_RESPONSE_TOPIC).toBe("/provision/response");
    expect(TELEMETRY_TOPIC).toBe("v1/devices/me/telemetry");
    expect(ATTRIBUTES_TOPIC).toBe("v1/devices/me/attributes");
    expect(ATTRIBUTES_RESPONSE_FILTER).toBe("v1/devices/me/attributes/response/+");
    expect(RPC_REQUEST_FILTER).toBe("v1/devices/me/rpc/request/+");
    expect(attributeRequestTopic(7)).toBe("v1/devices/me/attributes/request/7");
    expect(attributeResponseTopic("7")).toBe("v1/devices/me/attributes/response/7");
    expect(rpcRequestTopic(0)).toBe("v1/devices/me/rpc/request/0");
    expect(rpcResponseTopic("12345")).toBe("v1/devices/me/rpc/response/12345");
  });

  it("refuse ids that are not decimal request ids", () => {
    for (const id of [-1, 1.5, NaN, 2 ** 53, "", "a", "1/2", "+", "#", "01", " 1", "1".repeat(21)]) {
      expect(payloadError(() => rpcResponseTopic(id)).code).toBe("invalid-id");
    }
  });

  it("read ids back from incoming topics", () => {
    expect(rpcRequestId("v1/devices/me/rpc/request/42")).toBe("42");
    expect(rpcResponseId("v1/devices/me/rpc/response/3")).toBe("3");
    expect(attributeResponseId("v1/devices/me/attributes/response/9")).toBe("9");
    for (const topic of ["v1/devices/me/rpc/request/", "v1/devices/me/rpc/request/4/2", "v1/devices/me/rpc/request/x", "v1/devices/me/attributes", "/v1/devices/me/rpc/request/1"]) {
      expect(rpcRequestId(topic)).toBeUndefined();
    }
  });
});

describe("thingsboard: telemetry payloads", () => {
  it("values, {ts, values} and arrays of either, as exact JSON", () => {
    expect(telemetryPayload({ temperature: 21.5, uptime_s: 0, ok: true, mode: "eco" })).toBe('{"temperature":21.5,"uptime_s":0,"ok":true,"mode":"eco"}');
    expect(telemetryPayload({ ts: 1764150000000, values: { t: 1 } })).toBe('{"ts":1764150000000,"values":{"t":1}}');
    expect(telemetryPayload([{ ts: 1, values: { t: 1 } }, { t: 2 }])).toBe('[{"ts":1,"values":{"t":1}},{"t":2}]');
    expect(telemetryPayload({ ts: 5 })).toBe('{"ts":5}'); // "ts" alone is just a key
    expect(telemetryPayload({ values: 5 })).toBe('{"values":5}');
  });

  it("nested JSON objects and arrays, with null inside them", () => {
    const v: KvValues = { gps: { lat: 52.1, lon: 4.3, fix: null, sats: [1, 2, { id: "x" }] }, list: [1, "a", false] };
    expect(telemetryPayload(v)).toBe('{"gps":{"lat":52.1,"lon":4.3,"fix":null,"sats":[1,2,{"id":"x"}]},"list":[1,"a",false]}');
    expect(attributesPayload({ fw: "1.0.0", "ключ": "значение 😀" })).toBe('{"fw":"1.0.0","ключ":"значение 😀"}');
    const nullProto = Object.create(null) as KvValues;
    nullProto.a = 1;
    expect(telemetryPayload(nullProto)).toBe('{"a":1}');
  });

  it("refuses values ThingsBoard would refuse or JSON would silently change", () => {
    const bad: [unknown, string][] = [
      [{ t: NaN }, "invalid-value"],
      [{ t: Infinity }, "invalid-value"],
      [{ t: -Infinity }, "invalid-value"],
      [{ t: undefined }, "invalid-value"],
      [{ t: () => 1 }, "invalid-value"],
      [{ t: Symbol("s") }, "invalid-value"],
      [{ t: 1n }, "invalid-value"],
      [{ t: null }, "invalid-value"],
      [{ t: 2 ** 63 }, "invalid-value"],
      [{ t: -(2 ** 64) }, "invalid-value"],
      [{ t: 1e300 }, "invalid-value"],
      [{ t: new Date(0) }, "invalid-value"],
      [{ t: new Map() }, "invalid-value"],
      [{ t: new Uint8Array(2) }, "invalid-value"],
      [{ t: { nested: NaN } }, "invalid-value"],
      [{ t: { nested: undefined } }, "invalid-value"],
      [{ t: [1, undefined] }, "invalid-value"],
      // eslint-disable-next-line no-sparse-arrays
      [{ t: [1, , 3] }, "invalid-value"],
      [{ t: { toJSON: () => "x" } }, "invalid-value"],
      [{ "": 1 }, "invalid-key"],
      [{ ["k".repeat(MAX_KEY_LENGTH + 1)]: 1 }, "invalid-key"],
      [{ t: "lone \ud800 surrogate" }, "invalid-value"],
      [{ ["key\udc00"]: 1 }, "invalid-value"],
      [{ t: { ["x\ud800"]: 1 } }, "invalid-value"],
      [{}, "empty"],
      [[], "empty"],
      [[{}], "empty"],
      ["t=1", "invalid-value"],
      [42, "invalid-value"],
      [null, "invalid-value"],
      [[1], "invalid-value"],
      [{ ts: 1, values: { t: 1 }, extra: 2 }, "invalid-key"],
      [{ ts: 1.5, values: { t: 1 } }, "invalid-timestamp"],
      [{ ts: -1, values: { t: 1 } }, "invalid-timestamp"],
      [{ ts: "1", values: { t: 1 } }, "invalid-timestamp"],
      [{ ts: 1e16, values: { t: 1 } }, "invalid-timestamp"],
      [{ ts: 1, values: {} }, "empty"],
      [{ ts: 1, values: [1] }, "invalid-value"],
      [{ ts: 1, values: { ts: 2, values: { t: 1 } } }, "invalid-key"],
    ];
    for (const [value, code] of bad) {
      expect([code, payloadError(() => telemetryPayload(value as Telemetry)).code]).toEqual([code, code]);
    }
    // -2^63 prints as -9223372036854776000, beyond Java's long; the nearest doubles inside print within range.
    expect(payloadError(() => telemetryPayload({ t: -(2 ** 63) })).code).toBe("invalid-value");
    expect(telemetryPayload({ t: 2 ** 63 - 1024, u: -(2 ** 63) + 1024 })).toBe('{"t":9223372036854775000,"u":-9223372036854775000}');
    // Escaped surrogates in the text itself are fine (the text "\ud800" is 6 ASCII characters).
    expect(telemetryPayload({ t: "\\ud800" })).toBe('{"t":"\\\\ud800"}');
    expect(telemetryPayload({ t: "😀" })).toBe('{"t":"😀"}');
  });

  it("refuses nesting deeper than MAX_VALUE_DEPTH, and cycles", () => {
    let deep: KvValues[string] = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH; i++) deep = { d: deep };
    expect(telemetryPayload({ deep })).toContain('"d":1');
    expect(payloadError(() => telemetryPayload({ deep: { d: deep } })).code).toBe("too-deep");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(payloadError(() => telemetryPayload(cyclic as KvValues)).code).toBe("too-deep");
    const arr: unknown[] = [];
    arr.push(arr);
    expect(payloadError(() => attributesPayload({ arr } as unknown as KvValues)).code).toBe("too-deep");
  });

  it("client attributes must be a values object", () => {
    expect(attributesPayload({ firmware: "1.2.3", battery: 87 })).toBe('{"firmware":"1.2.3","battery":87}');
    expect(payloadError(() => attributesPayload([{ a: 1 }] as unknown as KvValues)).code).toBe("invalid-value");
    expect(payloadError(() => attributesPayload({})).code).toBe("empty");
    expect(payloadError(() => attributesPayload({ ts: 1, values: { a: 1 } } as unknown as KvValues)).code).toBe("invalid-key");
  });
});

describe("thingsboard: attribute request payloads", () => {
  it("joins keys with commas and leaves out empty lists", () => {
    expect(attributeRequestPayload({ clientKeys: ["a", "b"], sharedKeys: ["c"] })).toBe('{"clientKeys":"a,b","sharedKeys":"c"}');
    expect(attributeRequestPayload({ sharedKeys: ["fw_title", "fw_version"] })).toBe('{"sharedKeys":"fw_title,fw_version"}');
    expect(attributeRequestPayload({ clientKeys: [], sharedKeys: ["c"] })).toBe('{"sharedKeys":"c"}');
    expect(attributeRequestPayload()).toBe("{}");
    expect(attributeRequestPayload({ clientKeys: [] })).toBe("{}");
  });

  it("refuses keys the list format cannot carry", () => {
    for (const request of [{ clientKeys: ["a,b"] }, { sharedKeys: [""] }, { sharedKeys: [1] }, { clientKeys: "a,b" }]) {
      expect(payloadError(() => attributeRequestPayload(request as never)).code).toBe("invalid-key");
    }
  });
});
