/**
 * A scripted ThingsBoard for the device agent's core tests: every connection the agent opens is a MemoryLink
 * whose far end this server drives. It answers provisioning like ThingsBoard (../shared/thingsboard-device-api.md
 * §1: provision session on user name "provision", PUBACK then the response PUBLISH at QoS 1, the decision table
 * for ALLOW_CREATE / CHECK_PRE, legacy or strict second requests), authenticates access tokens on CONNECT
 * (CONNACK 5 otherwise) and PUBACKs telemetry. Replies go out on a microtask, as from a real socket, so tests
 * `await settle()` to let them arrive. Knobs let a test lose a response, withhold SUBACK or PUBACKs, cut links.
 */
import { PacketType } from "../../../src/mqtt/constants.js";
import { encodePacket } from "../../../src/mqtt/encode.js";
import type { OutgoingPacket, Packet } from "../../../src/mqtt/packets.js";
import { PacketReader } from "../../../src/mqtt/reader.js";
import { readUtf8 } from "../../../src/mqtt/utf8.js";
import type { TransportConnector } from "../../../src/ports.js";
import type { DeviceCredentials } from "../../../src/credentials/record.js";
import { MemoryLink } from "./memory-ports.js";

export interface ServerDevice {
  name: string;
  /** ACCESS_TOKEN credentials ("" for a device with other credentials). */
  token: string;
  /** MQTT_BASIC credentials, when the device has those. */
  basic?: { clientId?: string; username?: string; password?: string };
  /** X509_CERTIFICATE: the PEM the device presents in the TLS handshake. */
  certificatePem?: string;
  /** CHECK_PRE: "provisioned" after a request. */
  provisionState?: string;
}

export interface Connection {
  link: MemoryLink;
  /** Packets the client wrote, decoded, in order. */
  received: Packet[];
  /** Packets in each client write (to check what left in one write). */
  writeSizes: number[];
  kind: "new" | "provision" | "device" | "refused";
  /** The link was cut by fault injection: nothing more passes either way. */
  cut: boolean;
  device?: ServerDevice;
  credentials: DeviceCredentials | undefined;
}

export interface DeviceServerOptions {
  provisionKey?: string;
  provisionSecret?: string;
  strategy?: "ALLOW_CREATE_NEW_DEVICES" | "CHECK_PRE_PROVISIONED_DEVICES" | "DISABLED";
  /** CHECK_PRE second request: legacy answers SUCCESS again, strict (4.2.1.1+) FAILURE. Default strict. */
  reprovision?: "legacy" | "strict";
  /** Answer SUBSCRIBE in provision sessions (servers >= 3.9). Default true. */
  provisionSuback?: boolean;
}

export class DeviceServer {
  readonly devices = new Map<string, ServerDevice>();
  readonly connections: Connection[] = [];
  /** Every provision request payload (JSON text) received. */
  readonly provisionRequests: string[] = [];
  /** Telemetry and attribute publishes accepted: device name, topic, payload. */
  readonly published: { device: string; topic: string; payload: string }[] = [];
  options: Required<DeviceServerOptions>;
  /** > 0: act on the next provision requests but cut the link instead of answering. */
  loseProvisionResponses = 0;
  /** Do not answer provision requests at all (no PUBACK, no response). */
  silentProvision = false;
  /** Do not PUBACK device publishes (they are still recorded). */
  holdPubacks = false;
  /** Replaces the body of the next provision response (hostile-server tests). */
  responseOverride: string | undefined;
  /**
   * Fault injection at packet boundaries, counted over all connections: cut the link right after the server
   * processed the n-th packet from the device (its replies to it are lost), or right after it sent its n-th
   * packet. 0 = off. `cuts` counts cuts made.
   */
  cutAfterClientPacket = 0;
  cutAfterServerPacket = 0;
  cuts = 0;
  private clientPackets = 0;
  private serverPackets = 0;
  /** Refuse the transport (onClose error) for the next n connections. */
  refuseConnections = 0;
  private serial = 0;

