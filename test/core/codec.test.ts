import { PacketType } from "../../src/mqtt/constants.js";
import { encodePacket, lengthFieldSize, packetSize } from "../../src/mqtt/encode.js";
import { MqttProtocolError } from "../../src/mqtt/errors.js";
import type { OutgoingPacket, Packet } from "../../src/mqtt/packets.js";
import { decodePacket } from "../../src/mqtt/reader.js";
import { readUtf8, utf8Length, writeUtf8 } from "../../src/mqtt/utf8.js";
import { Prng, scaled } from "./support/prng.js";
import { fromHex, hex, utf8 } from "./support/bytes.js";
import { ALL_TYPES, randomPacket } from "./support/random-packets.js";

/** Hand-written vectors from MQTT 3.1.1 §3, checked byte by byte. */
const VECTORS: Array<[string, OutgoingPacket, string]> = [
  ["CONNECT minimal", { type: 1, clientId: "c", keepalive: 60, cleanSession: true }, "100d00044d5154540402003c000163"],
  [
    "CONNECT with will, username, password",
    { type: 1, clientId: "c", keepalive: 60, cleanSession: true, username: "u", password: utf8("p"),
      will: { topic: "w", payload: utf8("x"), qos: 1, retain: true } },
    "101900044d51545404ee003c000163000177000178000175000170",
  ],
  ["CONNACK refused 5", { type: 2, sessionPresent: false, returnCode: 5 }, "20020005"],
  ["CONNACK session present", { type: 2, sessionPresent: true, returnCode: 0 }, "20020100"],
  ["PUBLISH QoS 0", { type: 3, topic: "a/b", payload: utf8("hi"), qos: 0, retain: false, dup: false }, "30070003612f626869"],
  ["PUBLISH QoS 1 dup retain", { type: 3, topic: "a/b", payload: utf8("hi"), qos: 1, retain: true, dup: true, packetId: 10 }, "3b090003612f6200 0a6869"],
  ["PUBLISH empty payload", { type: 3, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false }, "3003000174"],
  ["PUBACK", { type: 4, packetId: 1 }, "40020001"],
  ["PUBREL", { type: 6, packetId: 258 }, "62020102"],
  ["SUBSCRIBE", { type: 8, packetId: 1, subscriptions: [{ topic: "a/#", qos: 1 }] }, "820800010003612f2301"],
  ["SUBACK with failure", { type: 9, packetId: 1, granted: [1, 0x80] }, "9004000101 80"],
  ["UNSUBSCRIBE", { type: 10, packetId: 1, topics: ["a/#"] }, "a20700010003612f23"],
  ["UNSUBACK", { type: 11, packetId: 65535 }, "b002ffff"],
  ["PINGREQ", { type: 12 }, "c000"],
  ["PINGRESP", { type: 13 }, "d000"],
  ["DISCONNECT", { type: 14 }, "e000"],
];

function expectProtocolError(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MqttProtocolError);
  expect((caught as MqttProtocolError).code).toBe(code);
}

/** Decoded packets carry Uint8Array for binary fields; normalise string inputs for comparison. */
function normalise(p: OutgoingPacket): Packet {
  const copy = JSON.parse(JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? { __bytes: Array.from(v) } : v)),
    (_k, v) => (v && v.__bytes ? new Uint8Array(v.__bytes) : v));
  if (copy.type === 3 && typeof copy.payload === "string") copy.payload = utf8(copy.payload);
  return copy;
}

describe("codec: hand-written vectors", () => {
  for (const [name, packet, bytes] of VECTORS) {
    it(`encodes and decodes ${name}`, () => {
      const expected = fromHex(bytes);
      const encoded = encodePacket(packet);
      expect(hex(encoded)).toBe(hex(expected));
      expect(packetSize(packet)).toBe(expected.length);
      expect(decodePacket(expected)).toEqual(normalise(packet));
    });
  }

  it("encodes string payloads and passwords as UTF-8", () => {
    const p = encodePacket({ type: 3, topic: "t", payload: "é€😀", qos: 0, retain: false, dup: false });
    expect(hex(p)).toBe("300c000174c3a9e282acf09f9880");
    const c = encodePacket({ type: 1, clientId: "", keepalive: 0, cleanSession: true, username: "u", password: "pw" });
    expect(hex(c.subarray(c.length - 4))).toBe("00027077");
  });
});

