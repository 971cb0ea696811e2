/**
 * The device's offline queue for QoS 1 messages (telemetry, client attributes): bounded by count and by bytes,
 * kept in RAM across disconnects, oldest dropped first when full. A message stays in the queue until the server
 * acknowledged it (PUBACK), so a message in flight when the link broke is sent again on the next connection.
 *
 * Every message's fate is reported exactly once, to its own callback and to the queue's `onFate`:
 * - "acked":   the server sent PUBACK;
 * - "dropped": pushed out by newer messages while the queue was full (or larger than the whole queue);
 * - "failed":  the agent gave up on it (e.g. the MQTT layer refused it); `error` says why.
 *
 * Messages written and awaiting PUBACK ("in flight") are never dropped: dropping one could report "dropped" for a
 * message the server has already stored. When everything in the queue is in flight, a new message that does not
 * fit is itself dropped.
 */

import { utf8Length } from "../mqtt/utf8.js";

export type MessageFate = "acked" | "dropped" | "failed";

export type FateCallback = (fate: MessageFate, id: number, error?: Error) => void;

export interface QueuedMessage {
  /** 1, 2, 3, … in push order. */
  readonly id: number;
  readonly topic: string;
  readonly payload: string;
  /** Bytes counted against maxBytes: topic + payload, UTF-8. */
  readonly bytes: number;
  /** Written to the current connection and awaiting PUBACK. */
  inflight: boolean;
  /** Times written to a connection. */
  sends: number;
  readonly done: FateCallback | undefined;
}

export interface TelemetryQueueOptions {
  /** Most messages held (in flight included). Default 100. */
  maxMessages?: number;
  /** Most bytes held (topic + payload, in flight included). Default 32768. */
  maxBytes?: number;
  /** Called once per message with its fate, after the message's own callback. */
  onFate?: FateCallback;
}

export const DEFAULT_QUEUE_MAX_MESSAGES = 100;
export const DEFAULT_QUEUE_MAX_BYTES = 32768;

export interface QueueStats {
  pushed: number;
  acked: number;
  dropped: number;
  failed: number;
}

export class TelemetryQueue {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly stats: QueueStats = { pushed: 0, acked: 0, dropped: 0, failed: 0 };
  private readonly items: QueuedMessage[] = [];
  private totalBytes = 0;
  private nextId = 1;
  private readonly onFate: FateCallback | undefined;

  constructor(options: TelemetryQueueOptions = {}) {
    const maxMessages = options.maxMessages ?? DEFAULT_QUEUE_MAX_MESSAGES;
    const maxBytes = options.maxBytes ?? DEFAULT_QUEUE_MAX_BYTES;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1)) throw new RangeError("queue maxMessages must be an integer >= 1");
    if (!(Number.isInteger(maxBytes) && maxBytes >= 1)) throw new RangeError("queue maxBytes must be an integer >= 1");
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
    this.onFate = options.onFate;
  }

  /** Messages held (waiting or in flight). */
  get length(): number {
    return this.items.length;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Messages not yet written to the current connection, oldest first. */
  waiting(): QueuedMessage[] {
    const out: QueuedMessage[] = [];
    for (let i = 0; i < this.items.length; i++) if (!this.items[i].inflight) out.push(this.items[i]);
    return out;
  }

  /**
   * Adds a message; returns its id. Makes room by dropping the oldest messages not in flight; if that is not
   * enough, the new message is dropped instead (its fate is reported before push returns).
   */
  push(topic: string, payload: string, done?: FateCallback): number {
    const id = this.nextId++;
    const bytes = utf8Length(topic) + utf8Length(payload);
    const message: QueuedMessage = { id, topic, payload, bytes, inflight: false, sends: 0, done };
    this.stats.pushed++;
    if (bytes > this.maxBytes) {
      this.report(message, "dropped");
      return id;
    }
    while (this.items.length >= this.maxMessages || this.totalBytes + bytes > this.maxBytes) {
      const victim = this.oldestWaiting();
      if (victim < 0) {
        this.report(message, "dropped");
        return id;
      }
      const dropped = this.items.splice(victim, 1)[0];
      this.totalBytes -= dropped.bytes;
      this.report(dropped, "dropped");
    }
    this.items.push(message);
    this.totalBytes += bytes;
    return id;
  }

  /** The message was written to the connection. */
  markSent(message: QueuedMessage): void {
    message.inflight = true;
    message.sends++;
  }

  /** The server acknowledged it: removed and reported "acked". No-op for a message no longer held. */
  ack(message: QueuedMessage): void {
    if (this.remove(message)) this.report(message, "acked");
  }

  /** Given up on: removed and reported "failed". No-op for a message no longer held. */
  fail(message: QueuedMessage, error: Error): void {
    if (this.remove(message)) this.report(message, "failed", error);
  }

  /** The connection it was written to is gone without a PUBACK: it waits to be sent again, in its place. */
  requeue(message: QueuedMessage): void {
    message.inflight = false;
  }

  /** Every message in flight waits again (the connection ended). */
  requeueAll(): void {
    for (let i = 0; i < this.items.length; i++) this.items[i].inflight = false;
  }

  private oldestWaiting(): number {
    for (let i = 0; i < this.items.length; i++) if (!this.items[i].inflight) return i;
    return -1;
  }

  private remove(message: QueuedMessage): boolean {
    const i = this.items.indexOf(message);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.totalBytes -= message.bytes;
    return true;
  }

  private report(message: QueuedMessage, fate: MessageFate, error?: Error): void {
    this.stats[fate]++;
    try {
      message.done?.(fate, message.id, error);
    } finally {
      this.onFate?.(fate, message.id, error);
    }
  }
}
