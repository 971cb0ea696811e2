/** The ROM-loader simulator against the protocol document, without esptool-js: framing, status lengths, faults. */
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { ESP32, OP, RomLoaderSimulator, xorChecksum } from "../support/rom-loader/simulator";
import { slipEncode, SlipDecoder } from "../support/rom-loader/slip";
import { runWithSimulator } from "./command-support";
import { buildImages, expectedFlash, firstDifference } from "./fixtures";
import { imageArgs, tempDir } from "./command-support";
import * as fs from "node:fs";

function request(op: number, data: Uint8Array, checksum = 0): Uint8Array {
  const frame = new Uint8Array(8 + data.length);
  const view = new DataView(frame.buffer);
  frame[1] = op;
  view.setUint16(2, data.length, true);
  view.setUint32(4, checksum, true);
  frame.set(data, 8);
  return slipEncode(frame);
}

function words(...ws: number[]): Uint8Array {
  const out = new Uint8Array(ws.length * 4);
  ws.forEach((w, i) => new DataView(out.buffer).setUint32(i * 4, w >>> 0, true));
  return out;
}

function dataBlock(seq: number, payload: Uint8Array): [Uint8Array, number] {
  const d = new Uint8Array(16 + payload.length);
  d.set(words(payload.length, seq, 0, 0));
  d.set(payload, 16);
  return [d, xorChecksum(payload)];
}

/** A simulator with a decoder on its output; `exchange` sends one request and returns every frame it answered. */
function harness(sim = new RomLoaderSimulator()) {
  const decoder = new SlipDecoder();
  let frames: Uint8Array[] = [];
  sim.onOutput = (bytes) => frames.push(...decoder.push(bytes));
  return {
    sim,
    async exchange(bytes: Uint8Array): Promise<Uint8Array[]> {
      frames = [];
      sim.receive(bytes);
      await sim.idle();
      return frames;
    },
  };
}

const SYNC = Uint8Array.from([7, 7, 0x12, 0x20, ...new Array(32).fill(0x55)]);

test("SLIP: C0 and DB are escaped both ways, frames survive any chunking", () => {
  const frame = Uint8Array.from([0x01, 0xc0, 0xdb, 0x02, 0xdb, 0xdc]);
  const wire = slipEncode(frame);
  expect(Buffer.from(wire).toString("hex")).toBe("c001dbdcdbdd02dbdddcc0");
  const d = new SlipDecoder();
  const out: Uint8Array[] = [];
  for (const b of [...wire, ...wire]) out.push(...d.push(Uint8Array.of(b)));
  expect(out.map((f) => Buffer.from(f).toString("hex"))).toEqual(["01c0db02dbdc", "01c0db02dbdc"]);
});

test("ROM: SYNC answered 8 times, 4 status bytes, GET_SECURITY_INFO unsupported, MD5 as 32 hex characters", async () => {
  const h = harness();
  const sync = await h.exchange(request(OP.SYNC, SYNC));
  expect(sync).toHaveLength(8);
  expect(Buffer.from(sync[0]).toString("hex")).toBe("010804000707122000000000");

  const [magic] = await h.exchange(request(OP.READ_REG, words(ESP32.CHIP_MAGIC_REG)));
  expect(new DataView(magic.buffer).getUint32(4, true)).toBe(0x00f01d83);
  expect(magic.length).toBe(8 + 4);

  const [security] = await h.exchange(request(OP.GET_SECURITY_INFO, new Uint8Array(0)));
  expect(security[1]).not.toBe(OP.GET_SECURITY_INFO); // esptool reads a foreign op + 0x05 as "unsupported"
  expect([...security.subarray(8)]).toEqual([1, 5, 0, 0]);

  const [md5] = await h.exchange(request(OP.SPI_FLASH_MD5, words(0, 4096, 0, 0)));
  const hex = createHash("md5").update(new Uint8Array(4096).fill(0xff)).digest("hex");
  expect(new TextDecoder().decode(md5.subarray(8, 40))).toBe(hex);
  expect([...md5.subarray(40)]).toEqual([0, 0, 0, 0]);
});

test("ROM: a data block with a bad checksum is refused with 0x07; stub hand-over says OHAI, then 2 status bytes", async () => {
  const h = harness();
  await h.exchange(request(OP.MEM_BEGIN, words(8, 1, 8, 0x40080000)));
  const [block, chk] = dataBlock(0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const [bad] = await h.exchange(request(OP.MEM_DATA, block, chk ^ 0xff));
  expect([...bad.subarray(8)]).toEqual([1, 7, 0, 0]);
  const [ok] = await h.exchange(request(OP.MEM_DATA, block, chk));
  expect([...ok.subarray(8)]).toEqual([0, 0, 0, 0]);
  const end = await h.exchange(request(OP.MEM_END, words(0, 0x4008_0400)));
  expect(end).toHaveLength(2);
  expect(new TextDecoder().decode(end[1])).toBe("OHAI");
  expect(h.sim.mode).toBe("stub");

  const sync = await h.exchange(request(OP.SYNC, SYNC));
  expect(sync).toHaveLength(1);
  expect(new DataView(sync[0].buffer).getUint32(4, true)).toBe(0);
  const [md5] = await h.exchange(request(OP.SPI_FLASH_MD5, words(0, 16, 0, 0)));
  expect(md5.length).toBe(8 + 16 + 2);
  const [badStub] = await h.exchange(request(OP.FLASH_DATA, dataBlock(0, Uint8Array.of(1))[0], 0));
  expect([...badStub.subarray(8)]).toEqual([1, 0xc6]); // not in flash mode
});

test("stub: a deflate stream split at arbitrary block boundaries inflates into place", async () => {
  const h = harness(new RomLoaderSimulator());
  h.sim.mode = "stub";
  const image = new Uint8Array(50_000).map((_, i) => (i * 31) % 251);
  const deflated = zlib.deflateSync(image);
  const blockSize = 777;
  const blocks = Math.ceil(deflated.length / blockSize);
  await h.exchange(request(OP.FLASH_DEFL_BEGIN, words(image.length, blocks, blockSize, 0x20000)));
  for (let seq = 0; seq < blocks; seq++) {
    const [d, chk] = dataBlock(seq, deflated.subarray(seq * blockSize, (seq + 1) * blockSize));
    const [r] = await h.exchange(request(OP.FLASH_DEFL_DATA, d, chk));
    expect([...r.subarray(8)]).toEqual([0, 0]);
  }
  await h.exchange(request(OP.FLASH_DEFL_END, words(1)));
  expect(Buffer.from(h.sim.flash.subarray(0x20000, 0x20000 + image.length)).equals(Buffer.from(image))).toBe(true);
  expect(h.sim.flash[0x20000 + image.length]).toBe(0xff);
});

test("--port auto picks the single USB adapter and flashes through it", async () => {
  const dir = tempDir();
  try {
    const images = buildImages(16 * 1024);
    const run = await runWithSimulator(["--port", "auto", ...imageArgs(dir, images)], { startIn: "app" }, {
      listPorts: async () => [{ path: "/dev/ttyS0" }, { path: "/dev/ttyUSB3", vendorId: "1a86", productId: "7523" }],
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/I \(\d+\) flash: --port auto: using \/dev\/ttyUSB3/);
    expect(firstDifference(run.sim.flash, expectedFlash(images, run.sim.flash.length))).toBe(-1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
