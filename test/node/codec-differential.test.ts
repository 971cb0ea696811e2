/**
 * Differential tests against mqtt-packet, the Node ecosystem's MQTT codec, in both directions:
 * our bytes must parse with mqtt-packet to the same packet, and mqtt-packet's bytes must decode with ours
 * to the same fields. We also require the bytes to be identical (both follow MQTT 3.1.1 to the letter).
 */
import * as mqttPacket from "mqtt-packet";
import { PacketType } from "../../src/mqtt/constants.js";
import { encodePacket } from "../../src/mqtt/encode.js";
import type { Packet } from "../../src/mqtt/packets.js";
import { decodePacket } from "../../src/mqtt/reader.js";
import { Prng } from "../core/support/prng.js";
import { ALL_TYPES, randomPacket } from "../core/support/random-packets.js";

const PER_TYPE = 10_000;
const CMD: Record<number, string> = {
  1: "connect", 2: "connack", 3: "publish", 4: "puback", 5: "pubrec", 6: "pubrel", 7: "pubcomp",
  8: "subscribe", 9: "suback", 10: "unsubscribe", 11: "unsuback", 12: "pingreq", 13: "pingresp", 14: "disconnect",
};

/** Our packet → mqtt-packet's object form. */
function toTheirs(p: Packet): Record<string, unknown> {
  const cmd = CMD[p.type];
  switch (p.type) {
    case PacketType.Connect: {
      const o: Record<string, unknown> = { cmd, protocolId: "MQTT", protocolVersion: 4, clean: p.cleanSession, clientId: p.clientId, keepalive: p.keepalive };
      if (p.username !== undefined) o.username = p.username;
      if (p.password !== undefined) o.password = Buffer.from(p.password);
      if (p.will) o.will = { topic: p.will.topic, payload: Buffer.from(p.will.payload), qos: p.will.qos, retain: p.will.retain };
      return o;
    }
    case PacketType.Connack:
      return { cmd, returnCode: p.returnCode, sessionPresent: p.sessionPresent };
    case PacketType.Publish: {
      const o: Record<string, unknown> = { cmd, topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, dup: p.dup, retain: p.retain };
      if (p.packetId !== undefined) o.messageId = p.packetId;
      return o;
    }
    case PacketType.Subscribe:
      return { cmd, messageId: p.packetId, subscriptions: p.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
    case PacketType.Suback:
      return { cmd, messageId: p.packetId, granted: p.granted };
    case PacketType.Unsubscribe:
      return { cmd, messageId: p.packetId, unsubscriptions: p.topics };
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback:
      return { cmd, messageId: p.packetId };
    default:
      return { cmd };
  }
}

/** mqtt-packet's parsed object → our packet form (only the fields MQTT 3.1.1 defines). */
function fromTheirs(t: any): Packet {
  const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);
  switch (t.cmd) {
    case "connect": {
      const p: any = { type: 1, clientId: t.clientId, keepalive: t.keepalive, cleanSession: t.clean };
      if (t.will) p.will = { topic: t.will.topic, payload: bytes(t.will.payload), qos: t.will.qos, retain: t.will.retain };
      if (t.username !== undefined) p.username = t.username;
      if (t.password !== undefined) p.password = bytes(t.password);
      return p;
    }
    case "connack":
      return { type: 2, sessionPresent: t.sessionPresent, returnCode: t.returnCode };
    case "publish": {
      const p: any = { type: 3, topic: t.topic, payload: bytes(t.payload), qos: t.qos, retain: t.retain, dup: t.dup };
      if (t.qos > 0) p.packetId = t.messageId;
      return p;
    }
    case "subscribe":
      return { type: 8, packetId: t.messageId, subscriptions: t.subscriptions.map((s: any) => ({ topic: s.topic, qos: s.qos })) };
    case "suback":
      return { type: 9, packetId: t.messageId, granted: t.granted };
    case "unsubscribe":
      return { type: 10, packetId: t.messageId, topics: t.unsubscriptions };
    default: {
      const type = Number(Object.keys(CMD).find((k) => CMD[Number(k)] === t.cmd));
      return (t.messageId !== undefined ? { type, packetId: t.messageId } : { type }) as Packet;
    }
  }
}

