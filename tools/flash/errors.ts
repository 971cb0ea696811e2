/**
 * Every way a flash can fail, as a code a caller can branch on and a message a person can act on.
 * The command prints `tbsdk flash: <message>` and exits 1.
 */

export type FlashErrorCode =
  | "no-such-port" // the serial device does not exist
  | "port-busy" // another program (a serial monitor?) holds the port
  | "no-response" // the ROM bootloader never answered SYNC
  | "wrong-chip" // the chip is not the family given with --chip
  | "image-too-large" // an image ends beyond the end of flash or its partition
  | "images-overlap" // two images share a flash sector
  | "bad-image" // unreadable, empty or misaligned image, bad partition table
  | "bad-checksum" // the loader rejected a data block's checksum on every retry
  | "md5-mismatch" // what the chip read back differs from what was sent
  | "port-lost" // the device vanished (unplugged, reset, driver crash) mid-flash
  | "device-error"; // any other failure status from the loader

export class FlashError extends Error {
  override readonly name = "FlashError";
  constructor(
    readonly code: FlashErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a person does when the ROM bootloader stays silent: put the chip in download mode by hand. */
export const BOOT_HINT =
  "hold BOOT, press and release EN/RESET, then release BOOT, and try again (or check the port, cable and --baud)";

export function noResponse(port: string): FlashError {
  return new FlashError("no-response", `no answer from the ESP32 ROM bootloader on ${port}: ${BOOT_HINT}`);
}

/** ROM (4-byte status) and stub (2-byte status) error codes, as the esptool serial-protocol documentation names them. */
const LOADER_STATUS: Record<number, string> = {
  0x05: "invalid message",
  0x06: "failed to act on message",
  0x07: "bad data checksum",
  0x08: "flash write error",
  0x09: "flash read error",
  0x0a: "flash read length error",
  0x0b: "deflate error",
  0xc0: "bad data length",
  0xc1: "bad data checksum",
  0xc2: "bad block size",
  0xc3: "invalid command",
  0xc4: "SPI operation failed",
  0xc5: "SPI unlock failed",
  0xc6: "not in flash mode",
  0xc7: "inflate error",
  0xc8: "not enough data",
  0xc9: "too much data",
  0xff: "command not implemented",
};

export function loaderStatusName(code: number): string {
  return LOADER_STATUS[code] ?? `status 0x${code.toString(16).padStart(2, "0")}`;
}
