import { FlashProgress } from "../../tools/flash/progress";
import { choosePort, describePort, SerialPortListError, type PortListing } from "../../tools/serial/ports";
import { UsageError } from "../../tools/args";
import { captured } from "./command-support";

const IMAGES = [
  { name: "bootloader.bin", address: 0x1000 },
  { name: "xs_esp32.bin", address: 0x10000 },
];

describe("progress", () => {
  test("not a terminal: one plain line per 10 % step, per image", () => {
    const out = captured(false);
    const p = new FlashProgress(out, IMAGES);
    for (let w = 0; w <= 27000; w += 1024) p.update(0, w, 27000);
    p.update(0, 27000, 27000);
    p.update(0, 27000, 27000); // repeated 100 %: printed once
    p.update(1, 0, 100);
    p.update(1, 100, 100);
    const lines = out.text.trimEnd().split("\n");
    expect(lines[0]).toBe("flash: bootloader.bin 0x1000 0% (0/27000 B)");
    expect(lines).toContain("flash: bootloader.bin 0x1000 41% (11264/27000 B)");
    expect(lines.filter((l) => l.startsWith("flash: bootloader.bin"))).toHaveLength(11);
    expect(lines.slice(-2)).toEqual(["flash: xs_esp32.bin 0x10000 0% (0/100 B)", "flash: xs_esp32.bin 0x10000 100% (100/100 B)"]);
    expect(out.text).not.toMatch(/\r|\x1b/);
  });

  test("a terminal: one bar redrawn in place, a newline when the image is done", () => {
    const out = captured(true);
    const p = new FlashProgress(out, IMAGES);
    p.update(0, 0, 200);
    p.update(0, 100, 200);
    p.update(0, 200, 200);
    const frames = out.text.split("\r\x1b[2K").filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(frames[1]).toBe(`flash: bootloader.bin 0x1000 [${"#".repeat(15)}${".".repeat(15)}]  50% (100/200 B)`);
    expect(frames[2]).toMatch(/\[#{30}\] 100% \(200\/200 B\)\n$/);
    expect(out.text.split("\n")).toHaveLength(2);
  });
});

describe("--port auto", () => {
  const cp2102: PortListing = { path: "/dev/ttyUSB0", vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs" };
  const ch340: PortListing = { path: "/dev/ttyUSB1", vendorId: "1A86", productId: "7523" };
  const builtIn: PortListing = { path: "/dev/ttyS0" };
  const phone: PortListing = { path: "/dev/ttyACM0", vendorId: "22b8", productId: "2e82", manufacturer: "Motorola" };
  const list = (ports: PortListing[]) => async () => ports;

  test("exactly one USB adapter is chosen, with its USB ids", async () => {
    expect(await choosePort(list([builtIn, cp2102]))).toEqual({ path: "/dev/ttyUSB0", usbVendorId: 0x10c4, usbProductId: 0xea60 });
    // A known ESP32 bridge wins over another USB serial device.
    expect((await choosePort(list([phone, ch340]))).path).toBe("/dev/ttyUSB1");
    expect((await choosePort(list([phone]))).path).toBe("/dev/ttyACM0");
  });

  test("none or several: a usage error naming the candidates", async () => {
    await expect(choosePort(list([builtIn]))).rejects.toThrow(new UsageError("--port auto found no USB serial adapter (not USB: /dev/ttyS0): plug the board in, or give --port PATH"));
    await expect(choosePort(list([]))).rejects.toThrow(/found no USB serial adapter: plug/);
    await expect(choosePort(list([cp2102, ch340, builtIn]))).rejects.toThrow(
      "--port auto found 2 USB serial adapters: /dev/ttyUSB0 (Silicon Labs CP210x 10c4:ea60), /dev/ttyUSB1 (WCH CH340/CH9102 1a86:7523) — choose one with --port PATH",
    );
  });

  test("a listing that fails (no udevadm in a container) says to give --port PATH", async () => {
    const failing = async () => {
      throw new Error("spawn udevadm ENOENT");
    };
    const e = await choosePort(failing).catch((x) => x);
    expect(e).toBeInstanceOf(SerialPortListError);
    expect(e.message).toBe("cannot list serial ports (spawn udevadm ENOENT): give the port with --port PATH, e.g. --port /dev/ttyUSB0");
    // An explicit path never needs the listing.
    expect(await describePort("/dev/ttyUSB0", failing)).toEqual({ path: "/dev/ttyUSB0" });
    expect(await describePort("/dev/ttyUSB0", list([cp2102]))).toMatchObject({ usbVendorId: 0x10c4 });
  });
});
