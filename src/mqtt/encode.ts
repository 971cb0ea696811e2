/**
 * Packet → bytes. Pure: sizes are computed and checked before anything is written
 * (coreMQTT's serializer idea), and a caller may write several packets into one buffer.
 */

import { MAX_REMAINING_LENGTH, PacketType, PROTOCOL_LEVEL_311 } from "./constants.js";
import { MqttProtocolError } from "./errors.js";
import type { Bytes, OutgoingPacket, QoS } from "./packets.js";
import { utf8Length, writeUtf8 } from "./utf8.js";

const MAX_STRING = 0xffff;

/** Bytes the packet's body takes (the Remaining Length); validates the packet. */
export function remainingLength(p: OutgoingPacket): number {
  switch (p.type) {
    case PacketType.Connect: {
      checkUint16(p.keepalive, "invalid-keepalive", "keepalive");
      // Protocol name "MQTT" (6) + level (1) + flags (1) + keepalive (2).
      let n = 10 + stringLength(p.clientId);
      if (p.will) {
        checkTopicName(p.will.topic);
        checkQoS(p.will.qos);
        n += stringLength(p.will.topic) + binaryLength(p.will.payload);
      }
      if (p.username !== undefined) n += stringLength(p.username);
      else if (p.password !== undefined) {
        throw new MqttProtocolError("invalid-connect-flags", "MQTT 3.1.1 forbids a password without a username");
      }
      if (p.password !== undefined) n += binaryLength(p.password);
      return checkRemaining(n);
    }
    case PacketType.Connack:
      checkByte(p.returnCode, "invalid-return-code", "CONNACK return code");
      return 2;
    case PacketType.Publish: {
      checkTopicName(p.topic);
      checkQoS(p.qos);
      let n = stringLength(p.topic) + payloadLength(p.payload);
      if (p.qos > 0) {
        checkPacketId(p.packetId);
        n += 2;
      }
      return checkRemaining(n);
    }
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback:
      checkPacketId(p.packetId);
      return 2;
    case PacketType.Subscribe: {
      checkPacketId(p.packetId);
      const subs = p.subscriptions;
      if (subs.length === 0) throw new MqttProtocolError("empty-subscription", "SUBSCRIBE needs at least one filter");
      let n = 2;
      for (let i = 0; i < subs.length; i++) {
        checkTopicFilter(subs[i].topic);
        checkQoS(subs[i].qos);
        n += stringLength(subs[i].topic) + 1;
      }
      return checkRemaining(n);
    }
    case PacketType.Suback: {
      checkPacketId(p.packetId);
      if (p.granted.length === 0) throw new MqttProtocolError("empty-subscription", "SUBACK needs at least one code");
      for (let i = 0; i < p.granted.length; i++) {
        const g = p.granted[i];
        if (g !== 0 && g !== 1 && g !== 2 && g !== 0x80) {
          throw new MqttProtocolError("invalid-return-code", `invalid SUBACK return code ${g}`);
        }
      }
      return checkRemaining(2 + p.granted.length);
    }
    case PacketType.Unsubscribe: {
      checkPacketId(p.packetId);
      if (p.topics.length === 0) throw new MqttProtocolError("empty-subscription", "UNSUBSCRIBE needs at least one filter");
      let n = 2;
      for (let i = 0; i < p.topics.length; i++) {
        checkTopicFilter(p.topics[i]);
        n += stringLength(p.topics[i]);
      }
      return checkRemaining(n);
    }
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      return 0;
    default:
      throw new MqttProtocolError("unknown-packet-type", `cannot encode packet type ${(p as { type: unknown }).type}`);
  }
}

/** Bytes the Remaining Length field itself takes. */
export function lengthFieldSize(remaining: number): number {
  return remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
}

/** Whole encoded size of the packet. */
export function packetSize(p: OutgoingPacket): number {
  const r = remainingLength(p);
  return 1 + lengthFieldSize(r) + r;
}

/** Encodes into a new buffer of exactly the packet's size. */
export function encodePacket(p: OutgoingPacket): Uint8Array {
  const r = remainingLength(p);
  const buf = new Uint8Array(1 + lengthFieldSize(r) + r);
  writeBody(p, buf, writeFixedHeader(p, r, buf, 0));
  return buf;
}

/**
 * Writes the packet at `offset` of `buf`, which must have room for `packetSize(p)` bytes
 * (`remaining` is `remainingLength(p)`, passed in so a batch computes it once); returns the end offset.
 */
export function writePacket(p: OutgoingPacket, remaining: number, buf: Uint8Array, offset: number): number {
  return writeBody(p, buf, writeFixedHeader(p, remaining, buf, offset));
}

