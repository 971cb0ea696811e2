/**
 * MQTT 3.1.1 client session over a transport port: one instance is one connection (a reconnect is a new
 * instance, so no stale state survives a broken link). The codec (encode.ts, reader.ts) knows nothing of this
 * state machine, and this file knows nothing of sockets — coreMQTT's split.
 *
 * What it does:
 * - CONNECT with the CONNACK return code mapped to MqttConnectError; a connect timeout.
 * - Pipelining: SUBSCRIBE/PUBLISH queued before the transport opens leave in the same write as CONNECT;
 *   after CONNECT (before CONNACK) they are written at once, as MQTT 3.1.1 §3.1.4 allows.
 * - QoS 0/1 publish; each message's completion (written / PUBACKed / failed) is reported once.
 *   QoS 1 messages in flight are capped (maxInflight); later ones wait in order.
 * - SUBSCRIBE/UNSUBSCRIBE never block other traffic; their acks are matched by packet id.
 * - Keepalive: PINGREQ when nothing was sent or received for `keepalive` s; no packet from the server for
 *   1.5 × keepalive closes the session as "keepalive-timeout".
 * - One timer for all deadlines, re-armed lazily, so the hot path sets no timers.
 */

import { CONNACK_CODE_NAMES, DEFAULT_MAX_PACKET_SIZE, PacketType, PACKET_NAMES, SUBACK_FAILURE } from "./constants.js";
import { lengthFieldSize, remainingLength, writePacket } from "./encode.js";
import {
  CloseReason,
  MqttClosedError,
  MqttConnectError,
  MqttError,
  MqttProtocolError,
  MqttSubscribeError,
  MqttTimeoutError,
  MqttUsageError,
} from "./errors.js";
import type { Bytes, ConnackPacket, OutgoingPacket, Packet, PublishPacket, QoS, Subscription, Will } from "./packets.js";
import { PacketReader } from "./reader.js";
import type { Clock, TimerHandle, Transport, TransportCloseInfo, TransportConnector } from "../ports.js";
import type { Logger } from "../log.js";

export interface MqttClientOptions {
  connector: TransportConnector;
  clock: Clock;
  clientId: string;
  username?: string;
  password?: Bytes;
  /** Seconds; 0 disables keepalive. Default 60. */
  keepaliveSec?: number;
  /** Default true. */
  cleanSession?: boolean;
  will?: Will<Bytes>;
  /** Transport open + CONNACK must finish within this. Default 10000. */
  connectTimeoutMs?: number;
  /** PUBACK / SUBACK / UNSUBACK must arrive within this after the packet was written; 0 = no limit. Default 20000. */
  ackTimeoutMs?: number;
  /** Largest incoming packet accepted. Default 65536. */
  maxPacketSize?: number;
  /** QoS 1 publishes awaiting PUBACK at once; later ones wait in order. Default 16. */
  maxInflight?: number;
  /** Soft cap on bytes coalesced into one transport write. Default 8192. */
  maxWriteBytes?: number;
  log?: Logger;
  /** Incoming PUBLISH. For QoS 1 the PUBACK is sent after this returns. `payload` is a view: copy to keep it past the call if you mutate anything. */
  onMessage?: (message: PublishPacket) => void;
  /** The session ended (once). */
  onClose?: (error: MqttClosedError) => void;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}

/** Called once per operation: `error` null on success. */
export type Completion<T = void> = (error: MqttError | null, result?: T) => void;

export type ClientState = "idle" | "opening" | "awaiting-connack" | "connected" | "closed";

export interface ClientStats {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  writes: number;
  pingsSent: number;
}

interface Outgoing {
  packet: OutgoingPacket;
  remaining: number;
  done: Completion<unknown> | undefined;
}

interface Pending {
  ackType: number;
  deadline: number;
  done: Completion<unknown> | undefined;
  filters: string[] | undefined;
}

const NO_DEADLINE = Number.POSITIVE_INFINITY;

