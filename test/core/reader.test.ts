import { encodePacket } from "../../src/mqtt/encode.js";
import { MqttProtocolError } from "../../src/mqtt/errors.js";
import type { Packet } from "../../src/mqtt/packets.js";
import { PacketReader } from "../../src/mqtt/reader.js";
import { Prng } from "./support/prng.js";
import { concat, fromHex, hex } from "./support/bytes.js";
import { ALL_TYPES, randomPacket } from "./support/random-packets.js";

/** Packets as comparable strings (payload views differ in backing buffer, not in bytes). */
function fingerprint(p: Packet): string {
  return JSON.stringify(p, (_k, v) => (v instanceof Uint8Array ? hex(v) : v));
}

function readAll(chunks: Uint8Array[], maxPacketSize = 1 << 20): string[] {
  const out: string[] = [];
  const reader = new PacketReader((p) => out.push(fingerprint(p)), { maxPacketSize });
  for (const c of chunks) reader.feed(c);
  expect(reader.midPacket).toBe(false);
  return out;
}

function stream(seed: number, count: number): { bytes: Uint8Array; packets: Packet[] } {
  const r = new Prng(seed);
  const packets: Packet[] = [];
  for (let i = 0; i < count; i++) {
    const p = randomPacket(r, ALL_TYPES[i % ALL_TYPES.length]);
    if (p.type === 3 && p.payload.length > 300) p.payload = p.payload.subarray(0, 300);
    packets.push(p);
  }
  return { bytes: concat(packets.map((p) => encodePacket(p))), packets };
}

describe("reader: chunking", () => {
  const { bytes, packets } = stream(7, 28);
  const expected = packets.map(fingerprint);

  it("reads a stream of every packet type given in one chunk", () => {
    expect(readAll([bytes])).toEqual(expected);
  });

  it("gives the same packets when the stream is split at every byte boundary", () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(readAll([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
  });

  it("gives the same packets fed one byte at a time", () => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    expect(readAll(chunks)).toEqual(expected);
  });

  it("gives the same packets for random chunkings", () => {
    const r = new Prng(99);
    for (let round = 0; round < 50; round++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; ) {
        const n = r.int(1, 40);
        chunks.push(bytes.subarray(i, i + n));
        i += n;
      }
      expect(readAll(chunks)).toEqual(expected);
    }
  });

  it("keeps payloads intact when the source chunk is dropped (spanning packets are copied)", () => {
    const packet = encodePacket({ type: 3, topic: "t", payload: new Uint8Array([1, 2, 3, 4]), qos: 0, retain: false, dup: false });
    const got: Packet[] = [];
    const reader = new PacketReader((p) => got.push(p));
    const a = packet.slice(0, 5);
    reader.feed(a);
    a.fill(0);
    reader.feed(packet.slice(5));
    expect(hex((got[0] as { payload: Uint8Array }).payload)).toBe("01020304");
  });
});

describe("reader: size limit and errors", () => {
  it("rejects a Remaining Length above the limit before buffering any body byte", () => {
    const reader = new PacketReader(() => undefined, { maxPacketSize: 1000 });
    // Header claims 1000 bytes of body: total 1003 > 1000. Fed without the body.
    let caught: unknown;
    try {
      reader.feed(fromHex("30e807"));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MqttProtocolError);
    expect((caught as MqttProtocolError).code).toBe("packet-too-large");
    expect(reader.peakBufferSize).toBe(0);
  });

  it("accepts a packet of exactly the limit", () => {
    const packet = encodePacket({ type: 3, topic: "t", payload: new Uint8Array(1000 - 6), qos: 0, retain: false, dup: false });
    expect(packet.length).toBe(1000);
    let n = 0;
    const reader = new PacketReader(() => n++, { maxPacketSize: 1000 });
    reader.feed(packet.subarray(0, 10));
    reader.feed(packet.subarray(10));
    expect(n).toBe(1);
    expect(reader.peakBufferSize).toBe(997);
  });

  it("defaults to ThingsBoard's 65536-byte limit", () => {
    expect(new PacketReader(() => undefined).maxPacketSize).toBe(65536);
  });

  it("rejects a fifth Remaining Length byte after reading at most 4", () => {
    const reader = new PacketReader(() => undefined, { maxPacketSize: Number.MAX_SAFE_INTEGER });
    let consumedBeforeError = 0;
    const bytes = fromHex("30ffffffff7f");
    try {
      for (let i = 0; i < bytes.length; i++) {
        reader.feed(bytes.subarray(i, i + 1));
        consumedBeforeError++;
      }
    } catch (e) {
      expect((e as MqttProtocolError).code).toBe("malformed-remaining-length");
    }
    // first byte + 3 length bytes accepted; the 4th length byte (with continuation) is refused.
    expect(consumedBeforeError).toBe(4);
  });

  it("stays failed after an error and recovers on reset()", () => {
    const got: Packet[] = [];
    const reader = new PacketReader((p) => got.push(p));
    expect(() => reader.feed(fromHex("f0"))).toThrow(MqttProtocolError);
    expect(() => reader.feed(fromHex("c000"))).toThrow(MqttProtocolError);
    reader.reset();
    reader.feed(fromHex("c000"));
    expect(got.length).toBe(1);
  });

  it("delivers packets before a malformed one in the same chunk", () => {
    const got: Packet[] = [];
    const reader = new PacketReader((p) => got.push(p));
    expect(() => reader.feed(fromHex("d000 d000 4100"))).toThrow(MqttProtocolError);
    expect(got.length).toBe(2);
  });

  it("stops at reset() called from the packet callback", () => {
    const got: Packet[] = [];
    const reader = new PacketReader((p) => {
      got.push(p);
      reader.reset();
    });
    reader.feed(fromHex("d000d000d000"));
    expect(got.length).toBe(1);
  });
});