  constructor(options: DeviceServerOptions = {}) {
    this.options = {
      provisionKey: options.provisionKey ?? "prov-key-123",
      provisionSecret: options.provisionSecret ?? "prov-secret-456",
      strategy: options.strategy ?? "ALLOW_CREATE_NEW_DEVICES",
      reprovision: options.reprovision ?? "strict",
      provisionSuback: options.provisionSuback ?? true,
    };
  }

  /** The agent's ConnectorFactory. */
  readonly connect = (_endpoint: { host: string; port: number }, credentials: DeviceCredentials | undefined): TransportConnector => {
    const link = new MemoryLink();
    const conn: Connection = { link, received: [], writeSizes: [], kind: "new", cut: false, credentials };
    this.connections.push(conn);
    const reader = new PacketReader((p) => {
      if (conn.cut) return; // never arrived
      conn.received.push(p);
      this.onPacket(conn, p);
      if (++this.clientPackets === this.cutAfterClientPacket) this.cut(conn);
    });
    link.onClientWrite = (chunk) => {
      const before = conn.received.length;
      reader.feed(chunk);
      conn.writeSizes.push(conn.received.length - before);
    };
    return (events) => {
      const transport = link.connector(events);
      if (this.refuseConnections > 0) {
        this.refuseConnections--;
        later(() => link.serverClose({ kind: "error", message: "connection refused" }));
      } else later(() => link.open());
      return transport;
    };
  };

  get provisionConnections(): Connection[] {
    return this.connections.filter((c) => c.kind === "provision");
  }

  /** The connection most recently opened. */
  get last(): Connection {
    return this.connections[this.connections.length - 1];
  }

  /** Cuts every open link (as a network loss would). */
  cutAll(): void {
    for (const c of this.connections) c.link.serverClose({ kind: "error", message: "network down" });
  }

  addDevice(name: string, token: string): ServerDevice {
    const d: ServerDevice = { name, token };
    this.devices.set(name, d);
    return d;
  }

  private send(conn: Connection, p: OutgoingPacket): void {
    if (conn.cut) return;
    const bytes = encodePacket(p);
    later(() => conn.link.send(bytes));
    if (++this.serverPackets === this.cutAfterServerPacket) this.cut(conn);
  }

  private cut(conn: Connection): void {
    conn.cut = true;
    this.cuts++;
    later(() => conn.link.serverClose({ kind: "error", message: "connection cut (fault injection)" }));
  }

  private onPacket(conn: Connection, p: Packet): void {
    switch (p.type) {
      case PacketType.Connect: {
        if (p.username === "provision" || p.clientId === "provision") {
          conn.kind = "provision";
          this.send(conn, { type: PacketType.Connack, sessionPresent: false, returnCode: 0 });
          return;
        }
        const device = this.authenticate(conn, p.clientId, p.username, p.password ? readUtf8(p.password, 0, p.password.length) : undefined);
        if (!device) {
          conn.kind = "refused";
          this.send(conn, { type: PacketType.Connack, sessionPresent: false, returnCode: 5 });
          later(() => conn.link.serverClose());
          return;
        }
        conn.kind = "device";
        conn.device = device;
        this.send(conn, { type: PacketType.Connack, sessionPresent: false, returnCode: 0 });
        return;
      }
      case PacketType.Subscribe:
        if (conn.kind === "provision" && !this.options.provisionSuback) return;
        this.send(conn, {
          type: PacketType.Suback,
          packetId: p.packetId,
          granted: p.subscriptions.map((s) => (conn.kind !== "provision" || s.topic === "/provision/response" ? Math.min(s.qos, 1) : 0x80)),
        });
        return;
      case PacketType.Publish: {
        const text = readUtf8(p.payload, 0, p.payload.length);
        if (conn.kind === "provision") {
          if (p.topic !== "/provision/request") return conn.link.serverClose();
          this.provisionRequests.push(text);
          if (this.silentProvision) return;
          let response = this.provision(text);
          if (this.responseOverride !== undefined) {
            response = this.responseOverride;
            this.responseOverride = undefined;
          }
          if (this.loseProvisionResponses > 0) {
            this.loseProvisionResponses--;
            later(() => conn.link.serverClose({ kind: "error", message: "connection reset" }));
            return;
          }
          this.send(conn, { type: PacketType.Puback, packetId: p.packetId as number });
          this.send(conn, { type: PacketType.Publish, topic: "/provision/response", payload: response, qos: 1, packetId: 1, retain: false, dup: false });
          return;
        }
        if (conn.kind !== "device") return; // ThingsBoard drops messages of a refused session
        this.published.push({ device: (conn.device as ServerDevice).name, topic: p.topic, payload: text });
        if (p.qos === 1 && !this.holdPubacks) this.send(conn, { type: PacketType.Puback, packetId: p.packetId as number });
        return;
      }
      case PacketType.Pingreq:
        this.send(conn, { type: PacketType.Pingresp });
        return;
      case PacketType.Disconnect:
        conn.link.serverClose();
        return;
      default:
        return;
    }
  }

