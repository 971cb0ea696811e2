/**
 * What goes where in flash: a Moddable/ESP-IDF build's images at their addresses, explicit `ADDR=FILE` images,
 * and a factory NVS image at the partition table's `nvs` offset; then the checks esptool would make
 * (alignment, overlap at sector granularity, end of flash, end of partition) before a byte is sent.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FlashError } from "./errors.js";
import { readNvsImage } from "../factory/nvs-reader.js";
import {
  findBootAppPartition,
  findNvsPartition,
  parsePartitionTable,
  PARTITION_TABLE_OFFSET,
  type Partition,
  type PartitionTable,
} from "./partition-table.js";

export type ChipFamily = "esp32" | "esp32s2" | "esp32s3" | "esp32c3";

/** esptool-js's CHIP_NAME for each family we accept with --chip. */
export const CHIP_NAME: Record<ChipFamily, string> = { esp32: "ESP32", esp32s2: "ESP32-S2", esp32s3: "ESP32-S3", esp32c3: "ESP32-C3" };

/** Where the ROM looks for the second-stage bootloader: 0x1000 on ESP32/S2, 0x0 on S3 and the C series. */
export const BOOTLOADER_OFFSET: Record<ChipFamily, number> = { esp32: 0x1000, esp32s2: 0x1000, esp32s3: 0x0, esp32c3: 0x0 };
export const DEFAULT_APP_OFFSET = 0x10000;
export const FLASH_SECTOR = 0x1000;

export interface FlashImage {
  /** File name for messages and progress (never the contents: an NVS image may hold secrets). */
  name: string;
  address: number;
  data: Uint8Array;
  /** The partition the image lands in, when a partition table is known. */
  partition?: string;
}

export type BuildVariant = "debug" | "release" | "instrument";

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function size(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}

