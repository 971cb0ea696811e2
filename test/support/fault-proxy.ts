/**
 * A fault-injecting TCP proxy for MQTT tests: it sits in front of a broker's port, splits each direction into
 * whole MQTT packets (fixed header + Remaining Length), and can
 * - cut the connection right after the k-th packet in one direction (counted over every connection since the
 *   cut was armed; one-shot: later connections pass untouched). The k-th packet is delivered, everything after it
 *   in that direction is dropped, the receiving side gets a FIN (so it still processes the packet) and the
 *   sending side is reset;
 * - delay every packet of a direction by a fixed time (order is kept).
 * "up" = client → broker, "down" = broker → client.
 */
import * as net from "node:net";

export type Direction = "up" | "down";

export interface FaultProxyOptions {
  target: { host: string; port: number };
  /** Fixed delay per packet and direction, ms. */
  delayMs?: Partial<Record<Direction, number>>;
}

export interface PacketRecord {
  connection: number;
  direction: Direction;
  /** MQTT control packet type (1 CONNECT … 14 DISCONNECT). */
  type: number;
  bytes: number;
}

export const PACKET_NAMES = ["?", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
  "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"];

/**
 * Splits the front of `buffer` into whole MQTT packets. Returns the packets and the unconsumed rest.
 * Throws on a Remaining Length longer than 4 bytes (not MQTT).
 */
export function splitPackets(buffer: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    let length = 0;
    let multiplier = 1;
    let i = offset + 1;
    let complete = false;
    for (let n = 0; n < 4; n++, i++) {
      if (i >= buffer.length) break;
      const b = buffer[i];
      length += (b & 0x7f) * multiplier;
      multiplier *= 128;
      if ((b & 0x80) === 0) {
        complete = true;
        i++;
        break;
      }
      if (n === 3) throw new Error("malformed MQTT Remaining Length");
    }
    if (!complete) break;
    const end = i + length;
    if (end > buffer.length) break;
    packets.push(buffer.subarray(offset, end));
    offset = end;
  }
  return { packets, rest: buffer.subarray(offset) };
}

export class FaultProxy {
  port = 0;
  /** Every packet forwarded, in order. */
  readonly packets: PacketRecord[] = [];
  /** Cuts made so far. */
  cuts = 0;
  private server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private connections = 0;
  private cut: { direction: Direction; after: number; seen: number; firstConnection: number; beforeType?: number } | undefined;
  private readonly options: FaultProxyOptions;

  private constructor(options: FaultProxyOptions) {
    this.options = options;
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once("error", reject);
      proxy.server.listen(0, "127.0.0.1", () => resolve());
    });
    proxy.port = (proxy.server.address() as net.AddressInfo).port;
    return proxy;
  }

  /**
   * Arms a one-shot cut right after the k-th packet (1-based) going `direction`, counted over connections accepted
   * from now on (packets still in flight on older connections, such as a DISCONNECT, do not count).
   */
  cutAfter(direction: Direction, k: number): void {
    if (!Number.isInteger(k) || k < 1) throw new RangeError("cutAfter takes a packet number from 1");
    this.cut = { direction, after: k, seen: 0, firstConnection: this.connections + 1 };
  }

  /**
   * Arms a one-shot cut right BEFORE the first packet of MQTT type `type` (e.g. 3 PUBLISH) going `direction` on a
   * connection accepted from now on: that packet and everything after it are dropped, the receiver gets end of
   * stream. Down + PUBLISH loses a provision response the server has already acted on.
   */
  cutBefore(direction: Direction, type: number): void {
    this.cut = { direction, after: Infinity, seen: 0, firstConnection: this.connections + 1, beforeType: type };
  }

  /** True while an armed cut has not happened yet. */
  get armed(): boolean {
    return this.cut !== undefined;
  }

  /** Packet names seen in a direction, e.g. ["CONNECT", "SUBSCRIBE", …]. */
  names(direction: Direction): string[] {
    return this.packets.filter((p) => p.direction === direction).map((p) => PACKET_NAMES[p.type] ?? String(p.type));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const id = ++this.connections;
    const upstream = net.connect({ host: this.options.target.host, port: this.options.target.port });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let dead = false;
    const kill = () => {
      if (dead) return;
      dead = true;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on("error", kill);
      s.on("close", () => {
        this.sockets.delete(s);
        // Give the other side's pending delayed packets a moment, then close it too.
        setTimeout(kill, this.maxDelay() + 50);
      });
    }
    this.pipe(id, "up", client, upstream, () => dead, kill);
    this.pipe(id, "down", upstream, client, () => dead, kill);
  }

  private maxDelay(): number {
    return Math.max(this.options.delayMs?.up ?? 0, this.options.delayMs?.down ?? 0);
  }

  private pipe(id: number, direction: Direction, from: net.Socket, to: net.Socket, isDead: () => boolean, kill: () => void): void {
    let pending: Buffer = Buffer.alloc(0);
    let stopped = false;
    const delay = this.options.delayMs?.[direction] ?? 0;
    from.on("data", (chunk: Buffer) => {
      if (stopped) return;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let split;
      try {
        split = splitPackets(pending);
      } catch {
        kill();
        return;
      }
      pending = Buffer.from(split.rest);
      for (const packet of split.packets) {
        if (stopped) return;
        const copy = Buffer.from(packet);
        const cut = this.cut;
        if (cut && cut.beforeType === copy[0] >> 4 && cut.direction === direction && id >= cut.firstConnection) {
          this.cut = undefined;
          this.cuts++;
          stopped = true;
          const drop = () => {
            if (isDead()) return;
            to.end();
            from.destroy();
          };
          if (delay > 0) setTimeout(drop, delay);
          else drop();
          return;
        }
        this.packets.push({ connection: id, direction, type: copy[0] >> 4, bytes: copy.length });
        let cutHere = false;
        if (cut && cut.direction === direction && id >= cut.firstConnection && ++cut.seen >= cut.after) {
          this.cut = undefined;
          this.cuts++;
          cutHere = true;
          stopped = true;
        }
        const deliver = () => {
          if (isDead()) return;
          to.write(copy);
          if (cutHere) {
            // The receiver gets the packet and then end of stream; the sender is reset.
            to.end();
            from.destroy();
          }
        };
        if (delay > 0) setTimeout(deliver, delay);
        else deliver();
      }
    });
    from.on("end", () => {
      setTimeout(() => {
        if (!isDead()) to.end();
      }, delay);
    });
  }
}
