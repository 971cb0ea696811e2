/** MQTT 3.1.1 numbers, in one place (mqtt-packet's constants.js idea). */

export const PacketType = Object.freeze({
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
} as const);

export type PacketTypeNumber = (typeof PacketType)[keyof typeof PacketType];

/** Names for logs and errors, indexed by packet type. */
export const PACKET_NAMES: readonly string[] = Object.freeze([
  "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
  "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED",
]);

/** CONNACK return codes (MQTT 3.1.1 table 3.1) with the names our errors carry. */
export const CONNACK_CODE_NAMES: readonly string[] = Object.freeze([
  "accepted",
  "unacceptable-protocol-version",
  "identifier-rejected",
  "server-unavailable",
  "bad-username-or-password",
  "not-authorized",
]);

/** SUBACK return code for a refused subscription. */
export const SUBACK_FAILURE = 0x80;

/** Largest value the 4-byte Remaining Length can carry. */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** ThingsBoard's default max MQTT message size (netty's maxBytesInMessage). */
export const DEFAULT_MAX_PACKET_SIZE = 65_536;

export const PROTOCOL_NAME = "MQTT";
export const PROTOCOL_LEVEL_311 = 4;
