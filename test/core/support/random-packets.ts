/** Random valid packets of every type, for round-trip and differential tests. */
import { PacketType } from "../../../src/mqtt/constants.js";
import type { Packet, QoS } from "../../../src/mqtt/packets.js";
import { Prng } from "./prng.js";

export const ALL_TYPES = [
  PacketType.Connect, PacketType.Connack, PacketType.Publish, PacketType.Puback, PacketType.Pubrec,
  PacketType.Pubrel, PacketType.Pubcomp, PacketType.Subscribe, PacketType.Suback, PacketType.Unsubscribe,
  PacketType.Unsuback, PacketType.Pingreq, PacketType.Pingresp, PacketType.Disconnect,
] as const;

function topicName(r: Prng): string {
  const s = r.string(r.bool(0.1) ? 300 : 30, "#+\u0000");
  return s.length === 0 ? "t" : s;
}

function topicFilter(r: Prng): string {
  const levels: string[] = [];
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 9);
    levels.push(k === 0 ? "+" : r.string(8, "#+/\u0000"));
  }
  if (r.bool(0.2)) levels.push("#");
  const f = levels.join("/");
  return f.length === 0 ? "x" : f;
}

function id(r: Prng): number {
  return r.bool(0.1) ? r.pick([1, 255, 256, 65535]) : r.int(1, 65535);
}

/** Payload size: mostly small, sometimes around Remaining Length boundaries. */
function payload(r: Prng): Uint8Array {
  const big = r.int(0, 99);
  const n = big < 90 ? r.int(0, 200) : big < 98 ? r.int(100, 20000) : r.int(16300, 16500);
  return r.bytes(n);
}

export function randomPacket(r: Prng, type: number): Packet {
  switch (type) {
    case PacketType.Connect: {
      const clientId = r.string(23, "\u0000");
      // An empty client id needs a clean session (MQTT-3.1.3-7); mqtt-packet enforces that in its codec.
      const p: Packet = { type: PacketType.Connect, clientId, keepalive: r.int(0, 65535), cleanSession: clientId === "" || r.bool() };
      if (r.bool(0.4)) p.will = { topic: topicName(r), payload: r.bytes(r.int(0, 50)), qos: r.int(0, 2) as QoS, retain: r.bool() };
      if (r.bool(0.6)) {
        p.username = r.string(40, "\u0000");
        if (r.bool(0.7)) p.password = r.bytes(r.int(0, 60));
      }
      return p;
    }
    case PacketType.Connack:
      return { type: PacketType.Connack, sessionPresent: r.bool(), returnCode: r.int(0, 5) };
    case PacketType.Publish: {
      const qos = r.int(0, 1) as QoS;
      const p: Packet = { type: PacketType.Publish, topic: topicName(r), payload: payload(r), qos, retain: r.bool(), dup: qos > 0 && r.bool() };
      if (qos > 0) p.packetId = id(r);
      return p;
    }
    case PacketType.Subscribe: {
      const subscriptions = [];
      for (let i = r.int(1, 4); i > 0; i--) subscriptions.push({ topic: topicFilter(r), qos: r.int(0, 2) as QoS });
      return { type: PacketType.Subscribe, packetId: id(r), subscriptions };
    }
    case PacketType.Suback: {
      const granted = [];
      for (let i = r.int(1, 6); i > 0; i--) granted.push(r.pick([0, 1, 2, 0x80]));
      return { type: PacketType.Suback, packetId: id(r), granted };
    }
    case PacketType.Unsubscribe: {
      const topics = [];
      for (let i = r.int(1, 4); i > 0; i--) topics.push(topicFilter(r));
      return { type: PacketType.Unsubscribe, packetId: id(r), topics };
    }
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback:
      return { type, packetId: id(r) } as Packet;
    default:
      return { type } as Packet;
  }
}
