/**
 * Flashing as a library: connect to the ROM bootloader through esptool-js, check the chip family,
 * write every image (compressed or not) with MD5 verification, then hard-reset into the new firmware.
 * Every failure comes out as a FlashError with a code and a message a person can act on.
 */
import { createHash } from "node:crypto";
import { ESPError, ESPLoader, Transport, type IEspLoaderTerminal } from "esptool-js";
import type { Logger } from "../../src/log.js";
import { FlashError, loaderStatusName, noResponse } from "./errors.js";
import { CHIP_NAME, planImages, type ChipFamily, type FlashImage } from "./images.js";
import type { WebSerialPort } from "./web-serial-node.js";

export interface FlashOptions {
  /** A closed Web Serial port; flashImages opens and closes it. */
  port: WebSerialPort;
  /** The port's name, for messages. */
  portName: string;
  images: readonly FlashImage[];
  /** Baud rate after the stub is running (the ROM talks at romBaud). */
  baud: number;
  romBaud?: number;
  compress: boolean;
  /** Expected chip family; another family is a "wrong-chip" error before anything is written. */
  chip?: ChipFamily;
  /** Hard-reset into the new firmware afterwards (default true); false leaves the flasher stub running. */
  reset?: boolean;
  /** "no_reset" when the port has no DTR/RTS (a pty, some adapters) and the chip is already in download mode. */
  before?: "default_reset" | "no_reset";
  /** Connection attempts, each a reset plus five SYNCs (esptool's default: 7). */
  connectAttempts?: number;
  /** Flash size in bytes; default: detected from the flash chip's JEDEC id. */
  flashSize?: number;
  onProgress?: (index: number, written: number, total: number) => void;
  log: Logger;
}

export interface FlashedImage {
  name: string;
  address: number;
  bytes: number;
  md5: string;
}

export interface FlashResult {
  chip: string;
  chipFamily: string;
  mac: string;
  flashSize?: number;
  images: FlashedImage[];
}

/**
 * esptool-js's Transport, with its TRACE lines (console.log upstream) sent to our debug log, and an abort:
 * a loader call we stopped waiting for (the port was lost) would otherwise poll for seconds per retry and keep
 * the process alive; after abort() every read fails at once, so it unwinds in a few hundred milliseconds.
 */
class LoggedTransport extends Transport {
  traceSink: (line: string) => void = () => {};
  private aborted = false;
  override trace(message: string): void {
    this.traceSink(message);
  }
  override async read(timeout: number): Promise<Uint8Array> {
    if (this.aborted) throw new ESPError("serial port closed");
    return super.read(timeout);
  }
  abort(): void {
    this.aborted = true;
    // A read already waiting polls this buffer: a byte that cannot start a SLIP frame ends it now.
    (this as unknown as { buffer: Uint8Array }).buffer = Uint8Array.of(0);
  }
}

const SIZE_UNITS: Record<string, number> = { KB: 1024, MB: 1024 * 1024 };

function sizeBytes(s: string | undefined): number | undefined {
  const m = /^(\d+)(KB|MB)$/.exec(s ?? "");
  return m ? Number(m[1]) * SIZE_UNITS[m[2]] : undefined;
}

function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** The bytes esptool-js actually writes: padded to 4 bytes with 0xFF (its padTo), hence what its MD5 covers. */
function padded(data: Uint8Array): Uint8Array {
  if (data.length % 4 === 0) return data;
  const out = new Uint8Array(Math.ceil(data.length / 4) * 4).fill(0xff);
  out.set(data);
  return out;
}