describe("codec: Remaining Length boundaries", () => {
  const cases: Array<[number, string]> = [
    [0, "00"], [127, "7f"], [128, "8001"], [16383, "ff7f"], [16384, "808001"],
    [2097151, "ffff7f"], [2097152, "80808001"],
  ];
  for (const [remaining, field] of cases) {
    it(`Remaining Length ${remaining} is written as ${field} and read back`, () => {
      expect(lengthFieldSize(remaining)).toBe(field.length / 2);
      if (remaining < 3) {
        const p = encodePacket({ type: 12 });
        expect(hex(p)).toBe("c000");
        return;
      }
      // PUBLISH QoS 0 on topic "t": remaining = 2 + 1 + payload.
      const payload = new Uint8Array(remaining - 3);
      payload[0] = 0xab;
      payload[payload.length - 1] = 0xcd;
      const packet: OutgoingPacket = { type: 3, topic: "t", payload, qos: 0, retain: false, dup: false };
      const bytes = encodePacket(packet);
      expect(hex(bytes.subarray(1, 1 + field.length / 2))).toBe(field);
      expect(bytes.length).toBe(1 + field.length / 2 + remaining);
      const back = decodePacket(bytes) as Extract<Packet, { type: 3 }>;
      expect(back.payload.length).toBe(payload.length);
      expect(back.payload[0]).toBe(0xab);
      expect(back.payload[payload.length - 1]).toBe(0xcd);
    });
  }

  it("the largest Remaining Length field ff ff ff 7f decodes to 268435455 (and is refused by size)", () => {
    expectProtocolError(() => decodePacket(fromHex("30ffffff7f"), { maxPacketSize: 65536 }), "packet-too-large");
  });
});

describe("codec: strings", () => {
  it("round-trips a 65535-byte topic and refuses 65536", () => {
    const topic = "a".repeat(65535);
    const bytes = encodePacket({ type: 3, topic, payload: new Uint8Array(1), qos: 0, retain: false, dup: false });
    expect((decodePacket(bytes) as { topic: string }).topic).toBe(topic);
    expectProtocolError(() => encodePacket({ type: 3, topic: topic + "a", payload: "", qos: 0, retain: false, dup: false }), "string-too-long");
  });

  it("round-trips multi-byte UTF-8 in every field", () => {
    const packet: OutgoingPacket = {
      type: 1, clientId: "устройство-1", keepalive: 30, cleanSession: false, username: "温度😀",
      password: utf8("пароль"), will: { topic: "état/😀", payload: utf8("ø"), qos: 2, retain: false },
    };
    expect(decodePacket(encodePacket(packet))).toEqual(normalise(packet));
    const sub: OutgoingPacket = { type: 8, packetId: 7, subscriptions: [{ topic: "温度/+/𝄞/#", qos: 1 }] };
    expect(decodePacket(encodePacket(sub))).toEqual(sub);
  });

  it("utf8Length/writeUtf8/readUtf8 agree on random strings", () => {
    const r = new Prng(42);
    for (let i = 0; i < scaled(2000); i++) {
      const s = r.string(50, "\u0000");
      const n = utf8Length(s);
      const buf = new Uint8Array(n);
      expect(writeUtf8(s, buf, 0)).toBe(n);
      expect(hex(buf)).toBe(hex(utf8(s)));
      expect(readUtf8(buf, 0, n)).toBe(s);
    }
  });

  it("agrees on long strings too (the iterating path used above 256 UTF-16 units)", () => {
    const r = new Prng(43);
    for (let i = 0; i < scaled(50); i++) {
      const s = "x".repeat(250) + r.string(2000, "\u0000");
      const n = utf8Length(s);
      const buf = new Uint8Array(n);
      expect(writeUtf8(s, buf, 0)).toBe(n);
      expect(hex(buf)).toBe(hex(utf8(s)));
      expect(readUtf8(buf, 0, n)).toBe(s);
    }
    const long = "y".repeat(300);
    expectProtocolError(() => utf8Length(long + "\ud800"), "invalid-utf8");
    expectProtocolError(() => utf8Length(long + "\udc00z"), "invalid-utf8");
    expectProtocolError(() => utf8Length(long + "\u0000"), "invalid-utf8");
  });

  it("refuses malformed UTF-8 with a typed error", () => {
    const bad = ["c080", "eda080", "80", "e4b8", "f4908080", "ff", "00", "c3"];
    for (const b of bad) {
      const body = fromHex(b);
      const packet = new Uint8Array([0x30, 2 + body.length + 1, 0, body.length, ...body, 0x41]);
      expectProtocolError(() => decodePacket(packet), "invalid-utf8");
    }
  });

  it("refuses to encode lone surrogates and U+0000", () => {
    expectProtocolError(() => encodePacket({ type: 3, topic: "a\ud800", payload: "", qos: 0, retain: false, dup: false }), "invalid-utf8");
    expectProtocolError(() => encodePacket({ type: 3, topic: "a\udc00b", payload: "", qos: 0, retain: false, dup: false }), "invalid-utf8");
    expectProtocolError(() => encodePacket({ type: 1, clientId: "a\u0000", keepalive: 0, cleanSession: true }), "invalid-utf8");
  });
});

