/**
 * An ESP32 serial bootloader, written from esptool's serial-protocol documentation: the ROM loader
 * (4 status bytes, MD5 as 32 hex characters) and, after the flasher stub is uploaded and started, the stub
 * (2 status bytes, MD5 as 16 raw bytes, SYNC answered once). Flash is a 4 MB array, erased to 0xFF, written
 * NOR-style (a write can only clear bits), erased in 4 KB sectors by FLASH_BEGIN / FLASH_DEFL_BEGIN.
 *
 * Front ends (memory-web-serial.ts, pty.ts) feed it bytes with `receive()` and deliver `onOutput` bytes back.
 * Faults are options; everything is deterministic (no timers).
 */
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { slipEncode, SlipDecoder } from "./slip.js";

export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

/** ROM error codes (second status byte). */
const ROM_ERR = { INVALID_MESSAGE: 0x05, FAILED: 0x06, BAD_CRC: 0x07, FLASH_WRITE: 0x08, DEFLATE: 0x0b } as const;
/** Flasher stub error codes. */
const STUB_ERR = { BAD_DATA_LEN: 0xc0, BAD_DATA_CHECKSUM: 0xc1, INVALID_COMMAND: 0xc3, NOT_IN_FLASH_MODE: 0xc6, INFLATE_ERROR: 0xc7, TOO_MUCH_DATA: 0xc9 } as const;

export const FLASH_SIZE_4MB = 4 * 1024 * 1024;
const SECTOR = 0x1000;
const CHECKSUM_SEED = 0xef;
const SYNC_PAYLOAD = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array(32).fill(0x55)]);

/** ESP32 registers esptool-js reads: chip magic, eFuse words 1–6, APB_CTL_DATE, UART clock divider, SPI1 registers. */
export const ESP32 = {
  CHIP_MAGIC_REG: 0x40001000,
  CHIP_MAGIC: 0x00f01d83,
  EFUSE_BASE: 0x3ff5a000,
  APB_CTL_DATE: 0x3ff6607c,
  UART_CLKDIV: 0x3ff40014,
  SPI_BASE: 0x3ff42000,
  SPI_CMD_USR: 1 << 18,
} as const;

export interface RomLoaderFaults {
  /** Never answer SYNC (no chip, wrong port, chip not in download mode and no auto-reset). */
  ignoreSync?: boolean;
  /** From the Nth flash data block received (0-based, retries count) reply "bad checksum"; `times` rejections (default: all). */
  checksumError?: { block: number; times?: number };
  /** Flip the low bit of this flash address whenever it is written, so the MD5 check fails. */
  corruptFlashAt?: number;
  /** After this many bytes received in total, the device vanishes (the front end closes / errors the port). */
  vanishAfterBytes?: number;
}

export interface RomLoaderOptions {
  faults?: RomLoaderFaults;
  /** The state before any reset: "download" (BOOT held at power-on) or "app" (running firmware; needs the DTR/RTS reset). */
  startIn?: "download" | "app";
  flashSize?: number;
  /** MAC in eFuse; default 24:0a:c4:12:34:56 (an Espressif OUI). */
  mac?: [number, number, number, number, number, number];
}

type Mode = "rom" | "stub" | "app";

interface FlashWrite {
  compressed: boolean;
  offset: number;
  size: number;
  blockSize: number;
  nextSeq: number;
  /** Uncompressed bytes written so far (compressed mode). */
  written: number;
  inflate?: zlib.Inflate;
  inflateError?: Error;
}

export class RomLoaderSimulator {
  readonly flash: Uint8Array;
  /** Every request op in order (for protocol assertions). */
  readonly ops: number[] = [];
  /** Register reads the model had no value for (answered 0). */
  readonly unknownReads = new Set<number>();
  mode: Mode;
  baud = 115200;
  /** Times the chip was reset into the application (e.g. esptool's hard reset). */
  appBoots = 0;
  downloadBoots = 0;
  vanished = false;
  /** Set by the front end: bytes for the host. */
  onOutput: (bytes: Uint8Array) => void = () => {};
  /** Set by the front end: the device just vanished. */
  onVanish: () => void = () => {};

  private readonly faults: RomLoaderFaults;
  private readonly regs = new Map<number, number>();
  private readonly decoder = new SlipDecoder();
  private queue: Promise<void> = Promise.resolve();
  private bytesReceived = 0;
  private dataBlocks = 0;
  private checksumRejections = 0;
  private write: FlashWrite | undefined;
  private ram = { loaded: 0, expected: 0 };
  private lines = { enLow: false, io0Low: false };