export class MqttClient {
  state: ClientState = "idle";
  readonly stats: ClientStats = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, writes: 0, pingsSent: 0 };

  private readonly options: MqttClientOptions;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly keepaliveMs: number;
  private readonly ackTimeoutMs: number;
  private readonly maxInflight: number;
  private readonly maxWriteBytes: number;
  private readonly reader: PacketReader;

  private transport: Transport | null = null;
  private out = new Uint8Array(0);
  private readonly queue: Outgoing[] = [];
  private readonly pending = new Map<number, Pending>();
  private inflightPublishes = 0;
  private nextPacketId = 1;
  private connectDone: Completion<ConnackPacket> | undefined;
  private connectDeadline = NO_DEADLINE;
  private lastSent = 0;
  private lastReceived = 0;
  private pingOutstanding = false;
  private timer: TimerHandle | null = null;
  private timerAt = NO_DEADLINE;
  private closeError: MqttClosedError | null = null;

  constructor(options: MqttClientOptions) {
    this.options = options;
    this.clock = options.clock;
    this.log = options.log;
    const keepalive = options.keepaliveSec ?? 60;
    if (!(keepalive >= 0 && keepalive <= 0xffff)) throw new MqttUsageError("invalid-keepalive", `keepaliveSec must be 0..65535, got ${keepalive}`);
    this.keepaliveMs = keepalive * 1000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 20_000;
    this.maxInflight = Math.max(1, options.maxInflight ?? 16);
    this.maxWriteBytes = options.maxWriteBytes ?? 8192;
    this.reader = new PacketReader((p) => this.onPacket(p), {
      maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
    });
  }

  /** The error the session closed with, once closed. */
  get closedWith(): MqttClosedError | null {
    return this.closeError;
  }

  /** QoS 1 publishes written and not yet acknowledged. */
  get inflight(): number {
    return this.inflightPublishes;
  }

  /** Packets accepted but not yet written (waiting for the transport or the in-flight window). */
  get queued(): number {
    return this.queue.length;
  }

  /** Opens the transport and sends CONNECT (followed by anything already queued), resolving on CONNACK 0. */
  connect(): Promise<ConnackPacket> {
    return new Promise((resolve, reject) => {
      this.connectWithCallback((err, connack) => (err ? reject(err) : resolve(connack as ConnackPacket)));
    });
  }

  connectWithCallback(done: Completion<ConnackPacket>): void {
    if (this.state !== "idle") throw new MqttUsageError("already-connected", `connect() called in state ${this.state}`);
    const o = this.options;
    const connect: OutgoingPacket = {
      type: PacketType.Connect,
      clientId: o.clientId,
      keepalive: this.keepaliveMs / 1000,
      cleanSession: o.cleanSession ?? true,
    };
    if (o.username !== undefined) connect.username = o.username;
    if (o.password !== undefined) connect.password = o.password;
    if (o.will !== undefined) connect.will = o.will;
    // Validate now so a bad client id or will fails here, not on the wire.
    this.queue.unshift({ packet: connect, remaining: remainingLength(connect), done: undefined });
    this.connectDone = done;
    this.state = "opening";
    this.connectDeadline = this.clock.now() + (o.connectTimeoutMs ?? 10_000);
    this.armTimer(this.connectDeadline);
    try {
      this.transport = o.connector({
        onOpen: () => this.onTransportOpen(),
        onData: (chunk) => this.onTransportData(chunk),
        onClose: (info) => this.onTransportClose(info),
      });
    } catch (e) {
      // A host that cannot even start connecting (bad address, no sockets left) reports like any other failure.
      this.fail("transport-error", `could not connect: ${(e as Error)?.message ?? e}`, e);
    }
  }

  /** Publishes; resolves when written (QoS 0) or acknowledged (QoS 1). */
  publish(topic: string, payload: Bytes, options: PublishOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.publishWithCallback(topic, payload, options, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Like publish() without a Promise: the lighter path for firmware hot loops. Throws only on invalid arguments. */
  publishWithCallback(topic: string, payload: Bytes, options: PublishOptions, done?: Completion): void {
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1) throw new MqttUsageError("unsupported-qos", `QoS ${qos} is not supported (0 or 1)`);
    const packet: PublishPacket<Bytes> = {
      type: PacketType.Publish,
      topic,
      payload,
      qos,
      retain: options.retain === true,
      dup: false,
    };
    if (qos === 1) packet.packetId = 1; // placeholder for validation; the real id is taken when written
    this.enqueue(packet, done as Completion<unknown> | undefined);
  }

  /** Subscribes; resolves with the granted QoS per filter, rejects with MqttSubscribeError if any was refused. */
  subscribe(filters: string | Subscription[], qos: 0 | 1 = 1): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.subscribeWithCallback(filters, qos, (err, granted) => (err ? reject(err) : resolve(granted as number[])));
    });
  }

  subscribeWithCallback(filters: string | Subscription[], qos: 0 | 1, done?: Completion<number[]>): void {
    const subscriptions = typeof filters === "string" ? [{ topic: filters, qos: qos as QoS }] : filters;
    for (let i = 0; i < subscriptions.length; i++) {
      if (subscriptions[i].qos === 2) throw new MqttUsageError("unsupported-qos", "QoS 2 subscriptions are not supported");
    }
    this.enqueue({ type: PacketType.Subscribe, packetId: 1, subscriptions }, done as Completion<unknown> | undefined);
  }

  unsubscribe(filters: string | string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const topics = typeof filters === "string" ? [filters] : filters;
      this.enqueue({ type: PacketType.Unsubscribe, packetId: 1, topics }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends DISCONNECT (if connected) and closes. Pending operations fail with reason "client-close". */
  close(): void {
    if (this.state === "closed") return;
    if (this.transport && (this.state === "connected" || this.state === "awaiting-connack")) {
      this.writeNow([{ packet: { type: PacketType.Disconnect }, remaining: 0, done: undefined }]);
    }
    this.fail("client-close", "closed by client");
  }

  // ---- outgoing -------------------------------------------------------------------------------------

  private enqueue(packet: OutgoingPacket, done: Completion<unknown> | undefined): void {
    if (this.state === "closed") {
      throw new MqttUsageError("closed", `session is closed (${this.closeError?.reason ?? "unknown"})`);
    }
    this.queue.push({ packet, remaining: remainingLength(packet), done });
    this.flush();
  }

  /** Writes queued packets, as many per write as the in-flight window and maxWriteBytes allow. */
  private flush(): void {
    if (this.state !== "connected" && this.state !== "awaiting-connack") return;
    while (this.queue.length > 0) {
      let count = 0;
      let bytes = 0;
      let publishes = this.inflightPublishes;
      for (; count < this.queue.length; count++) {
        const item = this.queue[count];
        const p = item.packet;
        if (p.type === PacketType.Publish && p.qos === 1) {
          if (publishes >= this.maxInflight) break;
          publishes++;
        }
        const size = 1 + lengthFieldSize(item.remaining) + item.remaining;
        if (count > 0 && bytes + size > this.maxWriteBytes) break;
        bytes += size;
      }
      if (count === 0) return;
      this.writeNow(this.queue.splice(0, count), bytes);
    }
  }

  /** Encodes `items` into one buffer, writes it, and registers what now awaits an ack. */
  private writeNow(items: Outgoing[], bytes = -1): void {
    if (bytes < 0) {
      bytes = 0;
      for (let i = 0; i < items.length; i++) bytes += 1 + lengthFieldSize(items[i].remaining) + items[i].remaining;
    }
    const now = this.clock.now();
    const deadline = this.ackTimeoutMs > 0 ? now + this.ackTimeoutMs : NO_DEADLINE;
    const buf = this.outputBuffer(bytes);
    let offset = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const p = item.packet;
      let ackType = 0;
      let filters: string[] | undefined;
      if (p.type === PacketType.Publish) {
        if (p.qos === 1) {
          p.packetId = this.takePacketId();
          ackType = PacketType.Puback;
          this.inflightPublishes++;
        }
      } else if (p.type === PacketType.Subscribe) {
        p.packetId = this.takePacketId();
        ackType = PacketType.Suback;
        filters = p.subscriptions.map((s) => s.topic);
      } else if (p.type === PacketType.Unsubscribe) {
        p.packetId = this.takePacketId();
        ackType = PacketType.Unsuback;
      }
      offset = writePacket(p, item.remaining, buf, offset);
      if (ackType !== 0) {
        this.pending.set((p as { packetId: number }).packetId, { ackType, deadline, done: item.done, filters });
      }
      if (this.log && this.log.enabled("D")) this.log.debug(`-> ${describe(p)}`);
    }
    (this.transport as Transport).write(buf.length === bytes ? buf : buf.subarray(0, bytes));
    this.lastSent = now;
    this.stats.bytesSent += bytes;
    this.stats.packetsSent += items.length;
    this.stats.writes++;
    // QoS 0 publishes (and packets without acks) are complete once handed to the transport.
    for (let i = 0; i < items.length; i++) {
      const p = items[i].packet;
      if (p.type === PacketType.Publish && p.qos === 0 && items[i].done) (items[i].done as Completion<unknown>)(null);
    }
    if (deadline !== NO_DEADLINE && this.pending.size > 0) this.armTimer(deadline);
  }

  /**
   * The reusable wire buffer (transports copy what they keep: see Transport.write), grown in powers of two
   * up to maxWriteBytes. A larger single packet gets a one-off buffer, so a rare big message does not pin
   * its size in RAM for the life of the connection.
   */
  private outputBuffer(bytes: number): Uint8Array {
    if (bytes <= this.out.length) return this.out;
    if (bytes > this.maxWriteBytes) return new Uint8Array(bytes);
    let size = this.out.length || 128;
    while (size < bytes) size *= 2;
    this.out = new Uint8Array(size < this.maxWriteBytes ? size : this.maxWriteBytes);
    return this.out;
  }

  private takePacketId(): number {
    if (this.pending.size >= 0xffff) throw new MqttUsageError("no-packet-id", "all 65535 packet ids are in use");
    let id = this.nextPacketId;
    while (this.pending.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.nextPacketId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  // ---- transport events -----------------------------------------------------------------------------

  private onTransportOpen(): void {
    if (this.state !== "opening") return;
    this.state = "awaiting-connack";
    this.lastReceived = this.clock.now();
    this.log?.debug("transport open, sending CONNECT");
    this.flush();
  }

  private onTransportData(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    this.stats.bytesReceived += chunk.length;
    try {
      this.reader.feed(chunk);
    } catch (e) {
      if (e instanceof MqttProtocolError) this.fail("protocol-error", `protocol error from server: ${e.message}`, e);
      else throw e;
    }
  }

  private onTransportClose(info: TransportCloseInfo): void {
    if (this.state === "closed") return;
    const where = this.state === "opening" ? "could not connect" : "connection lost";
    if (info.kind === "error") this.fail("transport-error", `${where}: ${info.message ?? "transport error"}`);
    else this.fail("transport-closed", `${where}: closed by server${info.message ? ` (${info.message})` : ""}`);
  }

  // ---- incoming -------------------------------------------------------------------------------------

  private onPacket(p: Packet): void {
    this.stats.packetsReceived++;
    this.lastReceived = this.clock.now();
    if (this.log && this.log.enabled("D")) this.log.debug(`<- ${describe(p)}`);
    if (this.state === "awaiting-connack" && p.type !== PacketType.Connack) {
      return this.protocolViolation(`${PACKET_NAMES[p.type]} before CONNACK`);
    }
    switch (p.type) {
      case PacketType.Connack:
        return this.onConnack(p);
      case PacketType.Publish:
        return this.onPublish(p);
      case PacketType.Puback:
      case PacketType.Unsuback:
        return this.settle(p.type, p.packetId, undefined);
      case PacketType.Suback:
        return this.settle(p.type, p.packetId, p.granted);
      case PacketType.Pingresp:
        this.pingOutstanding = false;
        return;
      default:
        return this.protocolViolation(`unexpected ${PACKET_NAMES[p.type]} from server`);
    }
  }

  private onConnack(p: ConnackPacket): void {
    if (this.state !== "awaiting-connack") return this.protocolViolation("second CONNACK");
    if (p.returnCode !== 0) {
      const refusal = new MqttConnectError(p.returnCode);
      this.fail("connect-refused", refusal.message, refusal);
      return;
    }
    this.state = "connected";
    this.connectDeadline = NO_DEADLINE;
    this.log?.debug(`connected (session present: ${p.sessionPresent})`);
    // The connect deadline is gone: re-arm for keepalive and any pipelined acks only.
    this.cancelTimer();
    const next = Math.min(this.keepaliveMs > 0 ? this.clock.now() + this.keepaliveMs : NO_DEADLINE, this.earliestAckDeadline());
    if (next !== NO_DEADLINE) this.armTimer(next);
    const done = this.connectDone;
    this.connectDone = undefined;
    if (done) done(null, p);
  }

  private onPublish(p: PublishPacket): void {
    if (p.qos === 2) return this.protocolViolation("QoS 2 PUBLISH (never subscribed at QoS 2)");
    const handler = this.options.onMessage;
    if (handler) {
      try {
        handler(p);
      } catch (e) {
        this.log?.error(`message handler threw on ${p.topic}: ${(e as Error)?.message ?? e}`);
      }
    }
    if (p.qos === 1 && this.state !== "closed") {
      this.writeNow([{ packet: { type: PacketType.Puback, packetId: p.packetId as number }, remaining: 2, done: undefined }]);
    }
  }

  private settle(ackType: number, packetId: number, granted: number[] | undefined): void {
    const entry = this.pending.get(packetId);
    if (!entry || entry.ackType !== ackType) {
      // Late ack after our timeout, or a confused server: harmless, but worth a line.
      this.log?.warn(`${PACKET_NAMES[ackType]} for unknown packet id ${packetId}`);
      return;
    }
    this.pending.delete(packetId);
    if (ackType === PacketType.Puback) {
      this.inflightPublishes--;
      this.flush();
    }
    if (!entry.done) return;
    if (ackType === PacketType.Suback) {
      const filters = entry.filters as string[];
      const codes = granted as number[];
      if (codes.length !== filters.length) {
        entry.done(new MqttProtocolError("unexpected-length", `SUBACK has ${codes.length} codes for ${filters.length} filters`));
        return;
      }
      const refused: string[] = [];
      for (let i = 0; i < codes.length; i++) if (codes[i] === SUBACK_FAILURE) refused.push(filters[i]);
      entry.done(refused.length > 0 ? new MqttSubscribeError(refused, codes) : null, codes);
      return;
    }
    entry.done(null);
  }

  private protocolViolation(message: string): void {
    this.fail("protocol-error", `protocol error from server: ${message}`, new MqttProtocolError("unexpected-packet", message));
  }

  // ---- deadlines ------------------------------------------------------------------------------------

  /** Ensures the timer fires no later than `at`. Later deadlines are found when it fires. */
  private armTimer(at: number): void {
    if (at >= this.timerAt || this.state === "closed") return;
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimer(() => this.onTimer(), Math.max(0, at - this.clock.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = NO_DEADLINE;
    if (this.state === "closed") return;
    const now = this.clock.now();
    if (now >= this.connectDeadline) {
      this.fail("connect-timeout", `no CONNACK within ${this.options.connectTimeoutMs ?? 10_000} ms`);
      return;
    }
    let next = this.connectDeadline;
    if (this.state === "connected" && this.keepaliveMs > 0) {
      const silentFor = now - this.lastReceived;
      if (silentFor >= this.keepaliveMs * 1.5) {
        this.fail("keepalive-timeout", `no packet from server for ${silentFor} ms (keepalive ${this.keepaliveMs / 1000} s)`);
        return;
      }
      if (!this.pingOutstanding && (now - this.lastSent >= this.keepaliveMs || silentFor >= this.keepaliveMs)) {
        this.pingOutstanding = true;
        this.stats.pingsSent++;
        this.writeNow([{ packet: { type: PacketType.Pingreq }, remaining: 0, done: undefined }]);
      }
      const dead = this.lastReceived + this.keepaliveMs * 1.5;
      const ping = this.pingOutstanding ? dead : Math.min(this.lastSent, this.lastReceived) + this.keepaliveMs;
      next = Math.min(next, dead, ping);
    }
    next = Math.min(next, this.expireAcks(now));
    if (next !== NO_DEADLINE) this.armTimer(next);
  }

  private earliestAckDeadline(): number {
    let earliest = NO_DEADLINE;
    for (const entry of this.pending.values()) if (entry.deadline < earliest) earliest = entry.deadline;
    return earliest;
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = NO_DEADLINE;
  }

  /** Fails operations whose ack is overdue; returns the earliest deadline still pending. */
  private expireAcks(now: number): number {
    let earliest = NO_DEADLINE;
    let freed = false;
    for (const [id, entry] of this.pending) {
      if (entry.deadline > now) {
        if (entry.deadline < earliest) earliest = entry.deadline;
        continue;
      }
      this.pending.delete(id);
      if (entry.ackType === PacketType.Puback) {
        this.inflightPublishes--;
        freed = true;
      }
      entry.done?.(new MqttTimeoutError(PACKET_NAMES[entry.ackType], this.ackTimeoutMs));
    }
    if (freed) this.flush();
    return earliest;
  }

  // ---- ending ---------------------------------------------------------------------------------------

  private fail(reason: CloseReason, message: string, cause?: unknown): void {
    if (this.state === "closed") return;
    const wasConnected = this.state === "connected";
    this.state = "closed";
    const error = new MqttClosedError(reason, message, cause);
    this.closeError = error;
    this.cancelTimer();
    this.reader.reset();
    const transport = this.transport;
    this.transport = null;
    if (transport) transport.close();
    if (reason !== "client-close") {
      const line = `${wasConnected ? "connection closed" : "connect failed"}: ${message}`;
      if (reason === "connect-refused" || reason === "protocol-error") this.log?.error(line);
      else this.log?.warn(line);
    } else this.log?.debug("closed by client");
    const connectDone = this.connectDone;
    this.connectDone = undefined;
    if (connectDone) connectDone(cause instanceof MqttConnectError ? cause : error);
    const pending = Array.from(this.pending.values());
    this.pending.clear();
    this.inflightPublishes = 0;
    const queued = this.queue.splice(0, this.queue.length);
    for (let i = 0; i < pending.length; i++) pending[i].done?.(error);
    for (let i = 0; i < queued.length; i++) queued[i].done?.(error);
    this.options.onClose?.(error);
  }
}

/** One-line packet summary for debug logs: names, topics and sizes only — never credentials or payloads. */
function describe(p: OutgoingPacket | Packet): string {
  switch (p.type) {
    case PacketType.Connect:
      return `CONNECT client_id=${p.clientId} keepalive=${p.keepalive} clean=${p.cleanSession}` +
        `${p.username !== undefined ? " username=[redacted]" : ""}${p.password !== undefined ? " password=[redacted]" : ""}`;
    case PacketType.Connack:
      return `CONNACK rc=${p.returnCode} (${CONNACK_CODE_NAMES[p.returnCode] ?? "unknown"})`;
    case PacketType.Publish:
      return `PUBLISH ${p.topic} qos=${p.qos}${p.packetId !== undefined ? ` id=${p.packetId}` : ""}${p.retain ? " retain" : ""} (${p.payload.length} ${typeof p.payload === "string" ? "chars" : "bytes"})`;
    case PacketType.Subscribe:
      return `SUBSCRIBE id=${p.packetId} ${p.subscriptions.map((s) => `${s.topic}@${s.qos}`).join(",")}`;
    case PacketType.Suback:
      return `SUBACK id=${p.packetId} granted=${p.granted.join(",")}`;
    case PacketType.Unsubscribe:
      return `UNSUBSCRIBE id=${p.packetId} ${p.topics.join(",")}`;
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
    case PacketType.Unsuback:
      return `${PACKET_NAMES[p.type]} id=${p.packetId}`;
    default:
      return PACKET_NAMES[p.type];
  }
}