export function readImageFile(file: string, name = path.basename(file)): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new FlashError("bad-image", `cannot read ${name} (${file}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `0x1000=build/bootloader.bin` (address in hex or decimal). */
export function parseImageSpec(spec: string): { address: number; file: string } {
  const eq = spec.indexOf("=");
  const rawAddress = eq > 0 ? spec.slice(0, eq) : "";
  const address = /^0x[0-9a-f]+$/i.test(rawAddress) ? parseInt(rawAddress, 16) : /^[0-9]+$/.test(rawAddress) ? Number(rawAddress) : NaN;
  if (!Number.isSafeInteger(address) || eq === spec.length - 1) throw new FlashError("bad-image", `--image wants ADDR=FILE (e.g. 0x10000=app.bin), got "${spec}"`);
  return { address, file: spec.slice(eq + 1) };
}

/** Moddable's output folder for an app: `$MODDABLE/build/bin/esp32/<variant>/<app>`. */
export function moddableBuildDir(moddable: string, app: string, variant: BuildVariant): string {
  return path.join(moddable, "build", "bin", "esp32", variant, app);
}

function firstExisting(dir: string, candidates: string[]): string | undefined {
  for (const c of candidates) {
    const p = path.join(dir, c);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/**
 * The images of a build folder. An ESP-IDF `flasher_args.json` (written next to the binaries) wins;
 * otherwise bootloader.bin, partition-table.bin and xs_esp32.bin, with the app at the table's factory/ota_0 offset.
 */
export function loadBuildImages(dir: string, chip: ChipFamily): { images: FlashImage[]; chipHint?: string } {
  if (!fs.existsSync(dir)) throw new FlashError("bad-image", `build folder ${dir} does not exist (build the app with mcconfig -m -p esp32 first)`);
  const argsFile = path.join(dir, "flasher_args.json");
  if (fs.existsSync(argsFile)) {
    let parsed: { flash_files?: Record<string, string>; extra_esptool_args?: { chip?: string } };
    try {
      parsed = JSON.parse(fs.readFileSync(argsFile, "utf8"));
    } catch (e) {
      throw new FlashError("bad-image", `${argsFile}: ${(e as Error).message}`);
    }
    const files = Object.entries(parsed.flash_files ?? {});
    if (files.length === 0) throw new FlashError("bad-image", `${argsFile} lists no flash_files`);
    const images = files.map(([addr, rel]) => {
      const { address } = parseImageSpec(`${addr}=${rel}`);
      return { name: path.basename(rel), address, data: readImageFile(path.join(dir, rel)) };
    });
    return { images, chipHint: parsed.extra_esptool_args?.chip };
  }
  const need = (what: string, candidates: string[]) => {
    const found = firstExisting(dir, candidates);
    if (!found) throw new FlashError("bad-image", `no ${what} in ${dir} (looked for ${candidates.join(", ")})`);
    return found;
  };
  const bootloader = need("bootloader", ["bootloader.bin", "bootloader/bootloader.bin"]);
  const table = need("partition table", ["partition-table.bin", "partitions.bin", "partition_table/partition-table.bin"]);
  const app = need("application", ["xs_esp32.bin"]);
  const tableData = readImageFile(table);
  const appPartition = findBootAppPartition(parsePartitionTable(tableData, path.basename(table)));
  return {
    images: [
      { name: path.basename(bootloader), address: BOOTLOADER_OFFSET[chip], data: readImageFile(bootloader) },
      { name: path.basename(table), address: PARTITION_TABLE_OFFSET, data: tableData },
      { name: path.basename(app), address: appPartition?.offset ?? DEFAULT_APP_OFFSET, data: readImageFile(app) },
    ],
  };
}

/** The partition table among the images (the one at 0x8000), parsed. */
export function partitionTableOf(images: readonly FlashImage[]): PartitionTable | undefined {
  const table = images.find((i) => i.address === PARTITION_TABLE_OFFSET);
  return table ? parsePartitionTable(table.data, table.name) : undefined;
}

/** A factory NVS image at the `nvs` partition's offset; it must be a valid NVS image that fits the partition. */
export function nvsImageFor(images: readonly FlashImage[], data: Uint8Array, name: string): FlashImage {
  const table = partitionTableOf(images);
  if (!table) throw new FlashError("bad-image", `--nvs ${name}: no partition table at 0x8000 among the images, so the nvs partition is unknown`);
  const nvs = findNvsPartition(table);
  if (!nvs) throw new FlashError("bad-image", `--nvs ${name}: the partition table has no nvs partition`);
  if (data.length > nvs.size) {
    throw new FlashError("image-too-large", `${name} is ${size(data.length)} (${hex(data.length)} bytes) but partition "${nvs.label}" at ${hex(nvs.offset)} holds ${hex(nvs.size)}`);
  }
  try {
    readNvsImage(data);
  } catch (e) {
    // The reader's message names an offset and a check, never a value.
    throw new FlashError("bad-image", `${name} is not a valid NVS image: ${(e as Error).message}`);
  }
  return { name, address: nvs.offset, data, partition: nvs.label };
}

function partitionAt(partitions: readonly Partition[], address: number): Partition | undefined {
  return partitions.find((p) => address >= p.offset && address < p.offset + p.size);
}

/**
 * Sorted by address and checked: non-empty, sector-aligned (the loader erases whole 4 KB sectors),
 * no two images in one sector, each inside the flash and inside the partition it starts in.
 * `flashSize` is checked only when known.
 */
export function planImages(images: readonly FlashImage[], flashSize?: number): FlashImage[] {
  const sorted = [...images].sort((a, b) => a.address - b.address);
  const partitions = partitionTableOf(sorted)?.partitions ?? [];
  for (const img of sorted) {
    if (img.data.length === 0) throw new FlashError("bad-image", `${img.name} is empty`);
    if (img.address % FLASH_SECTOR !== 0) {
      throw new FlashError("bad-image", `${img.name} at ${hex(img.address)} is not on a 4 KB sector boundary`);
    }
    const end = img.address + img.data.length;
    if (flashSize !== undefined && end > flashSize) {
      throw new FlashError("image-too-large", `${img.name} (${size(img.data.length)} at ${hex(img.address)}) ends at ${hex(end)}, beyond the ${size(flashSize)} flash`);
    }
    const p = partitionAt(partitions, img.address);
    if (p) {
      img.partition ??= p.label;
      if (end > p.offset + p.size) {
        throw new FlashError("image-too-large", `${img.name} is ${size(img.data.length)} (${hex(img.data.length)} bytes) but partition "${p.label}" at ${hex(p.offset)} holds ${hex(p.size)}`);
      }
    }
  }
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const prevEnd = prev.address + prev.data.length;
    const prevSectorEnd = Math.ceil(prevEnd / FLASH_SECTOR) * FLASH_SECTOR;
    if (sorted[i].address < prevSectorEnd) {
      throw new FlashError(
        "images-overlap",
        `${prev.name} (${hex(prev.address)}..${hex(prevEnd)}) overlaps ${sorted[i].name} at ${hex(sorted[i].address)}` +
          (sorted[i].address >= prevEnd ? " (same 4 KB sector: writing one erases the other)" : ""),
      );
    }
  }
  return sorted;
}