/** Comparable form: binary fields as hex, so views and Buffers compare by content. */
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");

function canon(p: Packet): string {
  return JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? `hex:${hex(v)}` : v));
}

function theirParse(bytes: Uint8Array): any[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const out: any[] = [];
  const errors: Error[] = [];
  parser.on("packet", (p: any) => out.push(p));
  parser.on("error", (e: Error) => errors.push(e));
  parser.parse(Buffer.from(bytes));
  if (errors.length) throw errors[0];
  return out;
}

describe("differential: ours vs mqtt-packet", () => {
  for (const type of ALL_TYPES) {
    it(`${CMD[type]}: ${PER_TYPE} random packets agree both ways, byte for byte`, () => {
      const r = new Prng(0x5eed + type);
      for (let i = 0; i < PER_TYPE; i++) {
        const p = randomPacket(r, type);
        const ours = encodePacket(p);
        const theirs = mqttPacket.generate(toTheirs(p) as any);
        // Direction 1: our bytes parse with mqtt-packet to the same packet.
        const parsed = theirParse(ours);
        if (parsed.length !== 1 || canon(fromTheirs(parsed[0])) !== canon(p)) {
          throw new Error(`mqtt-packet read our ${CMD[type]} differently (seed ${r.seed}, #${i}): ${canon(p)} vs ${JSON.stringify(parsed)}`);
        }
        // Direction 2: mqtt-packet's bytes decode with ours to the same packet.
        const decoded = decodePacket(new Uint8Array(theirs));
        if (canon(decoded) !== canon(p)) {
          throw new Error(`we read mqtt-packet's ${CMD[type]} differently (seed ${r.seed}, #${i}): ${canon(p)} vs ${canon(decoded)}`);
        }
        if (hex(ours) !== theirs.toString("hex")) {
          throw new Error(`bytes differ for ${canon(p)}: ours ${hex(ours)} theirs ${theirs.toString("hex")}`);
        }
      }
      expect(true).toBe(true);
    });
  }

  const EDGES: Array<[string, Packet]> = [
    ["Remaining Length 127", pub(127)],
    ["Remaining Length 128", pub(128)],
    ["Remaining Length 16383", pub(16383)],
    ["Remaining Length 16384", pub(16384)],
    ["Remaining Length 2097151", pub(2097151)],
    ["Remaining Length 2097152", pub(2097152)],
    ["empty payload", { type: 3, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false }],
    ["65535-byte topic", { type: 3, topic: "é".repeat(32767) + "a", payload: new Uint8Array(1), qos: 1, retain: false, dup: false, packetId: 9 }],
    ["multi-byte UTF-8", { type: 3, topic: "温度/😀/ünï", payload: new Uint8Array([0xf0, 0x9f, 0x98, 0x80]), qos: 0, retain: true, dup: false }],
    ["CONNECT, empty client id", { type: 1, clientId: "", keepalive: 0, cleanSession: true }],
    ["CONNECT, empty username and password", { type: 1, clientId: "c", keepalive: 65535, cleanSession: false, username: "", password: new Uint8Array(0) }],
    ["SUBSCRIBE multi-byte filters", { type: 8, packetId: 65535, subscriptions: [{ topic: "ü/+/#", qos: 2 }, { topic: "😀", qos: 0 }] }],
  ];
  for (const [name, p] of EDGES) {
    it(`edge case: ${name}`, () => {
      const ours = encodePacket(p);
      const theirs = mqttPacket.generate(toTheirs(p) as any);
      expect(hex(ours)).toBe(theirs.toString("hex"));
      expect(canon(fromTheirs(theirParse(ours)[0]))).toBe(canon(p));
      expect(canon(decodePacket(new Uint8Array(theirs)))).toBe(canon(p));
    });
  }
});

function pub(remaining: number): Packet {
  const payload = new Uint8Array(remaining - 3);
  for (let i = 0; i < payload.length; i += 997) payload[i] = i & 0xff;
  return { type: 3, topic: "t", payload, qos: 0, retain: false, dup: false };
}
