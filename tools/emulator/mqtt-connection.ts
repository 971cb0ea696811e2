/**
 * What the emulator knows about one MQTT connection, from TCP accept to close. The aedes client object is kept
 * behind `publish` and `close` so the handlers never touch aedes directly.
 */
import type * as net from "node:net";
import type { X509Certificate } from "node:crypto";
import type { Client as AedesClient, PublishPacket } from "aedes";
import type { ConnectCredentials } from "./mqtt-auth.js";
import type { DeviceConnection } from "./mqtt-device-sessions.js";
import type { Qos } from "./mqtt-topics.js";

export type Transport = "mqtt" | "mqtts";

export class MqttConnection implements DeviceConnection {
  /** "connecting" until CONNECT has been authenticated. */
  kind: "connecting" | "provision" | "device" = "connecting";
  /** From the CONNECT packet; cleared once authentication is done, so secrets do not linger. */
  credentials: ConnectCredentials | undefined;
  /** Set by the first CONNECT. */
  connectSeen = false;
  /** The client id the device sent (aedes sees a unique internal one instead). */
  clientId = "";
  deviceId = "";
  deviceName = "";
  readonly subscriptions = new Map<string, Qos>();
  /** Why the connection ended, for the "disconnected" event. */
  closeReason = "connection closed";
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly serial: number,
    readonly transport: Transport,
    readonly socket: net.Socket,
    private readonly client: AedesClient,
    /** The TLS client certificate, when one was presented. */
    readonly peerCertificate: X509Certificate | undefined,
  ) {}

  /** aedes' client id for this connection: unique, so two devices sharing an MQTT client id never evict each other. */
  get internalClientId(): string {
    return `tb-emulator-session-${this.serial}`;
  }

  publish(topic: string, payload: string | Uint8Array, qos: Qos): Promise<void> {
    const packet: PublishPacket = {
      cmd: "publish",
      topic,
      payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload),
      qos,
      retain: false,
      dup: false,
    };
    return new Promise((resolve, reject) => {
      if (this.client.closed) return reject(new Error("connection closed"));
      this.client.publish(packet, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** True once the socket is gone or going: later packets of the same read must be ignored. */
  get closed(): boolean {
    return this.socket.destroyed;
  }

  /** Closes the connection without any further packet (MQTT 3.1.1 has no DISCONNECT from the server). */
  close(reason: string): void {
    this.closeReason = reason;
    this.socket.destroy();
  }

  /** Runs `fn` after `ms` unless the connection closes first. */
  schedule(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