export async function flashImages(opts: FlashOptions): Promise<FlashResult> {
  const { log } = opts;
  // Checks that need no chip run before the port is touched.
  const images = planImages(opts.images, opts.flashSize);

  const transport = new LoggedTransport(opts.port as unknown as SerialPort, false);
  transport.traceSink = (line) => log.debug(`serial: ${line}`);
  const terminal: IEspLoaderTerminal = {
    clean: () => {},
    writeLine: (data) => {
      for (const line of data.split(/\r?\n/)) if (line.trim()) log.debug(`esptool: ${line.trim()}`);
    },
    write: (data) => {
      if (data.trim()) log.debug(`esptool: ${data.trim()}`);
    },
  };
  const loader = new ESPLoader({ transport, baudrate: opts.baud, romBaudrate: opts.romBaud ?? 115200, terminal });
  const attempts = opts.connectAttempts ?? 7;
  // main() always connects with esptool's default of 7 attempts; tests and impatient people want fewer.
  loader.detectChip = (mode, _attempts) => ESPLoader.prototype.detectChip.call(loader, mode, attempts);

  let lostReason: string | undefined;
  let rejectLost: (e: FlashError) => void = () => {};
  const lost = new Promise<never>((_, reject) => (rejectLost = reject));
  lost.catch(() => {});
  const onLost = () => {
    if (lostReason) return;
    lostReason = `${opts.portName} disappeared (unplugged, or the board reset itself)`;
    rejectLost(new FlashError("port-lost", lostReason));
  };
  transport.setDeviceLostCallback(onLost);
  opts.port.addEventListener("disconnect", onLost);
  /** Runs a loader step, failing as soon as the port is lost instead of after esptool's timeouts and retries. */
  const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, lost]);

  let current = -1;
  let stage = "connecting";
  try {
    let description: string;
    try {
      description = await step(loader.main(opts.before ?? "default_reset"));
    } catch (e) {
      if (e instanceof FlashError) throw e;
      if (/Failed to connect/i.test((e as Error).message)) throw noResponse(opts.portName);
      throw e;
    }
    const family = loader.chip.CHIP_NAME;
    if (opts.chip && family !== CHIP_NAME[opts.chip]) {
      throw new FlashError("wrong-chip", `the chip on ${opts.portName} is an ${description} (${family} family), not ${CHIP_NAME[opts.chip]} as --chip ${opts.chip} says — nothing was written`);
    }
    const mac = await step(loader.chip.readMac(loader));
    log.info(`connected to ${description} (MAC ${mac}) on ${opts.portName}, ${transport.baudrate} baud, flasher stub ${loader.IS_STUB ? "running" : "not used"}`);

    const flashSize = opts.flashSize ?? sizeBytes(await step(loader.detectFlashSize()));
    if (flashSize === undefined) log.warn("flash size unknown (no JEDEC id): not checking images against the end of flash");
    else log.info(`flash size ${flashSize / 1024 / 1024} MB`);
    planImages(images, flashSize);

    stage = "writing";
    const md5s = images.map((img) => md5Hex(padded(img.data)));
    await step(
      loader.writeFlash({
        fileArray: images.map((img) => ({ data: img.data, address: img.address })),
        flashSize: "keep",
        flashMode: "keep",
        flashFreq: "keep",
        eraseAll: false,
        compress: opts.compress,
        reportProgress: (index, written, total) => {
          if (index !== current) {
            if (current >= 0) log.info(`${images[current].name} written and verified (MD5 ${md5s[current]})`);
            current = index;
          }
          opts.onProgress?.(index, written, total);
        },
        calculateMD5Hash: (image) => md5Hex(image),
      }),
    );
    if (current >= 0) log.info(`${images[current].name} written and verified (MD5 ${md5s[current]})`);

    stage = "resetting";
    if (opts.reset ?? true) {
      // esptool's hard reset: EN low (RTS on) for 100 ms, then released; HardReset alone only releases.
      await step(transport.setRTS(true));
      await new Promise((r) => setTimeout(r, 100));
      await step(loader.after("hard_reset", false));
      if (opts.port.signalsUnsupported) log.warn(`${opts.portName} has no DTR/RTS lines: press EN/RESET to start the new firmware`);
      else log.info("hard reset: the new firmware is starting");
    } else {
      await step(loader.after("no_reset_stub"));
      log.info("left the chip in the flasher stub (--no-reset)");
    }
    return {
      chip: description,
      chipFamily: family,
      mac,
      flashSize,
      images: images.map((img, i) => ({ name: img.name, address: img.address, bytes: img.data.length, md5: md5s[i] })),
    };
  } catch (e) {
    throw toFlashError(e, { lostReason, stage, image: images[current], portName: opts.portName });
  } finally {
    if (lostReason !== undefined) transport.abort();
    await disconnect(transport, opts.port);
  }
}

function toFlashError(e: unknown, ctx: { lostReason?: string; stage: string; image?: FlashImage; portName: string }): FlashError {
  const where = ctx.image ? ` ${ctx.image.name} at 0x${ctx.image.address.toString(16)}` : "";
  if (ctx.lostReason !== undefined) {
    const partial = ctx.stage === "writing" ? " — the flash may hold a partial image: reconnect and flash again" : ": reconnect and try again";
    return new FlashError("port-lost", `${ctx.lostReason} while ${ctx.stage}${where}${partial}`);
  }
  if (e instanceof FlashError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/MD5 of file does not match/i.test(message)) {
    return new FlashError("md5-mismatch", `MD5 mismatch after writing${where}: the flash holds other bytes than were sent (flash chip or power problem) — flash again, at a lower --baud`);
  }
  const status = /failed with status (\d+),(\d+)/.exec(message);
  if (status) {
    const code = Number(status[2]);
    const name = loaderStatusName(code);
    const what = message.replace(/^Failed to /, "").replace(/ failed with status.*$/, "");
    if (code === 0x07 || code === 0xc1) {
      return new FlashError("bad-checksum", `the loader rejected a block of${where} with "${name}" on every retry (${what}): serial noise — use a shorter cable or a lower --baud`);
    }
    return new FlashError("device-error", `the loader answered "${name}" (0x${code.toString(16)}) to "${what}" while ${ctx.stage}${where}`);
  }
  if (/No serial data|Serial data stream stopped|Timeout/i.test(message)) {
    return new FlashError("device-error", `the chip stopped answering on ${ctx.portName} while ${ctx.stage}${where} (${message}) — check the cable and power, or try a lower --baud`);
  }
  return new FlashError("device-error", `${message} (while ${ctx.stage}${where})`);
}

/** Best effort and bounded: a lost device can leave esptool-js waiting for stream locks that never release. */
async function disconnect(transport: LoggedTransport, port: WebSerialPort): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    transport.disconnect().catch(() => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 1500))),
  ]);
  clearTimeout(timer);
  await port.close().catch(() => {});
}
