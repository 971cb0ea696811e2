/** flashImages through esptool-js against the ROM-loader simulator on an in-memory Web Serial port. */
import { flashImages } from "../../tools/flash/flash";
import { nvsImageFor } from "../../tools/flash/images";
import { OP, RomLoaderSimulator } from "../support/rom-loader/simulator";
import { MemoryWebSerialPort } from "../support/rom-loader/memory-web-serial";
import { buildImages, expectedFlash, firstDifference, nvsImage, NVS_OFFSET, testLog } from "./fixtures";

function imagesWithNvs() {
  const images = buildImages(200 * 1024);
  return [...images, nvsImageFor(images, nvsImage(), "factory-nvs.bin")];
}

describe.each([
  ["compressed", true],
  ["uncompressed", false],
])("flash %s over the memory port", (_name, compress) => {
  test("bootloader, partition table, app and NVS land byte for byte; 0xFF elsewhere; hard reset into the app", async () => {
    // The chip is running its old firmware: esptool-js's DTR/RTS sequence must put it in download mode.
    const sim = new RomLoaderSimulator({ startIn: "app" });
    const port = new MemoryWebSerialPort(sim);
    const { log, sink } = testLog();
    const images = imagesWithNvs();
    expect(images[3].address).toBe(NVS_OFFSET);
    const progress: Array<[number, number, number]> = [];
    const result = await flashImages({ port, portName: "mem0", images, baud: 921600, compress, log, onProgress: (i, w, t) => progress.push([i, w, t]) });

    expect(firstDifference(sim.flash, expectedFlash(images, sim.flash.length))).toBe(-1);
    expect(result.chipFamily).toBe("ESP32");
    expect(result.mac).toBe("24:0a:c4:12:34:56");
    expect(result.flashSize).toBe(4 * 1024 * 1024);
    expect(result.images.map((i) => i.address)).toEqual([0x1000, 0x8000, 0x9000, 0x10000]);
    expect(sim.downloadBoots).toBe(1);
    expect(sim.appBoots).toBe(1); // the hard reset at the end
    expect(sim.unknownReads.size).toBe(0);
    expect(port.baudRate).toBe(921600);
    // Every image reported 0 … total.
    for (let i = 0; i < 4; i++) {
      const mine = progress.filter(([idx]) => idx === i);
      expect(mine[0][1]).toBe(0);
      expect(mine[mine.length - 1][1]).toBe(mine[0][2]);
    }
    expect(sink.lines.filter((l) => l.startsWith("I ") && l.includes("written and verified"))).toHaveLength(4);
    // The NVS image holds secrets: no log line may carry them.
    expect(sink.lines.join("\n")).not.toMatch(/factory-provision/);
  });
});

test("the compressed protocol sequence is the documented one (08, 14, 0a, 05, 07, 06, 0f, 09, 10, 11, 12, 13)", async () => {
  const sim = new RomLoaderSimulator();
  const port = new MemoryWebSerialPort(sim);
  await flashImages({ port, portName: "mem0", images: [buildImages(8 * 1024)[2]], baud: 460800, compress: true, log: testLog().log });
  const firstSeen: number[] = [];
  for (const op of sim.ops) if (!firstSeen.includes(op)) firstSeen.push(op);
  expect(firstSeen).toEqual([OP.SYNC, OP.GET_SECURITY_INFO, OP.READ_REG, OP.MEM_BEGIN, OP.MEM_DATA, OP.MEM_END, OP.CHANGE_BAUDRATE, OP.WRITE_REG, OP.FLASH_DEFL_BEGIN, OP.FLASH_DEFL_DATA, OP.FLASH_DEFL_END, OP.SPI_FLASH_MD5]);
});

test("--no-reset leaves the chip in the flasher stub", async () => {
  const sim = new RomLoaderSimulator();
  const port = new MemoryWebSerialPort(sim);
  await flashImages({ port, portName: "mem0", images: [buildImages(4096)[2]], baud: 115200, compress: false, reset: false, log: testLog().log });
  expect(sim.mode).toBe("stub");
  expect(sim.appBoots).toBe(0);
});

test("a block rejected once for its checksum is resent, and the flash still verifies", async () => {
  const sim = new RomLoaderSimulator({ faults: { checksumError: { block: 2, times: 1 } } });
  const port = new MemoryWebSerialPort(sim);
  const images = buildImages(64 * 1024);
  await flashImages({ port, portName: "mem0", images, baud: 921600, compress: false, log: testLog().log });
  expect(firstDifference(sim.flash, expectedFlash(images, sim.flash.length))).toBe(-1);
});
