/**
 * An in-memory Web Serial `SerialPort` wired to a RomLoaderSimulator: what esptool-js sees is a USB-UART with the
 * DevKit's DTR/RTS auto-reset circuit. Bytes cross only when both ends use the same baud rate (otherwise they are
 * garbage and dropped, as on a real UART). When the simulator vanishes, the readable errors with a NetworkError
 * DOMException, writes fail and "disconnect" fires, as Chrome's Web Serial does on unplug.
 */
import type { WebSerialPort } from "../../../tools/flash/web-serial-node.js";
import type { RomLoaderSimulator } from "./simulator.js";

export interface MemoryPortOptions {
  usbVendorId?: number;
  usbProductId?: number;
}

export class MemoryWebSerialPort implements WebSerialPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  baudRate = 0;
  opens = 0;
  /** Bytes dropped because host and chip baud rates differed. */
  garbled = 0;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private signals = { dtr: false, rts: false };
  private readonly listeners: Array<() => void> = [];

  constructor(
    readonly sim: RomLoaderSimulator,
    private readonly options: MemoryPortOptions = {},
  ) {
    sim.onOutput = (bytes) => {
      if (!this.controller) return;
      if (this.baudRate !== sim.baud) {
        this.garbled += bytes.length;
        return;
      }
      this.controller.enqueue(bytes.slice());
    };
    sim.onVanish = () => {
      const lost = new DOMException("The device has been lost.", "NetworkError");
      try {
        this.controller?.error(lost);
      } catch {
        // already closed
      }
      this.controller = undefined;
      for (const l of this.listeners) l();
    };
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return { ...this.options };
  }

  addEventListener(type: "disconnect", listener: () => void): void {
    if (type === "disconnect") this.listeners.push(listener);
  }

  async open(options: { baudRate: number }): Promise<void> {
    if (this.sim.vanished) throw new DOMException("The device has been lost.", "NetworkError");
    if (this.readable) throw new DOMException("The port is already open.", "InvalidStateError");
    this.baudRate = options.baudRate;
    this.opens++;
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.controller = undefined;
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.sim.vanished) throw new DOMException("The device has been lost.", "NetworkError");
        if (this.baudRate !== this.sim.baud) {
          this.garbled += chunk.length;
          return;
        }
        this.sim.receive(chunk.slice());
      },
    });
  }

  async close(): Promise<void> {
    try {
      this.controller?.close();
    } catch {
      // errored or cancelled
    }
    this.controller = undefined;
    this.readable = null;
    this.writable = null;
  }

  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.signals.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.signals.rts = signals.requestToSend;
    this.sim.setLines(this.signals.dtr, this.signals.rts);
  }

  async setBaudRate(baudRate: number): Promise<void> {
    this.baudRate = baudRate;
  }
}
