/**
 * Serial ports for `flash` and `monitor`: `--port auto` picks the one USB serial adapter plugged in. Listing comes
 * from serialport's SerialPort.list(), which on Linux runs udevadm; where that is missing (containers, minimal
 * images) the USB ids are read from sysfs instead. Ports without a USB vendor id (built-in UARTs, Bluetooth,
 * ptys) never qualify. The listing is injectable for tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SerialPort } from "serialport";
import { UsageError } from "../args.js";

/** The serial ports could not be listed at all. */
export class SerialPortListError extends Error {
  override name = "SerialPortListError";
  readonly code = "port-list";
}

export interface PortListing {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

export type ListPorts = () => Promise<PortListing[]>;

/** USB-UART bridges found on ESP32 boards, by USB vendor id. */
export const KNOWN_USB_UARTS: Record<string, string> = {
  "10c4": "Silicon Labs CP210x",
  "1a86": "WCH CH340/CH9102",
  "0403": "FTDI",
  "303a": "Espressif USB-Serial/JTAG",
};

export interface ChosenPort {
  path: string;
  usbVendorId?: number;
  usbProductId?: number;
}

export const listSerialPorts: ListPorts = async () => {
  try {
    return await SerialPort.list();
  } catch (e) {
    const fromSysfs = listFromSysfs();
    if (fromSysfs) return fromSysfs;
    throw e;
  }
};

/**
 * Linux without udevadm: every /sys/class/tty/<name> whose device sits on a USB interface, with the vendor and
 * product ids of the USB device above it. Undefined when there is no sysfs to read.
 */
export function listFromSysfs(root = "/sys/class/tty"): PortListing[] | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return undefined;
  }
  const ports: PortListing[] = [];
  for (const name of names) {
    let dir: string;
    try {
      dir = fs.realpathSync(path.join(root, name, "device"));
    } catch {
      continue; // virtual terminals and ptys have no device
    }
    // Walk up from the interface to the USB device, which has idVendor.
    for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
      const read = (file: string) => fs.readFileSync(path.join(d, file), "utf8").trim();
      if (!fs.existsSync(path.join(d, "idVendor"))) continue;
      const port: PortListing = { path: `/dev/${name}`, vendorId: read("idVendor"), productId: read("idProduct") };
      try {
        port.manufacturer = read("manufacturer");
      } catch {
        // optional
      }
      try {
        port.serialNumber = read("serial");
      } catch {
        // optional
      }
      ports.push(port);
      break;
    }
  }
  return ports;
}

function describe(p: PortListing): string {
  const vid = p.vendorId?.toLowerCase();
  const what = (vid && KNOWN_USB_UARTS[vid]) ?? p.manufacturer ?? "unknown adapter";
  return `${p.path} (${what}${vid ? ` ${vid}:${p.productId ?? "?"}` : ""})`;
}

function toChosen(p: PortListing): ChosenPort {
  const vid = p.vendorId ? parseInt(p.vendorId, 16) : NaN;
  const pid = p.productId ? parseInt(p.productId, 16) : NaN;
  return { path: p.path, ...(Number.isFinite(vid) ? { usbVendorId: vid } : {}), ...(Number.isFinite(pid) ? { usbProductId: pid } : {}) };
}

async function list(listPorts: ListPorts): Promise<PortListing[]> {
  try {
    return await listPorts();
  } catch (e) {
    throw new SerialPortListError(`cannot list serial ports (${(e as Error).message}): give the port with --port PATH, e.g. --port /dev/ttyUSB0`);
  }
}

/** Exactly one USB adapter (a known ESP32 bridge wins over other USB serial devices), else a UsageError naming the candidates. */
export async function choosePort(listPorts: ListPorts = listSerialPorts): Promise<ChosenPort> {
  const all = await list(listPorts);
  const usb = all.filter((p) => p.vendorId);
  const known = usb.filter((p) => KNOWN_USB_UARTS[p.vendorId!.toLowerCase()] !== undefined);
  const candidates = known.length > 0 ? known : usb;
  if (candidates.length === 1) return toChosen(candidates[0]);
  if (candidates.length === 0) {
    const others = all.length ? ` (not USB: ${all.map((p) => p.path).join(", ")})` : "";
    throw new UsageError(`--port auto found no USB serial adapter${others}: plug the board in, or give --port PATH`);
  }
  throw new UsageError(`--port auto found ${candidates.length} USB serial adapters: ${candidates.map(describe).join(", ")} — choose one with --port PATH`);
}

/** USB ids for an explicit --port PATH, when the listing works (esptool-js picks its reset sequence from them). */
export async function describePort(path: string, listPorts: ListPorts = listSerialPorts): Promise<ChosenPort> {
  try {
    const match = (await listPorts()).find((p) => p.path === path);
    return match ? toChosen(match) : { path };
  } catch {
    return { path };
  }
}
