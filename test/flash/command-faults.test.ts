/** `tbsdk flash` failures: each gives exit 1 and one line `tbsdk flash: <what to do>` (usage mistakes exit 2). */
import * as fs from "node:fs";
import * as path from "node:path";
import { runFlash } from "../../tools/flash/command";
import { NodeWebSerialPort } from "../../tools/flash/web-serial-node";
import { buildImages, firmwareBytes, nvsImage } from "./fixtures";
import { captured, imageArgs, runWithSimulator, tempDir } from "./command-support";

let dir: string;
let args: string[];
beforeAll(() => {
  dir = tempDir();
  args = ["--port", "/dev/ttySIM0", "--log-level", "W", ...imageArgs(dir, buildImages(48 * 1024))];
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tbsdk flash: /);
  return lines[0];
}

test("a chip that never answers SYNC: exit 1 with the BOOT / EN hint", async () => {
  const run = await runWithSimulator([...args, "--connect-attempts", "1"], { faults: { ignoreSync: true } });
  expect(run.code).toBe(1);
  const line = oneLine(run.stderr);
  expect(line).toContain("no answer from the ESP32 ROM bootloader on /dev/ttySIM0");
  expect(line).toMatch(/hold BOOT, press and release EN\/RESET, then release BOOT/);
});

test("every data block rejected with a checksum error: exit 1 naming the image and the cure", async () => {
  const run = await runWithSimulator([...args, "--no-compress"], { faults: { checksumError: { block: 1 } } });
  expect(run.code).toBe(1);
  const line = oneLine(run.stderr);
  expect(line).toMatch(/rejected a block of bootloader\.bin at 0x1000 with "bad data checksum" on every retry/);
  expect(line).toMatch(/lower --baud/);
  expect(run.sim.ops.filter((op) => op === 0x03).length).toBe(4); // block 0, then block 1 tried 3 times
});

test("flash that reads back different bytes: MD5 mismatch, exit 1", async () => {
  const run = await runWithSimulator(args, { faults: { corruptFlashAt: 0x10000 + 1234 } });
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/MD5 mismatch after writing xs_esp32\.bin at 0x10000/);
});

test("the device vanishes mid-write: port-lost, exit 1, without sitting out esptool's timeouts and retries", async () => {
  const run = await runWithSimulator([...args, "--no-compress"], { faults: { vanishAfterBytes: 40_000 } });
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/\/dev\/ttySIM0 disappeared .* while writing bootloader\.bin at 0x1000 — the flash may hold a partial image/);
});

test("a chip of another family than --chip: wrong-chip, exit 1, nothing written", async () => {
  const s3Args = ["--port", "/dev/ttySIM0", "--chip", "esp32s3", ...imageArgs(dir, [{ ...buildImages(4096)[2] }])];
  const run = await runWithSimulator(s3Args);
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/the chip on \/dev\/ttySIM0 is an ESP32-D0WD-V3 \(revision 3\) \(ESP32 family\), not ESP32-S3 as --chip esp32s3 says — nothing was written/);
  expect(run.sim.ops).not.toContain(0x10);
  expect(run.sim.ops).not.toContain(0x02);
});

test("overlapping images: exit 1 before the port is opened", async () => {
  const images = buildImages(8 * 1024);
  const extra = { name: "extra.bin", address: 0x10000 + 4096, data: firmwareBytes(100, 9) };
  let opened = false;
  const run = await runWithSimulator(["--port", "/dev/ttySIM0", ...imageArgs(dir, [...images, extra])], {}, {
    openPort: () => {
      opened = true;
      throw new Error("must not open");
    },
  });
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/xs_esp32\.bin \(0x10000\.\.0x12000\) overlaps extra\.bin at 0x11000/);
  expect(opened).toBe(false);
});

test("an image running past the end of the 4 MB flash: image-too-large, exit 1, nothing written", async () => {
  const big = { name: "storage.bin", address: 0x3f0000, data: firmwareBytes(128 * 1024, 3) };
  const run = await runWithSimulator(["--port", "/dev/ttySIM0", ...imageArgs(dir, [big])]);
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/storage\.bin \(128\.0 KB at 0x3f0000\) ends at 0x410000, beyond the 4\.00 MB flash/);
  expect(run.sim.ops).not.toContain(0x10);
});

