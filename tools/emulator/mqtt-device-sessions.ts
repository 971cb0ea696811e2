/**
 * The live, authenticated device sessions and the DeviceSessions seam the REST layer calls: shared-attribute
 * pushes and server-side RPC (ThingsBoard's DeviceActorMessageProcessor, reduced to one process).
 *
 * A device may hold several sessions at once (ThingsBoard does not kick the older one). Pushes go to every
 * session that subscribed to the topic; an RPC goes to every session subscribed to RPC and the first reply wins.
 */
import { RpcDeliveryError, type DeviceSessions, type EmulatorEventListener, type RpcRequest } from "./sessions.js";
import type { JsonValue } from "./model.js";
import { gsonStringify } from "./java-json.js";
import { ATTRIBUTES_TOPIC, isSubscribed, qosForTopic, RPC_REQUEST_PREFIX, type Qos } from "./mqtt-topics.js";

/** One authenticated MQTT connection of a device, as the MQTT server exposes it here. */
export interface DeviceConnection {
  readonly deviceId: string;
  readonly deviceName: string;
  /** Granted subscriptions: filter → QoS. */
  readonly subscriptions: ReadonlyMap<string, Qos>;
  /** Writes a PUBLISH to this connection; resolves once written. */
  publish(topic: string, payload: string, qos: Qos): Promise<void>;
}

interface PendingRpc {
  deviceId: string;
  requestId: number;
  request: RpcRequest;
  oneway: boolean;
  timer: NodeJS.Timeout;
  /** Set once written to at least one session. */
  delivered: boolean;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class MqttDeviceSessions implements DeviceSessions {
  private readonly byDevice = new Map<string, Set<DeviceConnection>>();
  /** Per device; ThingsBoard numbers a device's RPCs from 0. */
  private readonly rpcSeq = new Map<string, number>();
  private readonly pendingRpc = new Set<PendingRpc>();

  constructor(private readonly onEvent: EmulatorEventListener = () => {}) {}

  add(conn: DeviceConnection): void {
    let set = this.byDevice.get(conn.deviceId);
    if (!set) this.byDevice.set(conn.deviceId, (set = new Set()));
    set.add(conn);
  }

  /** Returns true when this was the device's last session. */
  remove(conn: DeviceConnection): boolean {
    const set = this.byDevice.get(conn.deviceId);
    if (!set) return false;
    set.delete(conn);
    if (set.size > 0) return false;
    this.byDevice.delete(conn.deviceId);
    return true;
  }

  isConnected(deviceId: string): boolean {
    return (this.byDevice.get(deviceId)?.size ?? 0) > 0;
  }

  pushSharedAttributes(deviceId: string, update: Record<string, unknown>): void {
    const payload = gsonStringify(update as JsonValue);
    for (const conn of this.byDevice.get(deviceId) ?? []) {
      if (!isSubscribed(conn.subscriptions, ATTRIBUTES_TOPIC)) continue;
      conn.publish(ATTRIBUTES_TOPIC, payload, qosForTopic(conn.subscriptions, ATTRIBUTES_TOPIC)).catch(() => {});
    }
  }

  sendRpc(deviceId: string, request: RpcRequest, options: { oneway: boolean; timeoutMs: number }): Promise<unknown> {
    if (!this.isConnected(deviceId)) {
      return Promise.reject(new RpcDeliveryError("no-active-session", `Device ${deviceId} is not connected`));
    }
    const requestId = this.rpcSeq.get(deviceId) ?? 0;
    this.rpcSeq.set(deviceId, requestId + 1);
    return new Promise((resolve, reject) => {
      const pending: PendingRpc = {
        deviceId,
        requestId,
        request,
        oneway: options.oneway,
        delivered: false,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pendingRpc.delete(pending);
          reject(new RpcDeliveryError("timeout", `Device ${deviceId} did not answer RPC ${requestId} in time`));
        }, options.timeoutMs),
      };
      this.pendingRpc.add(pending);
      this.deliverPending(deviceId);
    });
  }

  /** Call when a session subscribed: RPCs that waited for an RPC subscription go out now. */
  onSubscribed(conn: DeviceConnection): void {
    this.deliverPending(conn.deviceId);
  }

  /** A device answered a server-side RPC on v1/devices/me/rpc/response/{id}. */
  onRpcReply(deviceId: string, requestId: number, reply: unknown): void {
    for (const p of this.pendingRpc) {
      if (p.deviceId !== deviceId || p.requestId !== requestId || p.oneway || !p.delivered) continue;
      this.settle(p);
      p.resolve(reply);
      return;
    }
  }

  /** Server shutdown: every RPC still waiting fails as if the device went away. */
  close(): void {
    for (const p of [...this.pendingRpc]) {
      this.settle(p);
      p.reject(new RpcDeliveryError("no-active-session", `Device ${p.deviceId} disconnected (server closing)`));
    }
  }

  private settle(p: PendingRpc): void {
    clearTimeout(p.timer);
    this.pendingRpc.delete(p);
  }

  /** Sends each undelivered RPC of the device to its sessions subscribed to RPC requests; others keep waiting. */
  private deliverPending(deviceId: string): void {
    for (const p of this.pendingRpc) {
      if (p.deviceId !== deviceId || p.delivered) continue;
      const topic = RPC_REQUEST_PREFIX + p.requestId;
      const targets = [...(this.byDevice.get(deviceId) ?? [])].filter((c) => isSubscribed(c.subscriptions, topic));
      if (targets.length === 0) continue;
      p.delivered = true;
      const payload = gsonStringify({ method: p.request.method, params: (p.request.params ?? null) as JsonValue });
      const writes = targets.map((c) => c.publish(topic, payload, qosForTopic(c.subscriptions, topic)));
      const name = targets[0]!.deviceName;
      this.onEvent({ type: "rpc", deviceId, deviceName: name, method: p.request.method, direction: "to-device" });
      if (p.oneway) {
        Promise.any(writes).then(
          () => {
            this.settle(p);
            p.resolve(undefined);
          },
          () => {}, // left to the timeout, as a lost write would be in ThingsBoard
        );
      }
    }
  }
}
