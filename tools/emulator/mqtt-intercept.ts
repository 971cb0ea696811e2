/**
 * Packet interception in front of aedes: every packet a client sends passes `inspectPacket` before aedes' own
 * handler sees it (aedes has no hook for this, so the parser's "packet" listener is wrapped). This is where
 * ThingsBoard's rules that aedes cannot express are applied:
 * - CONNECT: the client id becomes a unique internal one (ThingsBoard lets any number of sessions share a client
 *   id, aedes would evict the older one), clean session is forced and the will is dropped (ThingsBoard keeps no
 *   session state and publishes no wills); the original credentials are kept on the connection for authenticate.
 * - PUBLISH: a payload over the limit closes the connection; QoS 2 is treated as QoS 1 (ThingsBoard answers any
 *   QoS > 0 with a PUBACK).
 * - SUBSCRIBE: requested QoS 2 becomes 1 so aedes' SUBACK grants min(requested, 1); with `noProvisionSuback` a
 *   provision session's SUBSCRIBE is swallowed, as servers ≤ 3.8.1 ignore it (the reply then goes at QoS 1).
 */
import type { Client as AedesClient, PublishPacket, Subscription } from "aedes";
import { isProvisionConnect } from "./mqtt-auth.js";
import { grantedQos } from "./mqtt-topics.js";
import type { MqttConnection } from "./mqtt-connection.js";

export interface InterceptRules {
  maxPayloadBytes: number;
  noProvisionSuback: boolean;
  /** Called for each packet of an authenticated device session (lastActivityTime). */
  onDeviceActivity(conn: MqttConnection): void;
}

type RawPacket = { cmd: string } & Record<string, unknown>;

/** aedes internals used here (not in its typings): the MQTT parser whose "packet" events feed the client. */
interface AedesClientInternals {
  _parser: NodeJS.EventEmitter;
}

export function interceptPackets(client: AedesClient, conn: MqttConnection, rules: InterceptRules): void {
  const parser = (client as unknown as AedesClientInternals)._parser;
  const aedesListeners = parser.listeners("packet") as ((this: unknown, packet: unknown) => void)[];
  parser.removeAllListeners("packet");
  parser.on("packet", function (this: unknown, packet: RawPacket) {
    if (!inspectPacket(conn, packet, rules)) return;
    for (const listener of aedesListeners) listener.call(this, packet);
  });
}

/** Adjusts the packet in place; false swallows it. */
export function inspectPacket(conn: MqttConnection, packet: RawPacket, rules: InterceptRules): boolean {
  if (conn.closed) return false; // the rest of a read after we closed the connection
  switch (packet.cmd) {
    case "connect": {
      if (conn.connectSeen) return true; // a second CONNECT: aedes drops the connection
      conn.connectSeen = true;
      const p = packet as unknown as { clientId: string; username?: string; password?: Buffer; clean: boolean; will?: unknown };
      conn.credentials = { clientId: p.clientId, username: p.username, password: p.password };
      conn.clientId = p.clientId;
      p.clientId = conn.internalClientId;
      p.clean = true;
      delete p.will;
      return true;
    }
    case "publish": {
      const p = packet as unknown as PublishPacket;
      if (p.payload.length > rules.maxPayloadBytes) {
        conn.close(`payload of ${p.payload.length} bytes exceeds ${rules.maxPayloadBytes}`);
        return false;
      }
      if (p.qos === 2) p.qos = 1;
      break;
    }
    case "subscribe": {
      const p = packet as unknown as { subscriptions: Subscription[] };
      if (rules.noProvisionSuback && isProvisionSession(conn)) return false;
      for (const s of p.subscriptions) s.qos = grantedQos(s.qos);
      break;
    }
  }
  if (conn.kind === "device" && packet.cmd !== "disconnect") rules.onDeviceActivity(conn);
  return true;
}

/** Also true between CONNECT and CONNACK, for a SUBSCRIBE pipelined right behind the CONNECT. */
function isProvisionSession(conn: MqttConnection): boolean {
  if (conn.kind === "provision") return true;
  return conn.kind === "connecting" && conn.credentials !== undefined && isProvisionConnect(conn.credentials);
}