function writeFixedHeader(p: OutgoingPacket, remaining: number, buf: Uint8Array, offset: number): number {
  let flags = 0;
  if (p.type === PacketType.Publish) {
    flags = (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  } else if (p.type === PacketType.Subscribe || p.type === PacketType.Unsubscribe || p.type === PacketType.Pubrel) {
    flags = 2; // fixed by MQTT 3.1.1 §2.2.2
  }
  buf[offset++] = (p.type << 4) | flags;
  let r = remaining;
  do {
    let digit = r & 0x7f;
    r >>>= 7; // r <= 268435455 < 2^31: bit operations are exact
    if (r > 0) digit |= 0x80;
    buf[offset++] = digit;
  } while (r > 0);
  return offset;
}

function writeBody(p: OutgoingPacket, buf: Uint8Array, o: number): number {
  switch (p.type) {
    case PacketType.Connect: {
      o = writeString("MQTT", buf, o);
      buf[o++] = PROTOCOL_LEVEL_311;
      let flags = p.cleanSession ? 0x02 : 0;
      if (p.will) flags |= 0x04 | (p.will.qos << 3) | (p.will.retain ? 0x20 : 0);
      if (p.password !== undefined) flags |= 0x40;
      if (p.username !== undefined) flags |= 0x80;
      buf[o++] = flags;
      o = writeUint16(p.keepalive, buf, o);
      o = writeString(p.clientId, buf, o);
      if (p.will) {
        o = writeString(p.will.topic, buf, o);
        o = writeBinary(p.will.payload, buf, o);
      }
      if (p.username !== undefined) o = writeString(p.username, buf, o);
      if (p.password !== undefined) o = writeBinary(p.password, buf, o);
      return o;
    }
    case PacketType.Connack:
      buf[o++] = p.sessionPresent ? 1 : 0;
      buf[o++] = p.returnCode;
      return o;
    case PacketType.Publish: {
      o = writeString(p.topic, buf, o);
      if (p.qos > 0) o = writeUint16(p.packetId as number, buf, o);
      const payload = p.payload;
      if (typeof payload === "string") return writeUtf8(payload, buf, o);
      buf.set(payload, o);
      return o + payload.length;
    }
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback:
      return writeUint16(p.packetId, buf, o);
    case PacketType.Subscribe: {
      o = writeUint16(p.packetId, buf, o);
      for (let i = 0; i < p.subscriptions.length; i++) {
        o = writeString(p.subscriptions[i].topic, buf, o);
        buf[o++] = p.subscriptions[i].qos;
      }
      return o;
    }
    case PacketType.Suback: {
      o = writeUint16(p.packetId, buf, o);
      for (let i = 0; i < p.granted.length; i++) buf[o++] = p.granted[i];
      return o;
    }
    case PacketType.Unsubscribe: {
      o = writeUint16(p.packetId, buf, o);
      for (let i = 0; i < p.topics.length; i++) o = writeString(p.topics[i], buf, o);
      return o;
    }
    default:
      return o;
  }
}

function writeUint16(v: number, buf: Uint8Array, o: number): number {
  buf[o] = v >> 8;
  buf[o + 1] = v & 0xff;
  return o + 2;
}

/** A length-prefixed UTF-8 string; its length was checked by stringLength. */
function writeString(s: string, buf: Uint8Array, o: number): number {
  const end = writeUtf8(s, buf, o + 2);
  writeUint16(end - o - 2, buf, o);
  return end;
}

function writeBinary(b: Bytes, buf: Uint8Array, o: number): number {
  if (typeof b === "string") return writeString(b, buf, o);
  writeUint16(b.length, buf, o);
  buf.set(b, o + 2);
  return o + 2 + b.length;
}

function stringLength(s: string): number {
  const n = utf8Length(s);
  if (n > MAX_STRING) throw new MqttProtocolError("string-too-long", `string of ${n} bytes exceeds 65535`);
  return 2 + n;
}

function binaryLength(b: Bytes): number {
  if (typeof b === "string") return stringLength(b);
  if (b.length > MAX_STRING) throw new MqttProtocolError("string-too-long", `binary field of ${b.length} bytes exceeds 65535`);
  return 2 + b.length;
}

function payloadLength(b: Bytes): number {
  return typeof b === "string" ? utf8Length(b) : b.length;
}

function checkRemaining(n: number): number {
  if (n > MAX_REMAINING_LENGTH) {
    throw new MqttProtocolError("packet-too-large", `packet body of ${n} bytes exceeds MQTT's ${MAX_REMAINING_LENGTH}`);
  }
  return n;
}

function checkQoS(q: number): asserts q is QoS {
  if (q !== 0 && q !== 1 && q !== 2) throw new MqttProtocolError("invalid-qos", `invalid QoS ${q}`);
}

function checkPacketId(id: number | undefined): void {
  // `& 0xffff` also rejects fractions and NaN.
  if (id === undefined || id < 1 || (id & 0xffff) !== id) {
    throw new MqttProtocolError("invalid-packet-id", `packet id must be 1..65535, got ${id}`);
  }
}

function checkUint16(v: number, code: "invalid-keepalive", what: string): void {
  if (!(v >= 0 && v <= 0xffff) || v !== Math.floor(v)) throw new MqttProtocolError(code, `${what} must be 0..65535, got ${v}`);
}

function checkByte(v: number, code: "invalid-return-code", what: string): void {
  if (!(v >= 0 && v <= 0xff) || v !== Math.floor(v)) throw new MqttProtocolError(code, `${what} must be 0..255, got ${v}`);
}

/** Topic names (PUBLISH, will) must be non-empty and free of wildcards (MQTT-3.3.2-2, MQTT-4.7.3-1). */
export function checkTopicName(topic: string): void {
  if (topic.length === 0) throw new MqttProtocolError("invalid-topic", "topic name is empty");
  // indexOf, not a charCodeAt loop: O(n) on XS too (see utf8.ts).
  if (topic.indexOf("#") >= 0 || topic.indexOf("+") >= 0) {
    throw new MqttProtocolError("invalid-topic", `topic name "${topic}" contains a wildcard`);
  }
}

/** Filters must be non-empty; '#' only last and alone in its level, '+' alone in its level (MQTT 4.7.1). */
export function checkTopicFilter(filter: string): void {
  if (filter.length === 0) throw new MqttProtocolError("invalid-topic", "topic filter is empty");
  if (filter.indexOf("#") < 0 && filter.indexOf("+") < 0) return;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === "+" || (level === "#" && i === levels.length - 1)) continue;
    if (level.indexOf("#") >= 0 || level.indexOf("+") >= 0) {
      throw new MqttProtocolError("invalid-topic", `topic filter "${filter}" has a misplaced wildcard`);
    }
  }
}
