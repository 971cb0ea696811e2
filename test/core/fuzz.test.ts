/**
 * Random and mutated byte streams: the reader may only deliver packets or throw MqttProtocolError,
 * must never allocate beyond its limit, and always finishes (no hang: every byte is consumed or refused).
 */
import { encodePacket } from "../../src/mqtt/encode.js";
import { MqttProtocolError } from "../../src/mqtt/errors.js";
import { PacketReader } from "../../src/mqtt/reader.js";
import { Prng, scaled } from "./support/prng.js";
import { concat } from "./support/bytes.js";
import { ALL_TYPES, randomPacket } from "./support/random-packets.js";

const LIMIT = 4096;

interface Outcome {
  packets: number;
  protocolErrors: number;
}

function run(bytes: Uint8Array, r: Prng, outcome: Outcome): void {
  const reader = new PacketReader(() => outcome.packets++, { maxPacketSize: LIMIT });
  try {
    for (let i = 0; i < bytes.length; ) {
      const n = r.int(1, 64);
      reader.feed(bytes.subarray(i, i + n));
      i += n;
    }
  } catch (e) {
    if (!(e instanceof MqttProtocolError)) throw new Error(`non-protocol error (seed ${r.seed}): ${e}`);
    outcome.protocolErrors++;
  }
  if (reader.peakBufferSize > LIMIT) throw new Error(`allocated ${reader.peakBufferSize} > ${LIMIT} (seed ${r.seed})`);
}

function validStream(r: Prng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = r.int(1, 4); i > 0; i--) {
    const p = randomPacket(r, r.pick(ALL_TYPES));
    if (p.type === 3 && p.payload.length > 200) p.payload = p.payload.subarray(0, 200);
    parts.push(encodePacket(p));
  }
  return concat(parts);
}

function mutate(bytes: Uint8Array, r: Prng): Uint8Array {
  const out = bytes.slice();
  const kind = r.int(0, 4);
  const flips = r.int(1, 4);
  for (let i = 0; i < flips && out.length > 0; i++) {
    const at = r.int(0, out.length - 1);
    if (kind === 0) out[at] ^= 1 << r.int(0, 7);
    else if (kind === 1) out[at] = r.int(0, 255);
    else if (kind === 2) out[at] = r.pick([0x00, 0x7f, 0x80, 0xff, 0xc0, 0xed]);
  }
  if (kind === 3) return out.subarray(0, r.int(0, out.length)); // truncated
  if (kind === 4 && out.length > 2) out[1] = r.int(0, 255); // corrupt the length
  return out;
}

describe("fuzz: reader never fails untyped", () => {
  const STREAMS = scaled(50_000);

  it(`${STREAMS} random byte streams`, () => {
    const r = new Prng(0xf00d);
    const outcome: Outcome = { packets: 0, protocolErrors: 0 };
    for (let i = 0; i < STREAMS; i++) run(r.bytes(r.int(1, 200)), r, outcome);
    expect(outcome.protocolErrors).toBeGreaterThan(STREAMS / 2);
  });

  it(`${STREAMS} mutated valid streams`, () => {
    const r = new Prng(0xbeef);
    const outcome: Outcome = { packets: 0, protocolErrors: 0 };
    for (let i = 0; i < STREAMS; i++) run(mutate(validStream(r), r), r, outcome);
    // Both outcomes must occur, or the mutations are not exercising anything.
    expect(outcome.packets).toBeGreaterThan(STREAMS / 10);
    expect(outcome.protocolErrors).toBeGreaterThan(STREAMS / 10);
  });

  it("hostile length headers are refused without allocation", () => {
    const r = new Prng(3);
    for (let i = 0; i < scaled(5000); i++) {
      const reader = new PacketReader(() => undefined, { maxPacketSize: LIMIT });
      const header = new Uint8Array([r.pick([0x30, 0x32, 0x90, 0x82, 0x10]), 0xff, 0xff, 0xff, r.int(0, 0x7f)]);
      expect(() => reader.feed(header)).toThrow(MqttProtocolError);
      expect(reader.peakBufferSize).toBe(0);
    }
  });
});
