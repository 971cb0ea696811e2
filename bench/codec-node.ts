/** Codec throughput on Node: our encode + stream decode vs mqtt-packet's generate + parser, same inputs. */
import * as mqttPacket from "mqtt-packet";
import { encodePacket, remainingLength, writePacket } from "../src/mqtt/encode.js";
import type { OutgoingPacket, Packet } from "../src/mqtt/packets.js";
import { PacketReader } from "../src/mqtt/reader.js";
import { compareThroughput } from "./measure.js";

/** A typical ThingsBoard telemetry message: 120 bytes of JSON. */
export const TELEMETRY_120 = JSON.stringify({
  ts: 1764142000000, values: { temperature: 23.51, humidity: 61.2, pressure: 1013.25, battery: 97, rssi: -61 },
}).padEnd(120, " ");

export interface CodecFigure {
  ours_ops_per_s: number;
  mqtt_packet_ops_per_s: number;
  ratio: number;
}

/**
 * `reuse`: ours encodes into one reused buffer, as MqttClient does (transports copy what they keep).
 * Otherwise encodePacket() allocates a fresh Uint8Array per packet, which V8 makes expensive above 64 bytes.
 * mqtt-packet always allocates (from Node's Buffer pool).
 */
function figure(name: string, ours: OutgoingPacket, theirs: Record<string, unknown>, reuse: boolean): CodecFigure {
  const batch = 1000;
  let sink = 0;
  const reader = new PacketReader((p: Packet) => (sink += p.type));
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p: { cmd: string }) => (sink += p.cmd.length));
  const out = new Uint8Array(512);
  const encodeOurs = reuse
    ? () => out.subarray(0, writePacket(ours, remainingLength(ours), out, 0))
    : () => encodePacket(ours);
  const result = compareThroughput(
    {
      ours: () => {
        for (let i = 0; i < batch; i++) reader.feed(encodeOurs());
      },
      mqtt_packet: () => {
        for (let i = 0; i < batch; i++) parser.parse(mqttPacket.generate(theirs as unknown as mqttPacket.Packet));
      },
    },
    { batch },
  );
  if (sink === 0) throw new Error(`${name}: nothing was decoded`);
  const o = result.ours.opsPerSec;
  const t = result.mqtt_packet.opsPerSec;
  return { ours_ops_per_s: Math.round(o), mqtt_packet_ops_per_s: Math.round(t), ratio: Number((o / t).toFixed(2)) };
}

const PUBLISH: OutgoingPacket = { type: 3, topic: "v1/devices/me/telemetry", payload: TELEMETRY_120, qos: 1, retain: false, dup: false, packetId: 42 };
const PUBLISH_THEIRS = { cmd: "publish", topic: "v1/devices/me/telemetry", payload: TELEMETRY_120, qos: 1, retain: false, dup: false, messageId: 42 };
const CONNECT: OutgoingPacket = { type: 1, clientId: "ESP32-A1B2C3D4E5F6", keepalive: 60, cleanSession: true, username: "A1_TEST_TOKEN_0123456789" };
const CONNECT_THEIRS = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "ESP32-A1B2C3D4E5F6", keepalive: 60, clean: true, username: "A1_TEST_TOKEN_0123456789" };

export function benchCodecNode(): Record<string, CodecFigure> {
  return {
    publish_120b_qos1: figure("PUBLISH", PUBLISH, PUBLISH_THEIRS, true),
    publish_120b_qos1_fresh_buffer: figure("PUBLISH", PUBLISH, PUBLISH_THEIRS, false),
    connect: figure("CONNECT", CONNECT, CONNECT_THEIRS, true),
  };
}
