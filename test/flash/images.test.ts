import * as fs from "node:fs";
import * as path from "node:path";
import {
  BOOTLOADER_OFFSET,
  loadBuildImages,
  moddableBuildDir,
  nvsImageFor,
  parseImageSpec,
  planImages,
  type FlashImage,
} from "../../tools/flash/images";
import { buildImages, firmwareBytes, nvsImage, partitionTable } from "./fixtures";
import { tempDir } from "./command-support";

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const img = (name: string, address: number, size: number): FlashImage => ({ name, address, data: firmwareBytes(size, address + size) });

test("--image ADDR=FILE: hex or decimal addresses; anything else is refused", () => {
  expect(parseImageSpec("0x10000=build/app.bin")).toEqual({ address: 0x10000, file: "build/app.bin" });
  expect(parseImageSpec("4096=a=b.bin")).toEqual({ address: 4096, file: "a=b.bin" });
  for (const bad of ["app.bin", "=app.bin", "0x10000=", "0xZZ=app.bin", "-1=app.bin"]) expect(() => parseImageSpec(bad)).toThrow(/--image wants ADDR=FILE/);
});

test("planImages sorts by address and checks alignment, emptiness, overlap (by sector), flash end and partition end", () => {
  expect(planImages([img("b", 0x10000, 10), img("a", 0x1000, 10)]).map((i) => i.name)).toEqual(["a", "b"]);
  expect(() => planImages([img("a", 0x1800, 10)])).toThrow(/a at 0x1800 is not on a 4 KB sector boundary/);
  expect(() => planImages([{ name: "e", address: 0, data: new Uint8Array(0) }])).toThrow(/e is empty/);
  // Overlapping bytes, and two images in one 4 KB sector (erasing one erases the other).
  expect(() => planImages([img("a", 0x1000, 0x2000), img("b", 0x2000, 10)])).toThrow(expect.objectContaining({ code: "images-overlap" }));
  expect(() => planImages([img("a", 0x1000, 0x800), img("b", 0x1000 + 0x1000, 10)])).not.toThrow();
  expect(() => planImages([img("a", 0x1000, 0x1001), img("b", 0x2000, 10)])).toThrow(/a \(0x1000\.\.0x2001\) overlaps b at 0x2000$/);
  expect(() => planImages([img("a", 0x3ff000, 0x1000)], 0x400000)).not.toThrow();
  expect(() => planImages([img("a", 0x3ff000, 0x1001)], 0x400000)).toThrow(expect.objectContaining({ code: "image-too-large" }));
  const images = buildImages(4096);
  images[2] = img("xs_esp32.bin", 0x10000, 0x180001);
  expect(() => planImages(images)).toThrow(/xs_esp32\.bin is .* but partition "factory" at 0x10000 holds 0x180000/);
  const ok = planImages(buildImages(4096));
  expect(ok.map((i) => i.partition)).toEqual([undefined, undefined, "factory"]);
});

test("the NVS image goes to the nvs partition, if it is an NVS image and fits", () => {
  const images = buildImages(4096);
  expect(nvsImageFor(images, nvsImage(), "f.bin")).toMatchObject({ address: 0x9000, partition: "nvs" });
  expect(() => nvsImageFor(images, new Uint8Array(0x7000).fill(0xff), "big.bin")).toThrow(/big\.bin is 28\.0 KB \(0x7000 bytes\) but partition "nvs" at 0x9000 holds 0x6000/);
  expect(() => nvsImageFor(images, firmwareBytes(0x3000, 1), "app.bin")).toThrow(/app\.bin is not a valid NVS image/);
  expect(() => nvsImageFor([images[2]], nvsImage(), "f.bin")).toThrow(/no partition table at 0x8000/);
});

test("a Moddable build folder: bootloader at the chip's offset, table at 0x8000, app at the factory partition", () => {
  const build = path.join(dir, "moddable");
  fs.mkdirSync(build);
  fs.writeFileSync(path.join(build, "bootloader.bin"), firmwareBytes(1000, 1));
  fs.writeFileSync(path.join(build, "partition-table.bin"), partitionTable());
  fs.writeFileSync(path.join(build, "xs_esp32.bin"), firmwareBytes(5000, 2));
  const esp32 = loadBuildImages(build, "esp32").images;
  expect(esp32.map((i) => [i.name, i.address])).toEqual([["bootloader.bin", 0x1000], ["partition-table.bin", 0x8000], ["xs_esp32.bin", 0x10000]]);
  expect(loadBuildImages(build, "esp32s3").images[0].address).toBe(0);
  expect(BOOTLOADER_OFFSET.esp32c3).toBe(0);
  fs.rmSync(path.join(build, "xs_esp32.bin"));
  expect(() => loadBuildImages(build, "esp32")).toThrow(/no application in .*moddable \(looked for xs_esp32\.bin\)/);
  expect(() => loadBuildImages(path.join(dir, "nope"), "esp32")).toThrow(/does not exist/);
  expect(moddableBuildDir("/m", "hello", "release")).toBe(path.join("/m", "build", "bin", "esp32", "release", "hello"));
});

test("an ESP-IDF build folder: flasher_args.json says what goes where, and for which chip", () => {
  const build = path.join(dir, "idf");
  fs.mkdirSync(path.join(build, "bootloader"), { recursive: true });
  fs.mkdirSync(path.join(build, "partition_table"));
  fs.writeFileSync(path.join(build, "bootloader", "bootloader.bin"), firmwareBytes(1000, 1));
  fs.writeFileSync(path.join(build, "partition_table", "partition-table.bin"), partitionTable());
  fs.writeFileSync(path.join(build, "app.bin"), firmwareBytes(5000, 2));
  fs.writeFileSync(
    path.join(build, "flasher_args.json"),
    JSON.stringify({ flash_files: { "0x0": "bootloader/bootloader.bin", "0x8000": "partition_table/partition-table.bin", "0x10000": "app.bin" }, extra_esptool_args: { chip: "esp32s3" } }),
  );
  const { images, chipHint } = loadBuildImages(build, "esp32");
  expect(chipHint).toBe("esp32s3");
  expect(images.map((i) => [i.name, i.address, i.data.length])).toEqual([["bootloader.bin", 0, 1000], ["partition-table.bin", 0x8000, 0xc00], ["app.bin", 0x10000, 5000]]);
});