describe("codec: validation", () => {
  it("refuses wildcards and empty topic names in PUBLISH, both ways", () => {
    for (const topic of ["a/#", "+", ""]) {
      expectProtocolError(() => encodePacket({ type: 3, topic, payload: "", qos: 0, retain: false, dup: false }), "invalid-topic");
    }
    expectProtocolError(() => decodePacket(fromHex("300400022f23")), "invalid-topic");
    expectProtocolError(() => decodePacket(fromHex("30020000")), "invalid-topic");
  });

  it("refuses misplaced wildcards in filters", () => {
    for (const topic of ["a/#/b", "a#", "a+/b", ""]) {
      expectProtocolError(() => encodePacket({ type: 8, packetId: 1, subscriptions: [{ topic, qos: 0 }] }), "invalid-topic");
    }
    for (const topic of ["#", "+", "a/+/b", "/+/#", "+/+"]) {
      expect(() => encodePacket({ type: 8, packetId: 1, subscriptions: [{ topic, qos: 0 }] })).not.toThrow();
    }
  });

  it("refuses packet id 0 and out-of-range ids", () => {
    expectProtocolError(() => encodePacket({ type: 4, packetId: 0 }), "invalid-packet-id");
    expectProtocolError(() => encodePacket({ type: 4, packetId: 65536 }), "invalid-packet-id");
    expectProtocolError(() => encodePacket({ type: 3, topic: "t", payload: "", qos: 1, retain: false, dup: false }), "invalid-packet-id");
    expectProtocolError(() => decodePacket(fromHex("40020000")), "invalid-packet-id");
    expectProtocolError(() => decodePacket(fromHex("320500017400 00")), "invalid-packet-id");
  });

  it("refuses bad fixed-header flags and reserved types", () => {
    expectProtocolError(() => decodePacket(fromHex("80080001000361 2f2301")), "invalid-flags"); // SUBSCRIBE flags 0
    expectProtocolError(() => decodePacket(fromHex("41020001")), "invalid-flags");
    expectProtocolError(() => decodePacket(fromHex("60020001")), "invalid-flags"); // PUBREL needs 0010
    expectProtocolError(() => decodePacket(fromHex("0000")), "unknown-packet-type");
    expectProtocolError(() => decodePacket(fromHex("f000")), "unknown-packet-type");
    expectProtocolError(() => decodePacket(fromHex("36050001740001")), "invalid-qos");
  });

  it("refuses wrong lengths", () => {
    expectProtocolError(() => decodePacket(fromHex("4003000100")), "unexpected-length");
    expectProtocolError(() => decodePacket(fromHex("c00100")), "unexpected-length");
    expectProtocolError(() => decodePacket(fromHex("200100")), "unexpected-length");
    expectProtocolError(() => decodePacket(fromHex("3003000574")), "unexpected-length"); // string longer than body
    expectProtocolError(() => decodePacket(fromHex("82020001")), "empty-subscription");
    expectProtocolError(() => decodePacket(fromHex("90020001")), "empty-subscription");
    expectProtocolError(() => decodePacket(fromHex("9003000103")), "invalid-return-code");
    expectProtocolError(() => decodePacket(fromHex("20020200")), "invalid-flags");
  });

  it("refuses CONNECT variants MQTT 3.1.1 forbids", () => {
    expectProtocolError(() => encodePacket({ type: 1, clientId: "c", keepalive: 0, cleanSession: true, password: "p" }), "invalid-connect-flags");
    expectProtocolError(() => encodePacket({ type: 1, clientId: "c", keepalive: 70000, cleanSession: true }), "invalid-keepalive");
    // protocol level 3 ("MQIsdp" era) and reserved flag
    expectProtocolError(() => decodePacket(fromHex("100d00044d5154540302003c000163")), "unsupported-protocol");
    expectProtocolError(() => decodePacket(fromHex("100d00044d5154540403003c000163")), "invalid-connect-flags");
    expectProtocolError(() => decodePacket(fromHex("100d00044d5154540442003c000163")), "invalid-connect-flags");
    expectProtocolError(() => decodePacket(fromHex("100d00044d5154540412003c000163")), "invalid-connect-flags");
    expectProtocolError(() => decodePacket(fromHex("100e00044d5154540402003c00016300")), "unexpected-length");
  });
});

describe("codec: random round trip", () => {
  for (const type of ALL_TYPES) {
    it(`type ${type}: decode(encode(p)) equals p`, () => {
      const r = new Prng(1000 + type);
      for (let i = 0; i < scaled(500); i++) {
        const p = randomPacket(r, type);
        const bytes = encodePacket(p);
        expect(bytes.length).toBe(packetSize(p));
        const back = decodePacket(bytes);
        if (type === PacketType.Publish) {
          // Byte-compare payloads rather than element-wise deep equality of large arrays.
          expect(hex((back as { payload: Uint8Array }).payload)).toBe(hex((p as { payload: Uint8Array }).payload));
          expect({ ...back, payload: null }).toEqual({ ...p, payload: null });
        } else {
          expect(back).toEqual(p);
        }
      }
    });
  }
});
