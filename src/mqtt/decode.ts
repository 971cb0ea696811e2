/**
 * Bytes → packet, for one whole packet whose fixed header is already parsed (see reader.ts).
 * Strict about what MQTT 3.1.1 says a receiver MUST reject; every failure is an MqttProtocolError.
 * Binary fields (payload, password) are zero-copy views into `buf`.
 */

import { PacketType, PACKET_NAMES, PROTOCOL_LEVEL_311 } from "./constants.js";
import { MqttProtocolError } from "./errors.js";
import type { ConnectPacket, Packet, QoS, Subscription } from "./packets.js";
import { readUtf8 } from "./utf8.js";

/** Required low nibble of the first byte, by packet type (-1: PUBLISH, where it carries flags). */
const FIXED_FLAGS: readonly number[] = Object.freeze([-2, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, -2]);

/** Checks the first byte of a packet; called by the reader before it buffers anything. */
export function checkFirstByte(first: number): void {
  const type = first >> 4;
  const expected = FIXED_FLAGS[type];
  if (expected === -2) throw new MqttProtocolError("unknown-packet-type", `reserved packet type ${type}`);
  if (expected >= 0 && (first & 0x0f) !== expected) {
    throw new MqttProtocolError("invalid-flags", `${PACKET_NAMES[type]} with invalid header flags 0x${(first & 0x0f).toString(16)}`);
  }
  if (expected === -1 && (first & 0x06) === 0x06) throw new MqttProtocolError("invalid-qos", "PUBLISH with QoS 3");
}