test("an app larger than its partition: image-too-large before connecting", async () => {
  const images = buildImages(8 * 1024);
  images[2] = { ...images[2], data: firmwareBytes(0x180000 + 4, 4) };
  const run = await runWithSimulator(["--port", "/dev/ttySIM0", ...imageArgs(dir, images)]);
  expect(run.code).toBe(1);
  expect(oneLine(run.stderr)).toMatch(/xs_esp32\.bin is 1\.50 MB \(0x180004 bytes\) but partition "factory" at 0x10000 holds 0x180000/);
  expect(run.sim.ops).toEqual([]);
});

test("no such serial port (the real serialport adapter): exit 1", async () => {
  const stderr = captured();
  const code = await runFlash(["--port", path.join(dir, "ttyUSB9"), "--connect-attempts", "1", ...args.slice(4)], {
    openPort: (p) => new NodeWebSerialPort(p.path),
    listPorts: async () => [],
    stdout: captured(),
    stderr,
    env: {},
  });
  expect(code).toBe(1);
  expect(oneLine(stderr.text)).toMatch(/no serial port .*ttyUSB9 \(is the board plugged in\? try --port auto\)/);
});

test("--nvs: the factory image goes to the nvs partition; one that is not NVS is refused", async () => {
  const nvsFile = path.join(dir, "factory-nvs.bin");
  fs.writeFileSync(nvsFile, nvsImage());
  const ok = await runWithSimulator([...args, "--nvs", nvsFile]);
  expect(ok.code).toBe(0);
  expect(Buffer.from(ok.sim.flash.subarray(0x9000, 0x9000 + 0x3000)).equals(Buffer.from(nvsImage()))).toBe(true);

  const junk = path.join(dir, "junk.bin");
  fs.writeFileSync(junk, firmwareBytes(0x3000, 5));
  const bad = await runWithSimulator([...args, "--nvs", junk]);
  expect(bad.code).toBe(1);
  expect(oneLine(bad.stderr)).toMatch(/junk\.bin is not a valid NVS image/);
});

test("usage mistakes exit 2 with the usage line", async () => {
  const noPort = await runWithSimulator(args.slice(2));
  expect(noPort.code).toBe(2);
  expect(noPort.stderr).toMatch(/^tbsdk flash: --port PATH or --port auto is required\nusage: tbsdk flash --port/);
  const nothing = await runWithSimulator(["--port", "x"]);
  expect(nothing.code).toBe(2);
  expect(nothing.stderr).toMatch(/nothing to flash/);
  const chip = await runWithSimulator([...args, "--chip", "esp8266"]);
  expect(chip.code).toBe(2);
  const image = await runWithSimulator(["--port", "x", "--image", "bootloader.bin"]);
  expect(image.code).toBe(1);
  expect(image.stderr).toMatch(/--image wants ADDR=FILE/);
});

test("--app NAME --release flashes $MODDABLE/build/bin/esp32/release/NAME; without MODDABLE it is a usage error", async () => {
  const moddable = path.join(dir, "moddable");
  const build = path.join(moddable, "build", "bin", "esp32", "release", "hello");
  fs.mkdirSync(build, { recursive: true });
  const images = buildImages(32 * 1024);
  for (const img of images) fs.writeFileSync(path.join(build, img.name), img.data);
  const run = await runWithSimulator(["--port", "/dev/ttySIM0", "--app", "hello", "--release"], {}, { env: { MODDABLE: moddable } });
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  for (const img of images) expect(Buffer.from(run.sim.flash.subarray(img.address, img.address + img.data.length)).equals(Buffer.from(img.data))).toBe(true);

  const noEnv = await runWithSimulator(["--port", "/dev/ttySIM0", "--app", "hello"]);
  expect(noEnv.code).toBe(2);
  expect(noEnv.stderr).toMatch(/--app needs the MODDABLE environment variable/);
  const missing = await runWithSimulator(["--port", "/dev/ttySIM0", "--app", "nope"], {}, { env: { MODDABLE: moddable } });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/build folder .*debug\/nope does not exist/);
});
