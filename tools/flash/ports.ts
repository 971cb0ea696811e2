/**
 * `--port auto`: the one USB serial adapter plugged in. Listing comes from serialport's SerialPort.list()
 * (injectable for tests); ports without a USB vendor id (built-in UARTs, Bluetooth, ptys) never qualify.
 */
import { SerialPort } from "serialport";
import { UsageError } from "../args.js";
import { FlashError } from "./errors.js";

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

export const listSerialPorts: ListPorts = () => SerialPort.list();

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
    throw new FlashError("port-list", `cannot list serial ports (${(e as Error).message}): give the port with --port PATH, e.g. --port /dev/ttyUSB0`);
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
