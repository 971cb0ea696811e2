/**
 * Flash throughput: image bytes per second through the whole tool path — esptool-js (SLIP, stub protocol, pako
 * deflate/inflate, MD5 verification) plus our adapter and the ROM-loader simulator — over the in-memory Web
 * Serial port. There is NO UART model: bytes cross instantly, so this measures the host-side cost of the tool
 * and protocol, not a board. `uart_bound_bytes_per_sec` is what a real 921600-baud UART (10 bits per byte)
 * would allow for the same wire bytes; the smaller of the two is what a real board would see.
 * Image: a 1 MB app of firmware-like data (random code, strings, zero tables; deflates about 3.4:1).
 * `ms` runs from "connected" (stub running, baud changed, flash size read) to verified: deflating counts.
 */
import { Log } from "../src/log.js";
import { systemClock } from "../hosts/node/index.js";
import { flashImages } from "../tools/flash/flash.js";
import { MemoryWebSerialPort } from "../test/support/rom-loader/memory-web-serial.js";
import { RomLoaderSimulator } from "../test/support/rom-loader/simulator.js";
import { firmwareBytes } from "../test/flash/fixtures.js";

export interface FlashBenchCase {
  bytesPerSec: number;
  imageBytes: number;
  /** From connected to verified: deflate, transfer, inflate, MD5 (connect, stub upload and reset excluded). */
  ms: number;
  /** Bytes sent as flash data (compressed size when compressing). */
  wireBytes: number;
  connectMs: number;
  uart_bound_bytes_per_sec: number;
}

export interface FlashBench {
  compressed: FlashBenchCase;
  uncompressed: FlashBenchCase;
  config: { image_bytes: number; baud: number; uart_model: "none" };
}

const BAUD = 921600;
const IMAGE_BYTES = 1024 * 1024;

async function run(compress: boolean, image: Uint8Array): Promise<FlashBenchCase> {
  const sim = new RomLoaderSimulator();
  const port = new MemoryWebSerialPort(sim);
  const started = performance.now();
  let connected = 0;
  let wireBytes = 0;
  // flashImages logs the flash size once connected: the start of the timed part.
  const sink = { write: (_level: string, line: string) => void (line.includes("flash size") && (connected = performance.now())) };
  const log = new Log(sink, systemClock(), { level: "I" }).tag("flash");
  await flashImages({
    port,
    portName: "memory",
    images: [{ name: "xs_esp32.bin", address: 0x10000, data: image }],
    baud: BAUD,
    compress,
    reset: false,
    log,
    onProgress: (_i, _written, total) => (wireBytes = total),
  });
  const ms = performance.now() - connected;
  return {
    bytesPerSec: Math.round(image.length / (ms / 1000)),
    imageBytes: image.length,
    ms: Math.round(ms),
    wireBytes,
    connectMs: Math.round(connected - started),
    uart_bound_bytes_per_sec: Math.round(image.length / (wireBytes / (BAUD / 10))),
  };
}

export async function benchFlash(): Promise<FlashBench> {
  const image = firmwareBytes(IMAGE_BYTES, 42);
  const uncompressed = await run(false, image);
  const compressed = await run(true, image);
  return { compressed, uncompressed, config: { image_bytes: IMAGE_BYTES, baud: BAUD, uart_model: "none" } };
}

if (require.main === module) {
  benchFlash().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"));
}