/** A cursor over [pos, end) of one packet's body. */
class BodyCursor {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number, readonly name: string) {}

  need(n: number): void {
    if (this.pos + n > this.end) {
      throw new MqttProtocolError("unexpected-length", `${this.name} body too short`);
    }
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  uint16(): number {
    this.need(2);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  string(): string {
    const n = this.uint16();
    this.need(n);
    const s = readUtf8(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  binary(): Uint8Array {
    const n = this.uint16();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  packetId(): number {
    const id = this.uint16();
    if (id === 0) throw new MqttProtocolError("invalid-packet-id", `${this.name} with packet id 0`);
    return id;
  }
  done(): void {
    if (this.pos !== this.end) throw new MqttProtocolError("unexpected-length", `${this.name} has ${this.end - this.pos} trailing bytes`);
  }
}

/** Decodes the body [start, end) of a packet whose first byte is `first` (already checked). */
export function decodeBody(first: number, buf: Uint8Array, start: number, end: number): Packet {
  const type = first >> 4;
  switch (type) {
    case PacketType.Publish:
      return decodePublish(first, buf, start, end);
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback: {
      if (end - start !== 2) throw new MqttProtocolError("unexpected-length", `${PACKET_NAMES[type]} must have a 2-byte body`);
      const packetId = (buf[start] << 8) | buf[start + 1];
      if (packetId === 0) throw new MqttProtocolError("invalid-packet-id", `${PACKET_NAMES[type]} with packet id 0`);
      return { type, packetId } as Packet;
    }
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      if (end !== start) throw new MqttProtocolError("unexpected-length", `${PACKET_NAMES[type]} must have an empty body`);
      return { type } as Packet;
    case PacketType.Connack: {
      if (end - start !== 2) throw new MqttProtocolError("unexpected-length", "CONNACK must have a 2-byte body");
      const ack = buf[start];
      if (ack & 0xfe) throw new MqttProtocolError("invalid-flags", "CONNACK with reserved acknowledge flags set");
      return { type: PacketType.Connack, sessionPresent: ack === 1, returnCode: buf[start + 1] };
    }
    case PacketType.Subscribe:
      return decodeSubscribe(buf, start, end);
    case PacketType.Suback: {
      const c = new BodyCursor(buf, start, end, "SUBACK");
      const packetId = c.packetId();
      if (c.pos === end) throw new MqttProtocolError("empty-subscription", "SUBACK without return codes");
      const granted: number[] = [];
      while (c.pos < end) {
        const g = buf[c.pos++];
        if (g > 2 && g !== 0x80) throw new MqttProtocolError("invalid-return-code", `invalid SUBACK return code ${g}`);
        granted.push(g);
      }
      return { type: PacketType.Suback, packetId, granted };
    }
    case PacketType.Unsubscribe: {
      const c = new BodyCursor(buf, start, end, "UNSUBSCRIBE");
      const packetId = c.packetId();
      if (c.pos === end) throw new MqttProtocolError("empty-subscription", "UNSUBSCRIBE without topic filters");
      const topics: string[] = [];
      while (c.pos < end) topics.push(c.string());
      return { type: PacketType.Unsubscribe, packetId, topics };
    }
    case PacketType.Connect:
      return decodeConnect(buf, start, end);
    default:
      throw new MqttProtocolError("unknown-packet-type", `reserved packet type ${type}`);
  }
}

function decodePublish(first: number, buf: Uint8Array, start: number, end: number): Packet {
  const qos = ((first >> 1) & 3) as QoS;
  const c = new BodyCursor(buf, start, end, "PUBLISH");
  const topic = c.string();
  if (topic.length === 0) throw new MqttProtocolError("invalid-topic", "PUBLISH with an empty topic name");
  if (topic.indexOf("#") >= 0 || topic.indexOf("+") >= 0) {
    throw new MqttProtocolError("invalid-topic", "PUBLISH topic name contains a wildcard");
  }
  const packet = {
    type: PacketType.Publish,
    topic,
    payload: buf, // replaced below; keeps the object's shape fixed for the engine
    qos,
    retain: (first & 1) === 1,
    dup: (first & 8) === 8,
  } as Packet & { type: 3; packetId?: number };
  if (qos > 0) packet.packetId = c.packetId();
  packet.payload = buf.subarray(c.pos, end);
  return packet;
}

function decodeSubscribe(buf: Uint8Array, start: number, end: number): Packet {
  const c = new BodyCursor(buf, start, end, "SUBSCRIBE");
  const packetId = c.packetId();
  if (c.pos === end) throw new MqttProtocolError("empty-subscription", "SUBSCRIBE without topic filters");
  const subscriptions: Subscription[] = [];
  while (c.pos < end) {
    const topic = c.string();
    const q = c.byte();
    if (q > 2) throw new MqttProtocolError("invalid-qos", `SUBSCRIBE requested QoS byte 0x${q.toString(16)}`);
    subscriptions.push({ topic, qos: q as QoS });
  }
  return { type: PacketType.Subscribe, packetId, subscriptions };
}

function decodeConnect(buf: Uint8Array, start: number, end: number): Packet {
  const c = new BodyCursor(buf, start, end, "CONNECT");
  const protocol = c.string();
  const level = c.byte();
  if (protocol !== "MQTT" || level !== PROTOCOL_LEVEL_311) {
    throw new MqttProtocolError("unsupported-protocol", `unsupported protocol ${protocol} level ${level}`);
  }
  const flags = c.byte();
  const willQos = (flags >> 3) & 3;
  if (flags & 0x01) throw new MqttProtocolError("invalid-connect-flags", "CONNECT reserved flag set");
  if (!(flags & 0x04) && (flags & 0x38)) {
    throw new MqttProtocolError("invalid-connect-flags", "CONNECT will QoS/retain set without a will");
  }
  if (willQos === 3) throw new MqttProtocolError("invalid-qos", "CONNECT will QoS 3");
  if ((flags & 0x40) && !(flags & 0x80)) {
    throw new MqttProtocolError("invalid-connect-flags", "CONNECT password without username");
  }
  const keepalive = c.uint16();
  const packet: ConnectPacket = {
    type: PacketType.Connect,
    clientId: c.string(),
    keepalive,
    cleanSession: (flags & 0x02) !== 0,
  };
  if (flags & 0x04) {
    const topic = c.string();
    packet.will = { topic, payload: c.binary(), qos: willQos as QoS, retain: (flags & 0x20) !== 0 };
  }
  if (flags & 0x80) packet.username = c.string();
  if (flags & 0x40) packet.password = c.binary();
  c.done();
  return packet;
}