  constructor(options: RomLoaderOptions = {}) {
    this.faults = options.faults ?? {};
    this.flash = new Uint8Array(options.flashSize ?? FLASH_SIZE_4MB).fill(0xff);
    this.mode = (options.startIn ?? "download") === "download" ? "rom" : "app";
    const [m0, m1, m2, m3, m4, m5] = options.mac ?? [0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56];
    this.regs.set(ESP32.CHIP_MAGIC_REG, ESP32.CHIP_MAGIC);
    this.regs.set(ESP32.EFUSE_BASE + 4, ((m2 << 24) | (m3 << 16) | (m4 << 8) | m5) >>> 0);
    this.regs.set(ESP32.EFUSE_BASE + 8, (m0 << 8) | m1);
    // Word 3: package ESP32-D0WD (1 << 9), revision bit 0; word 5 revision bit 1; APB_CTL_DATE bit 31: revision 3 ("-V3").
    this.regs.set(ESP32.EFUSE_BASE + 12, (1 << 9) | (1 << 15));
    this.regs.set(ESP32.EFUSE_BASE + 16, 0);
    this.regs.set(ESP32.EFUSE_BASE + 20, 1 << 20);
    this.regs.set(ESP32.EFUSE_BASE + 24, 0);
    this.regs.set(ESP32.APB_CTL_DATE, 0x80000000);
    // 40 MHz crystal at 115200 baud: the ROM's divider 40e6 / 115200.
    this.regs.set(ESP32.UART_CLKDIV, Math.round(40e6 / 115200));
  }

  /** The flash chip's JEDEC id as SPI RDID returns it: Winbond (0xEF), type 0x40, capacity 2^n bytes. */
  get jedecId(): number {
    return (Math.log2(this.flash.length) << 16) | 0x4000 | 0xef;
  }

  /**
   * The DevKit auto-reset circuit: RTS pulls EN low, DTR pulls IO0 low, but not both at once (two transistors).
   * EN released while IO0 is low boots the ROM loader; released while IO0 is high boots the application.
   */
  setLines(dtr: boolean, rts: boolean): void {
    const enLow = rts && !dtr;
    const io0Low = dtr && !rts;
    const released = this.lines.enLow && !enLow;
    this.lines = { enLow, io0Low };
    if (released) this.boot(io0Low ? "rom" : "app");
  }

  boot(mode: "rom" | "app"): void {
    this.mode = mode;
    this.baud = 115200;
    this.write = undefined;
    this.ram = { loaded: 0, expected: 0 };
    if (mode === "rom") this.downloadBoots++;
    else this.appBoots++;
  }

  /** Bytes from the host, in any chunking. */
  receive(bytes: Uint8Array): void {
    if (this.vanished) return;
    const limit = this.faults.vanishAfterBytes;
    if (limit !== undefined && this.bytesReceived + bytes.length >= limit) {
      this.bytesReceived = limit;
      this.vanished = true;
      this.onVanish();
      return;
    }
    this.bytesReceived += bytes.length;
    for (const frame of this.decoder.push(bytes)) {
      this.queue = this.queue.then(() => this.handle(frame)).catch((e) => {
        // A simulator bug must fail the test loudly, not hang it.
        process.stderr.write(`rom-loader simulator: ${e instanceof Error ? e.stack : e}\n`);
      });
    }
  }

