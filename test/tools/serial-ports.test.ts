/**
 * `--port auto` where serialport cannot list ports (no udevadm, as in containers): the USB ids come from sysfs.
 * A fake /sys tree stands in for the kernel's: a CP210x on ttyUSB0, a CH340 on ttyACM0, and a console with no
 * USB device above it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { choosePort, listFromSysfs } from "../../tools/serial/ports.js";

function fakeSysfs(): string {
  const sys = fs.mkdtempSync(path.join(os.tmpdir(), "sysfs-"));
  const usbDevice = (name: string, vid: string, pid: string, extra: Record<string, string>) => {
    const dev = path.join(sys, "devices/pci0000:00/usb1", name);
    const iface = path.join(dev, `${name}:1.0`);
    fs.mkdirSync(iface, { recursive: true });
    fs.writeFileSync(path.join(dev, "idVendor"), `${vid}\n`);
    fs.writeFileSync(path.join(dev, "idProduct"), `${pid}\n`);
    for (const [k, v] of Object.entries(extra)) fs.writeFileSync(path.join(dev, k), `${v}\n`);
    return iface;
  };
  const classDir = path.join(sys, "class/tty");
  fs.mkdirSync(classDir, { recursive: true });
  for (const [tty, iface] of [
    ["ttyUSB0", usbDevice("1-1", "10c4", "ea60", { manufacturer: "Silicon Labs", serial: "0001" })],
    ["ttyACM0", usbDevice("1-2", "1a86", "55d4", {})],
  ] as const) {
    fs.mkdirSync(path.join(classDir, tty));
    fs.symlinkSync(iface, path.join(classDir, tty, "device"));
  }
  fs.mkdirSync(path.join(classDir, "tty0")); // a virtual console: no device link
  fs.mkdirSync(path.join(sys, "devices/platform/serial8250"), { recursive: true });
  fs.mkdirSync(path.join(classDir, "ttyS0"));
  fs.symlinkSync(path.join(sys, "devices/platform/serial8250"), path.join(classDir, "ttyS0", "device")); // a UART, no USB above
  return path.join(classDir);
}

describe("serial port listing from sysfs", () => {
  it("finds USB serial adapters with their ids, and skips consoles and built-in UARTs", () => {
    const ports = listFromSysfs(fakeSysfs())!.sort((a, b) => a.path.localeCompare(b.path));
    expect(ports).toEqual([
      { path: "/dev/ttyACM0", vendorId: "1a86", productId: "55d4" },
      { path: "/dev/ttyUSB0", vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs", serialNumber: "0001" },
    ]);
  });

  it("feeds --port auto, which refuses to guess between two adapters", async () => {
    const root = fakeSysfs();
    await expect(choosePort(async () => listFromSysfs(root)!)).rejects.toThrow(/found 2 USB serial adapters: .*ttyACM0 \(WCH CH340\/CH9102 1a86:55d4\).*ttyUSB0 \(Silicon Labs CP210x 10c4:ea60\)/);
    fs.rmSync(path.join(root, "ttyACM0"), { recursive: true });
    await expect(choosePort(async () => listFromSysfs(root)!)).resolves.toEqual({ path: "/dev/ttyUSB0", usbVendorId: 0x10c4, usbProductId: 0xea60 });
  });

  it("says there is nothing to read where there is no sysfs", () => {
    expect(listFromSysfs(path.join(os.tmpdir(), "no-such-sysfs"))).toBeUndefined();
  });
});
