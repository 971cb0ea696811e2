/**
 * Incremental packet reader: accepts bytes in any chunking (one packet over many reads, many packets in one
 * read) and hands out whole packets. The size limit is enforced from the Remaining Length, before any body
 * byte is buffered, so a hostile peer can make it allocate at most `maxPacketSize` bytes.
 */

import { DEFAULT_MAX_PACKET_SIZE } from "./constants.js";
import { checkFirstByte, decodeBody } from "./decode.js";
import { MqttProtocolError } from "./errors.js";
import type { Packet } from "./packets.js";

export interface PacketReaderOptions {
  /** Largest whole packet (fixed header included) accepted; default 65536, ThingsBoard's default. */
  maxPacketSize?: number;
}

export class PacketReader {
  readonly maxPacketSize: number;
  /** Largest body buffer this reader ever allocated (for tests and memory reports). */
  peakBufferSize = 0;

  private readonly onPacket: (packet: Packet) => void;
  // Fixed header being parsed: first byte (-1: none yet), Remaining Length so far, its byte count.
  private first = -1;
  private remaining = 0;
  private lengthBytes = 0;
  // Body of a packet that spans chunks; allocated once its size is known and checked.
  private body: Uint8Array | null = null;
  private bodyFilled = 0;
  private failure: MqttProtocolError | null = null;
  private generation = 0;

  constructor(onPacket: (packet: Packet) => void, options: PacketReaderOptions = {}) {
    this.onPacket = onPacket;
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  }

  /** True while part of a packet is waiting for more bytes. */
  get midPacket(): boolean {
    return this.first >= 0;
  }

  /** Forgets any partial packet and a past failure (a new connection starts clean). */
  reset(): void {
    this.first = -1;
    this.remaining = 0;
    this.lengthBytes = 0;
    this.body = null;
    this.bodyFilled = 0;
    this.failure = null;
    this.generation++;
  }

  /**
   * Consumes `chunk`, calling onPacket for each whole packet. Throws MqttProtocolError on malformed input;
   * the stream cannot be resynchronised after that, so later calls throw the same error until reset().
   * If onPacket calls reset(), the rest of the chunk is dropped.
   */
  feed(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk);
    } catch (e) {
      if (e instanceof MqttProtocolError) this.failure = e;
      throw e;
    }
  }

  private consume(chunk: Uint8Array): void {
    const generation = this.generation;
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.body !== null) {
        // Continue a body that spans chunks.
        const take = Math.min(len - pos, this.body.length - this.bodyFilled);
        this.body.set(chunk.subarray(pos, pos + take), this.bodyFilled);
        this.bodyFilled += take;
        pos += take;
        if (this.bodyFilled < this.body.length) return;
        const body = this.body;
        const first = this.first;
        this.clearPacket();
        this.onPacket(decodeBody(first, body, 0, body.length));
        if (generation !== this.generation) return;
        continue;
      }
      if (this.first < 0) {
        const first = chunk[pos++];
        checkFirstByte(first);
        this.first = first;
        continue;
      }
      // Remaining Length: 7 bits per byte, at most 4 bytes.
      const b = chunk[pos++];
      this.remaining += (b & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes === 4) {
          throw new MqttProtocolError("malformed-remaining-length", "Remaining Length longer than 4 bytes");
        }
        continue;
      }
      const total = 1 + this.lengthBytes + this.remaining;
      if (total > this.maxPacketSize) {
        throw new MqttProtocolError("packet-too-large", `incoming packet of ${total} bytes exceeds the ${this.maxPacketSize}-byte limit`);
      }
      const size = this.remaining;
      const first = this.first;
      if (len - pos >= size) {
        // Whole body is in this chunk: decode in place, no copy.
        this.clearPacket();
        const packet = decodeBody(first, chunk, pos, pos + size);
        pos += size;
        this.onPacket(packet);
        if (generation !== this.generation) return;
      } else {
        this.body = new Uint8Array(size);
        if (size > this.peakBufferSize) this.peakBufferSize = size;
        this.body.set(chunk.subarray(pos), 0);
        this.bodyFilled = len - pos;
        return;
      }
    }
  }

  private clearPacket(): void {
    this.first = -1;
    this.remaining = 0;
    this.lengthBytes = 0;
    this.body = null;
    this.bodyFilled = 0;
  }
}

/** Decodes a buffer holding exactly one whole packet (a convenience for tests and tools). */
export function decodePacket(bytes: Uint8Array, options: PacketReaderOptions = {}): Packet {
  let result: Packet | undefined;
  let count = 0;
  const reader = new PacketReader((p) => {
    result = p;
    count++;
  }, { maxPacketSize: options.maxPacketSize ?? Number.MAX_SAFE_INTEGER });
  reader.feed(bytes);
  if (count !== 1 || reader.midPacket) {
    throw new MqttProtocolError("unexpected-length", count === 0 ? "incomplete packet" : "more than one packet");
  }
  return result as Packet;
}