  /** ThingsBoard's CONNECT authentication: the TLS client certificate, an access token, or MQTT basic. */
  private authenticate(conn: Connection, clientId: string, username: string | undefined, password: string | undefined): ServerDevice | undefined {
    for (const d of this.devices.values()) {
      if (conn.credentials?.type === "X509_CERTIFICATE") {
        if (d.certificatePem !== undefined && d.certificatePem === conn.credentials.certificatePem) return d;
        continue;
      }
      if (d.token !== "" && d.token === username) return d;
      const b = d.basic;
      if (b && (b.username ?? "") === (username ?? "") && (b.clientId === undefined || b.clientId === clientId) && (b.password ?? "") === (password ?? "")) return d;
    }
    return undefined;
  }

  /** ThingsBoard's decision table (DeviceProvisionServiceImpl). */
  private provision(text: string): string {
    const o = this.options;
    const req = JSON.parse(text) as {
      deviceName?: string; provisionDeviceKey?: string; provisionDeviceSecret?: string; credentialsType?: string;
      token?: string; clientId?: string; username?: string; password?: string; hash?: string;
    };
    const notFound = JSON.stringify({ errorMsg: "Provision data was not found!", status: "NOT_FOUND" });
    const failure = JSON.stringify({ errorMsg: "Failed to provision device!", status: "FAILURE" });
    if (o.strategy === "DISABLED" || req.provisionDeviceKey !== o.provisionKey || req.provisionDeviceSecret !== o.provisionSecret) return notFound;
    const name = req.deviceName ?? `server-named-${++this.serial}`;
    const existing = this.devices.get(name);
    if (o.strategy === "ALLOW_CREATE_NEW_DEVICES") {
      if (existing) return failure;
      if (req.credentialsType === "MQTT_BASIC") {
        const basic: ServerDevice["basic"] = {};
        if (req.clientId) basic.clientId = req.clientId;
        if (req.username) basic.username = req.username;
        if (req.password) basic.password = req.password;
        const d = this.addDevice(name, "");
        d.basic = basic;
        d.provisionState = "provisioned";
        return JSON.stringify({
          credentialsValue: { clientId: req.clientId ?? null, userName: req.username ?? null, password: req.password ?? null },
          credentialsType: "MQTT_BASIC",
          status: "SUCCESS",
        });
      }
      if (req.credentialsType === "X509_CERTIFICATE") {
        const d = this.addDevice(name, "");
        d.certificatePem = req.hash;
        d.provisionState = "provisioned";
        const body = (req.hash ?? "").replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
        return JSON.stringify({ credentialsValue: body, credentialsType: "X509_CERTIFICATE", status: "SUCCESS" });
      }
      const token = req.token ?? `SERVERTOKEN${String(++this.serial).padStart(9, "0")}`;
      this.addDevice(name, token).provisionState = "provisioned";
      return JSON.stringify({ credentialsValue: token, credentialsType: "ACCESS_TOKEN", status: "SUCCESS" });
    }
    if (!existing) return failure;
    if (existing.provisionState !== undefined && (existing.provisionState !== "provisioned" || o.reprovision === "strict")) return failure;
    existing.provisionState = "provisioned";
    return JSON.stringify({ credentialsValue: existing.token, credentialsType: "ACCESS_TOKEN", status: "SUCCESS" });
  }
}

function later(f: () => void): void {
  void Promise.resolve().then(f);
}
