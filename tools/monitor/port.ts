/**
 * The serial port side of the monitor: opening (with errors a person can act on), the esptool-style hard reset,
 * and `--port auto`.
 */
import { SerialPort } from "serialport";
import { UsageError } from "../args.js";
import { choosePort, listSerialPorts, SerialPortListError, type ListPorts } from "../serial/ports.js";

/** What the monitor needs of a port: serialport's SerialPort and SerialPortMock both fit. */
export interface MonitorPort {
  readonly isOpen: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  set(options: { dtr?: boolean; rts?: boolean }, callback?: (err: Error | null) => void): unknown;
  write(data: string | Buffer): unknown;
  close(callback?: (err?: Error | null) => void): unknown;
}

export type PortErrorKind = "missing" | "busy" | "permission" | "other";

export class PortError extends Error {
  constructor(readonly kind: PortErrorKind, message: string, readonly path: string) {
    super(message);
  }
}

/** serialport's open errors carry no code, only messages ("Error: No such file or directory, cannot open …"). */
export function portError(path: string, e: unknown): PortError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || /No such file or directory|does not exist/i.test(msg)) {
    return new PortError("missing", `no such port ${path} (is the board plugged in? try ls /dev/ttyUSB* /dev/ttyACM*)`, path);
  }
  if (code === "EBUSY" || code === "EAGAIN" || /Cannot lock port|locked|busy|Resource temporarily unavailable/i.test(msg)) {
    return new PortError("busy", `${path} is busy: another program (a serial monitor, esptool, ModemManager) has it open`, path);
  }
  if (code === "EACCES" || code === "EPERM" || /Permission denied|Operation not permitted/i.test(msg)) {
    return new PortError("permission", `permission denied on ${path}: add your user to the dialout group (sudo usermod -aG dialout $USER, then log in again)`, path);
  }
  return new PortError("other", `cannot open ${path}: ${msg.replace(/^Error:?\s*/, "")}`, path);
}

/** Opens a real serial port (the default of runMonitor's `openPort`). */
export function openSerialPort(path: string, baudRate: number): Promise<MonitorPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => (err ? reject(portError(path, err)) : resolve(port)));
  });
}

function setSignals(port: MonitorPort, dtr: boolean, rts: boolean): Promise<void> {
  // serialport's set() fills unspecified lines with dtr: true, rts: true: always give both.
  return new Promise((resolve, reject) => port.set({ dtr, rts }, (err) => (err ? reject(err) : resolve())));
}

/**
 * esptool's hard reset: RTS on (EN low, the chip held in reset) for 100 ms, then off; DTR off throughout, so IO0
 * stays high and the chip boots the app. A pseudo-terminal or a bare UART has no modem lines: "Inappropriate ioctl
 * for device" gives a warning and the monitor goes on.
 */
export async function hardReset(port: MonitorPort, sleep: (ms: number) => Promise<void>, warn: (message: string) => void): Promise<boolean> {
  try {
    await setSignals(port, false, true);
    await sleep(100);
    await setSignals(port, false, false);
    return true;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/Inappropriate ioctl/i.test(msg) || (e as NodeJS.ErrnoException).code === "ENOTTY") {
      warn("--reset: this port has no DTR/RTS lines (a pseudo-terminal?); not reset");
    } else {
      warn(`--reset failed: ${msg.replace(/^Error:?\s*/, "")}`);
    }
    return false;
  }
}

/** `--port auto`: the one USB serial adapter present (shared with `tbsdk flash`). */
export async function autoPort(list: ListPorts = listSerialPorts): Promise<string> {
  try {
    return (await choosePort(list)).path;
  } catch (e) {
    if (e instanceof SerialPortListError) throw new PortError("other", `--port auto: ${e.message}`, "auto");
    if (e instanceof UsageError) throw new PortError("missing", e.message, "auto");
    throw e;
  }
}
