/**
 * A Web Serial `SerialPort` (the object esptool-js's Transport drives) over Node's `serialport` package.
 *
 * Contract, as Web Serial promises it: `open()` once, then one `readable` and one `writable` until `close()`;
 * `setSignals` changes only the signals it names; when the device vanishes the readable errors with a
 * DOMException named "NetworkError" (esptool-js treats that as "device lost") and a "disconnect" event fires.
 */
import { SerialPort as NodeSerialPort } from "serialport";
import { FlashError } from "./errors.js";

/** The part of Web Serial's SerialPort that esptool-js uses (plus `setBaudRate`, which it prefers to reopening). */
export interface WebSerialPort {
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  open(options: { baudRate: number }): Promise<void>;
  close(): Promise<void>;
  setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void>;
  getInfo(): { usbVendorId?: number; usbProductId?: number };
  setBaudRate(baudRate: number): Promise<void>;
  addEventListener(type: "disconnect", listener: () => void): void;
  /** True once setting DTR/RTS failed (a pty): resets must be done by hand. */
  readonly signalsUnsupported?: boolean;
}

export interface NodeWebSerialOptions {
  /** USB ids to report from getInfo() (from the port listing); esptool-js picks its reset sequence from them. */
  usbVendorId?: number;
  usbProductId?: number;
  /** Called once when DTR/RTS cannot be set (a pseudo-terminal): the reset sequence becomes a no-op. */
  onSignalsUnsupported?: (message: string) => void;
}

/** ENOTTY on a pty; EINVAL on some USB drivers without modem lines. */
const SIGNALS_UNSUPPORTED = /Inappropriate ioctl|ENOTTY|EINVAL|Invalid argument/i;

export function openError(path: string, e: Error): FlashError {
  const m = e.message;
  if (/No such file|ENOENT|cannot open.*not found/i.test(m)) return new FlashError("no-such-port", `no serial port ${path} (is the board plugged in? try --port auto)`);
  if (/Cannot lock port|Resource temporarily unavailable|EBUSY|busy/i.test(m)) {
    return new FlashError("port-busy", `serial port ${path} is in use by another program (close the serial monitor) — ${m}`);
  }
  if (/Permission denied|EACCES/i.test(m)) return new FlashError("port-busy", `no permission to open ${path} (on Linux, join the dialout group) — ${m}`);
  return new FlashError("no-such-port", `cannot open serial port ${path}: ${m}`);
}

export class NodeWebSerialPort implements WebSerialPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private port: NodeSerialPort | undefined;
  private signals = { dtr: false, rts: false, brk: false };
  signalsUnsupported = false;
  private readonly disconnectListeners: Array<() => void> = [];

  constructor(
    readonly path: string,
    private readonly options: NodeWebSerialOptions = {},
  ) {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    const { usbVendorId, usbProductId } = this.options;
    return { ...(usbVendorId !== undefined ? { usbVendorId } : {}), ...(usbProductId !== undefined ? { usbProductId } : {}) };
  }

  addEventListener(type: "disconnect", listener: () => void): void {
    if (type === "disconnect") this.disconnectListeners.push(listener);
  }

  async open(options: { baudRate: number }): Promise<void> {
    if (this.port) throw new Error(`serial port ${this.path} is already open`);
    const port = new NodeSerialPort({ path: this.path, baudRate: options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(openError(this.path, err)) : resolve())));
    this.port = port;
    let lost = false;
    const loseDevice = (controller: ReadableStreamDefaultController<Uint8Array>, reason: string) => {
      if (lost) return;
      lost = true;
      try {
        controller.error(new DOMException(`The device has been lost: ${reason}`, "NetworkError"));
      } catch {
        // already closed by the reader
      }
      for (const l of this.disconnectListeners) l();
    };
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        port.on("data", (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
        port.on("error", (err: Error) => loseDevice(controller, err.message));
        port.on("close", (err: (Error & { disconnected?: boolean }) | null) => {
          if (err) loseDevice(controller, err.message);
          else if (!lost) {
            try {
              controller.close();
            } catch {
              // cancelled already
            }
          }
        });
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (!port.isOpen) return reject(new DOMException("The device has been lost.", "NetworkError"));
          port.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), (err) => {
            if (err) return reject(err);
            port.drain((e) => (e ? reject(e) : resolve()));
          });
        }),
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.readable = null;
    this.writable = null;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {
    // serialport's set() resets every unnamed line to its default; Web Serial changes only the named ones.
    if (signals.dataTerminalReady !== undefined) this.signals.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.signals.rts = signals.requestToSend;
    if (signals.break !== undefined) this.signals.brk = signals.break;
    const port = this.port;
    if (!port || this.signalsUnsupported) return;
    await new Promise<void>((resolve, reject) =>
      port.set({ ...this.signals }, (err) => {
        if (!err) return resolve();
        if (!SIGNALS_UNSUPPORTED.test(err.message)) return reject(err);
        this.signalsUnsupported = true;
        this.options.onSignalsUnsupported?.(`${this.path} has no DTR/RTS lines (${err.message}): the chip must already be in download mode`);
        resolve();
      }),
    );
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error(`serial port ${this.path} is not open`);
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
  }
}
