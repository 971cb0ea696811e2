/** In-memory ports for core tests: a manual clock and a transport whose far end the test drives. */
import type { Clock, LogLevel, LogSink, TimerHandle, Transport, TransportCloseInfo, TransportConnector, TransportEvents } from "../../../src/ports.js";

export interface ManualTimer {
  id: number;
  at: number;
  callback: () => void;
}

/** Time moves only when the test says so; timers fire in order during advance(). */
export class ManualClock implements Clock {
  private t = 1000;
  private seq = 0;
  private timers: ManualTimer[] = [];

  now(): number {
    return this.t;
  }
  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id;
  }
  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const target = this.t + ms;
    for (let due = this.takeDue(target); due; due = this.takeDue(target)) due.callback();
    this.t = target;
  }

  /** Removes the earliest timer due by `target` and moves time to it; undefined when none is due. */
  protected takeDue(target: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
    if (!next) return undefined;
    const due = next;
    this.timers = this.timers.filter((t) => t !== due);
    this.t = due.at;
    return due;
  }

  protected setNow(t: number): void {
    this.t = t;
  }
}

/** The far end of an in-memory transport: the test opens it, reads what the client wrote, and answers. */
export class MemoryLink {
  readonly writes: Uint8Array[] = [];
  /** The backing buffer of every chunk the client lent us, to see whether it reuses one. */
  readonly lent: ArrayBufferLike[] = [];
  events: TransportEvents | null = null;
  closedByClient = false;
  private closed = false;
  private opened = false;
  connects = 0;

  readonly connector: TransportConnector = (events) => {
    this.events = events;
    this.connects++;
    const transport: Transport = {
      write: (chunk) => {
        if (!this.opened) throw new Error("write before open");
        if (this.closed) return;
        this.lent.push(chunk.buffer);
        const copy = chunk.slice(); // the chunk is only lent (see Transport.write)
        this.writes.push(copy);
        this.onClientWrite?.(copy);
      },
      close: () => {
        if (this.closed) return;
        this.closed = true;
        this.closedByClient = true;
        events.onClose({ kind: "local" });
      },
    };
    return transport;
  };

  /** Called on every client write (e.g. to feed a fake broker). */
  onClientWrite: ((chunk: Uint8Array) => void) | null = null;

  open(): void {
    this.opened = true;
    this.events?.onOpen();
  }
  send(bytes: Uint8Array): void {
    if (!this.closed) this.events?.onData(bytes);
  }
  serverClose(info: TransportCloseInfo = { kind: "closed" }): void {
    if (this.closed) return;
    this.closed = true;
    this.events?.onClose(info);
  }
  get isClosed(): boolean {
    return this.closed;
  }
  /** Everything the client wrote, concatenated. */
  written(): Uint8Array {
    let n = 0;
    for (const w of this.writes) n += w.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const w of this.writes) {
      out.set(w, o);
      o += w.length;
    }
    return out;
  }
}

export class MemorySink implements LogSink {
  readonly lines: string[] = [];
  write(_level: LogLevel, line: string): void {
    this.lines.push(line);
  }
}

/** Lets promise callbacks run (microtasks only: works the same on Node and XS). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
