/**
 * A scripted MQTT server on the far end of a MemoryLink, for core client tests (real brokers are used in
 * test/node). It decodes what the client writes and answers like a broker unless told otherwise.
 */
import { PacketType } from "../../../src/mqtt/constants.js";
import { encodePacket } from "../../../src/mqtt/encode.js";
import type { OutgoingPacket, Packet } from "../../../src/mqtt/packets.js";
import { PacketReader } from "../../../src/mqtt/reader.js";
import { MemoryLink } from "./memory-ports.js";

export interface FakeBrokerOptions {
  connackCode?: number;
  answerConnect?: boolean;
  answerSubscribe?: boolean;
  answerPublish?: boolean;
  answerPing?: boolean;
  /** SUBACK code per filter (default: the requested QoS). */
  grant?: (topic: string, qos: number) => number;
}

export class FakeBroker {
  readonly received: Packet[] = [];
  private readonly reader: PacketReader;

  constructor(readonly link: MemoryLink, public options: FakeBrokerOptions = {}) {
    this.reader = new PacketReader((p) => this.onPacket(p), { maxPacketSize: 1 << 24 });
    link.onClientWrite = (chunk) => this.reader.feed(chunk);
  }

  send(p: OutgoingPacket): void {
    this.link.send(encodePacket(p));
  }

  ofType<T extends Packet["type"]>(type: T): Extract<Packet, { type: T }>[] {
    return this.received.filter((p) => p.type === type) as Extract<Packet, { type: T }>[];
  }

  private onPacket(p: Packet): void {
    this.received.push(p);
    const o = this.options;
    switch (p.type) {
      case PacketType.Connect:
        if (o.answerConnect !== false) this.send({ type: PacketType.Connack, sessionPresent: false, returnCode: o.connackCode ?? 0 });
        break;
      case PacketType.Subscribe:
        if (o.answerSubscribe !== false) {
          const granted = p.subscriptions.map((s) => (o.grant ? o.grant(s.topic, s.qos) : s.qos));
          this.send({ type: PacketType.Suback, packetId: p.packetId, granted });
        }
        break;
      case PacketType.Unsubscribe:
        this.send({ type: PacketType.Unsuback, packetId: p.packetId });
        break;
      case PacketType.Publish:
        if (p.qos === 1 && o.answerPublish !== false) this.send({ type: PacketType.Puback, packetId: p.packetId as number });
        break;
      case PacketType.Pingreq:
        if (o.answerPing !== false) this.send({ type: PacketType.Pingresp });
        break;
      default:
        break;
    }
  }
}
