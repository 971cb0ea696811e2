/** The MQTT 3.1.1 layer: codec (encode, decode, reader) and the client session. */
export { PacketType, PACKET_NAMES, CONNACK_CODE_NAMES, DEFAULT_MAX_PACKET_SIZE, MAX_REMAINING_LENGTH } from "./constants.js";
export { encodePacket, packetSize, remainingLength, writePacket, checkTopicName, checkTopicFilter } from "./encode.js";
export { decodeBody, checkFirstByte } from "./decode.js";
export { PacketReader, decodePacket } from "./reader.js";
export type { PacketReaderOptions } from "./reader.js";
export { MqttClient } from "./client.js";
export type { MqttClientOptions, PublishOptions, Completion, ClientState, ClientStats } from "./client.js";
export * from "./errors.js";
export type * from "./packets.js";
