/**
 * Packet descriptions: plain objects tagged with the numeric packet type.
 * Decoded packets carry binary fields as Uint8Array; the encoder also takes strings for them.
 */

import type { PacketType } from "./constants.js";

export type QoS = 0 | 1 | 2;

/** Binary fields the encoder accepts as UTF-8 text too (payloads, passwords). */
export type Bytes = Uint8Array | string;

export interface Will<B = Uint8Array> {
  topic: string;
  payload: B;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket<B = Uint8Array> {
  type: typeof PacketType.Connect;
  clientId: string;
  /** Seconds; 0 disables keepalive. */
  keepalive: number;
  cleanSession: boolean;
  username?: string;
  password?: B;
  will?: Will<B>;
}

export interface ConnackPacket {
  type: typeof PacketType.Connack;
  sessionPresent: boolean;
  returnCode: number;
}

export interface PublishPacket<B = Uint8Array> {
  type: typeof PacketType.Publish;
  topic: string;
  payload: B;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a packet id and nothing else. */
export interface AckPacket<T extends number> {
  type: T;
  packetId: number;
}
export type PubackPacket = AckPacket<typeof PacketType.Puback>;
export type PubrecPacket = AckPacket<typeof PacketType.Pubrec>;
export type PubrelPacket = AckPacket<typeof PacketType.Pubrel>;
export type PubcompPacket = AckPacket<typeof PacketType.Pubcomp>;
export type UnsubackPacket = AckPacket<typeof PacketType.Unsuback>;

export interface Subscription {
  topic: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: typeof PacketType.Subscribe;
  packetId: number;
  subscriptions: Subscription[];
}

export interface SubackPacket {
  type: typeof PacketType.Suback;
  packetId: number;
  /** Granted QoS (0, 1, 2) or 0x80 for failure, one per requested filter. */
  granted: number[];
}

export interface UnsubscribePacket {
  type: typeof PacketType.Unsubscribe;
  packetId: number;
  topics: string[];
}

export interface EmptyPacket<T extends number> {
  type: T;
}
export type PingreqPacket = EmptyPacket<typeof PacketType.Pingreq>;
export type PingrespPacket = EmptyPacket<typeof PacketType.Pingresp>;
export type DisconnectPacket = EmptyPacket<typeof PacketType.Disconnect>;

/** Every packet, as the decoder yields it. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket;

/** Every packet, as the encoder accepts it (text allowed for binary fields). */
export type OutgoingPacket =
  | ConnectPacket<Bytes>
  | PublishPacket<Bytes>
  | Exclude<Packet, ConnectPacket | PublishPacket>;