  /** Resolves when every frame received so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  private send(frame: Uint8Array): void {
    if (!this.vanished) this.onOutput(slipEncode(frame));
  }

  private reply(op: number, value: number, data: Uint8Array = new Uint8Array(0), error = 0): void {
    const status = this.mode === "stub" ? [error ? 1 : 0, error] : [error ? 1 : 0, error, 0, 0];
    const body = new Uint8Array(8 + data.length + status.length);
    const view = new DataView(body.buffer);
    body[0] = 0x01;
    body[1] = op;
    view.setUint16(2, data.length + status.length, true);
    view.setUint32(4, value >>> 0, true);
    body.set(data, 8);
    body.set(status, 8 + data.length);
    this.send(body);
  }

  private fail(op: number, romError: number, stubError: number): void {
    this.reply(op, 0, new Uint8Array(0), this.mode === "stub" ? stubError : romError);
  }

  private async handle(frame: Uint8Array): Promise<void> {
    if (this.mode === "app" || frame.length < 8 || frame[0] !== 0x00) return;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const op = frame[1];
    const len = view.getUint16(2, true);
    const checksum = view.getUint32(4, true);
    const data = frame.subarray(8);
    if (data.length !== len) return this.fail(op, ROM_ERR.INVALID_MESSAGE, STUB_ERR.BAD_DATA_LEN);
    const word = (i: number) => (data.length >= 4 * i + 4 ? view.getUint32(8 + 4 * i, true) : 0);
    this.ops.push(op);

    switch (op) {
      case OP.SYNC:
        if (this.faults.ignoreSync || data.length !== 36 || !data.every((b, i) => b === SYNC_PAYLOAD[i])) return;
        // The ROM answers eight times with a non-zero value; the stub once with 0 (esptool-js tells them apart so).
        if (this.mode === "stub") return this.reply(op, 0);
        for (let i = 0; i < 8; i++) this.reply(op, 0x20120707);
        return;
      case OP.READ_REG:
        return this.reply(op, this.readReg(word(0)));
      case OP.WRITE_REG:
        // One or more (address, value, mask, delay µs) quadruples.
        for (let i = 0; i + 16 <= data.length; i += 16) this.writeReg(word(i / 4), word(i / 4 + 1), word(i / 4 + 2));
        return this.reply(op, 0);
      case OP.MEM_BEGIN:
        this.ram = { loaded: 0, expected: word(0) };
        return this.reply(op, 0);
      case OP.MEM_DATA: {
        const payload = data.subarray(16);
        if (word(0) !== payload.length) return this.fail(op, ROM_ERR.INVALID_MESSAGE, STUB_ERR.BAD_DATA_LEN);
        if (xorChecksum(payload) !== (checksum & 0xff)) return this.fail(op, ROM_ERR.BAD_CRC, STUB_ERR.BAD_DATA_CHECKSUM);
        this.ram.loaded += payload.length; // RAM contents are not modelled: the stub's behaviour is.
        return this.reply(op, 0);
      }
      case OP.MEM_END: {
        this.reply(op, 0);
        const execute = word(0) === 0 && word(1) !== 0;
        if (execute && this.mode === "rom" && this.ram.loaded > 0) {
          this.mode = "stub";
          this.send(new TextEncoder().encode("OHAI"));
        }
        return;
      }
      case OP.SPI_SET_PARAMS:
      case OP.SPI_ATTACH:
        return this.reply(op, 0);
      case OP.CHANGE_BAUDRATE:
        // Answered at the old rate; the new one applies to everything after.
        this.reply(op, 0);
        this.baud = word(0);
        return;
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        return this.flashBegin(op, word(0), word(2), word(3), op === OP.FLASH_DEFL_BEGIN);
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        return this.flashData(op, data, checksum);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: {
        const w = this.write;
        this.write = undefined;
        if (!w) return this.fail(op, ROM_ERR.FAILED, STUB_ERR.NOT_IN_FLASH_MODE);
        if (w.inflate) w.inflate.close();
        this.reply(op, 0);
        if (word(0) === 0) this.boot("app"); // "reboot" flag: run the application
        return;
      }
      case OP.SPI_FLASH_MD5: {
        const addr = word(0);
        const size = word(1);
        if (addr + size > this.flash.length) return this.fail(op, ROM_ERR.FAILED, STUB_ERR.TOO_MUCH_DATA);
        const digest = createHash("md5").update(this.flash.subarray(addr, addr + size)).digest();
        return this.reply(op, 0, this.mode === "stub" ? new Uint8Array(digest) : new TextEncoder().encode(digest.toString("hex")));
      }
      case OP.ERASE_FLASH:
        if (this.mode !== "stub") break;
        this.flash.fill(0xff);
        return this.reply(op, 0);
      case OP.ERASE_REGION: {
        if (this.mode !== "stub") break;
        this.erase(word(0), word(1));
        return this.reply(op, 0);
      }
      case OP.RUN_USER_CODE:
        if (this.mode !== "stub") break;
        this.boot("app");
        return;
    }
    // Unknown here (GET_SECURITY_INFO on the ESP32 ROM, stub-only commands in the ROM, READ_FLASH): esptool reads
    // a reply whose op differs from its request with status "invalid message" as "unsupported command".
    if (this.mode === "stub") return this.fail(op, ROM_ERR.INVALID_MESSAGE, STUB_ERR.INVALID_COMMAND);
    const body = Uint8Array.from([0x01, 0x00, 4, 0, 0, 0, 0, 0, 1, ROM_ERR.INVALID_MESSAGE, 0, 0]);
    this.send(body);
  }

  private readReg(addr: number): number {
    const v = this.regs.get(addr);
    if (v === undefined) {
      const spi = addr >= ESP32.SPI_BASE && addr < ESP32.SPI_BASE + 0x100;
      if (!spi) this.unknownReads.add(addr);
      return 0;
    }
    return v;
  }

  private writeReg(addr: number, value: number, mask: number): void {
    const old = this.regs.get(addr) ?? 0;
    let v = ((old & ~mask) | (value & mask)) >>> 0;
    if (addr === ESP32.SPI_BASE && v & ESP32.SPI_CMD_USR) {
      // SPI1 user command: esptool-js only issues RDID (0x9F), whose 24-bit answer lands in W0.
      const command = (this.regs.get(ESP32.SPI_BASE + 0x24) ?? 0) & 0xff;
      if (command === 0x9f) this.regs.set(ESP32.SPI_BASE + 0x80, this.jedecId);
      v = (v & ~ESP32.SPI_CMD_USR) >>> 0; // done at once
    }
    this.regs.set(addr, v);
  }

  private erase(offset: number, size: number): void {
    const start = Math.floor(offset / SECTOR) * SECTOR;
    const end = Math.min(this.flash.length, Math.ceil((offset + size) / SECTOR) * SECTOR);
    if (end > start) this.flash.fill(0xff, start, end);
  }

  private flashBegin(op: number, size: number, blockSize: number, offset: number, compressed: boolean): void {
    if (offset + size > this.flash.length) return this.fail(op, ROM_ERR.FLASH_WRITE, STUB_ERR.TOO_MUCH_DATA);
    this.erase(offset, size);
    const w: FlashWrite = { compressed, offset, size, blockSize, nextSeq: 0, written: 0 };
    if (compressed) {
      const inflate = zlib.createInflate();
      inflate.on("data", (chunk: Buffer) => {
        this.program(offset + w.written, chunk);
        w.written += chunk.length;
      });
      inflate.on("error", (e) => (w.inflateError = e));
      w.inflate = inflate;
    }
    this.write = w;
    this.reply(op, 0);
  }

  private async flashData(op: number, data: Uint8Array, checksum: number): Promise<void> {
    const w = this.write;
    if (!w || w.compressed !== (op === OP.FLASH_DEFL_DATA)) return this.fail(op, ROM_ERR.FAILED, STUB_ERR.NOT_IN_FLASH_MODE);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const length = data.length >= 16 ? view.getUint32(0, true) : -1;
    const seq = data.length >= 16 ? view.getUint32(4, true) : -1;
    const payload = data.subarray(16);
    if (length !== payload.length) return this.fail(op, ROM_ERR.INVALID_MESSAGE, STUB_ERR.BAD_DATA_LEN);
    const block = this.dataBlocks++;
    const fault = this.faults.checksumError;
    if (fault && block >= fault.block && this.checksumRejections < (fault.times ?? Infinity)) {
      this.checksumRejections++;
      return this.fail(op, ROM_ERR.BAD_CRC, STUB_ERR.BAD_DATA_CHECKSUM);
    }
    if (xorChecksum(payload) !== (checksum & 0xff)) return this.fail(op, ROM_ERR.BAD_CRC, STUB_ERR.BAD_DATA_CHECKSUM);
    if (seq !== w.nextSeq) return this.fail(op, ROM_ERR.INVALID_MESSAGE, STUB_ERR.BAD_DATA_LEN);
    w.nextSeq++;
    if (!w.compressed) {
      this.program(w.offset + seq * w.blockSize, payload);
      return this.reply(op, 0);
    }
    const inflate = w.inflate!;
    // The compressed stream runs across blocks; each block is inflated before it is acknowledged.
    await new Promise<void>((resolve) => inflate.write(Buffer.from(payload), () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (w.inflateError) return this.fail(op, ROM_ERR.DEFLATE, STUB_ERR.INFLATE_ERROR);
    if (w.written > w.size) return this.fail(op, ROM_ERR.FLASH_WRITE, STUB_ERR.TOO_MUCH_DATA);
    return this.reply(op, 0);
  }

  /** NOR flash: programming clears bits, never sets them (erased bytes are 0xFF). */
  private program(address: number, bytes: Uint8Array): void {
    const end = Math.min(this.flash.length, address + bytes.length);
    for (let a = address, i = 0; a < end; a++, i++) {
      let b = bytes[i];
      if (a === this.faults.corruptFlashAt) b ^= 0x01;
      this.flash[a] &= b;
    }
  }
}

export function xorChecksum(data: Uint8Array): number {
  let c = CHECKSUM_SEED;
  for (let i = 0; i < data.length; i++) c ^= data[i];
  return c;
}
