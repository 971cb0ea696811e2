/**
 * PUBLISH handling in an authenticated device session (MqttTransportHandler.processDevicePublish): telemetry,
 * client attributes, attribute requests, RPC in both directions. Everything is stored before this returns, so
 * the PUBACK aedes sends afterwards follows the store, as ThingsBoard acknowledges only processed messages.
 * Replies are returned as a follow-up that the server runs after the PUBACK.
 *
 * A payload ThingsBoard cannot convert throws PayloadConversionError: the session is closed. Topics ThingsBoard
 * does not serve here (claiming, firmware chunks, short v2 topics, anything else) are acknowledged and ignored,
 * like ThingsBoard's fallback branch.
 */
import type { EmulatorStore } from "./store.js";
import type { AttributeKv, Device, JsonValue } from "./model.js";
import type { EmulatorEventListener } from "./sessions.js";
import { gsonStringify } from "./java-json.js";
import {
  parseAttributeRequest,
  parseAttributes,
  parseClientRpcRequest,
  parseRpcReply,
  parseTelemetry,
  PayloadConversionError,
  type AttributeRequest,
  type ClientRpcRequest,
} from "./mqtt-payload.js";
import {
  ATTRIBUTES_REQUEST_PREFIX,
  ATTRIBUTES_RESPONSE_PREFIX,
  ATTRIBUTES_TOPIC,
  javaParseInt,
  qosForTopic,
  RPC_REQUEST_PREFIX,
  RPC_RESPONSE_PREFIX,
  TELEMETRY_TOPIC,
} from "./mqtt-topics.js";
import type { MqttConnection } from "./mqtt-connection.js";
import type { MqttDeviceSessions } from "./mqtt-device-sessions.js";

/**
 * Answers a client-side RPC (what ThingsBoard's rule chain would do). The result is sent as JSON on
 * v1/devices/me/rpc/response/{id}; throwing (or rejecting) sends nothing, like a rule chain that never answers.
 */
export type ClientRpcHandler = (request: ClientRpcRequest, device: { id: string; name: string }) => unknown;

/** The default handler: echoes the request's params. */
export const echoParams: ClientRpcHandler = (request) => request.params;

export interface DeviceApiContext {
  store: EmulatorStore;
  sessions: MqttDeviceSessions;
  clientRpcHandler: ClientRpcHandler;
  now(): number;
  onEvent: EmulatorEventListener;
}

export type FollowUp = () => void;

export function handleDevicePublish(ctx: DeviceApiContext, conn: MqttConnection, topic: string, payload: Uint8Array): FollowUp | undefined {
  const device = { id: conn.deviceId, name: conn.deviceName };
  if (topic === ATTRIBUTES_TOPIC) {
    const values = parseAttributes(payload);
    ctx.store.setAttributes(device.id, "CLIENT_SCOPE", values, ctx.now());
    ctx.onEvent({ type: "attributes", deviceId: device.id, deviceName: device.name, keys: Object.keys(values) });
    return undefined;
  }
  if (topic === TELEMETRY_TOPIC) {
    const records = parseTelemetry(payload, ctx.now());
    const keys = new Set<string>();
    for (const r of records) {
      ctx.store.appendTimeseries(device.id, r.ts, r.values);
      for (const k of Object.keys(r.values)) keys.add(k);
    }
    ctx.onEvent({ type: "telemetry", deviceId: device.id, deviceName: device.name, keys: [...keys] });
    return undefined;
  }
  if (topic.startsWith(ATTRIBUTES_REQUEST_PREFIX)) {
    const requestId = requestIdOf(topic, ATTRIBUTES_REQUEST_PREFIX);
    const body = attributeResponse(ctx.store, device.id, parseAttributeRequest(payload));
    return () => reply(conn, ATTRIBUTES_RESPONSE_PREFIX + requestId, body);
  }
  if (topic.startsWith(RPC_RESPONSE_PREFIX)) {
    ctx.sessions.onRpcReply(device.id, requestIdOf(topic, RPC_RESPONSE_PREFIX), parseRpcReply(payload));
    return undefined;
  }
  if (topic.startsWith(RPC_REQUEST_PREFIX)) {
    const requestId = requestIdOf(topic, RPC_REQUEST_PREFIX);
    const request = parseClientRpcRequest(payload);
    ctx.onEvent({ type: "rpc", deviceId: device.id, deviceName: device.name, method: request.method, direction: "from-device" });
    return () => answerClientRpc(ctx, conn, device, requestId, request);
  }
  return undefined;
}

/** The `{id}` of a request topic as Integer.parseInt reads it (so `007` is answered on …/7). */
function requestIdOf(topic: string, prefix: string): number {
  const id = javaParseInt(topic.slice(prefix.length));
  if (id === undefined) throw new PayloadConversionError("request id in the topic is not an integer");
  return id;
}

/** Replies go out whether or not the device subscribed: at the subscribed QoS, else QoS 1. */
function reply(conn: MqttConnection, topic: string, body: string): void {
  conn.publish(topic, body, qosForTopic(conn.subscriptions, topic)).catch(() => {});
}

/**
 * `{"client":{…},"shared":{…}}`, each part left out when empty. No keys at all asks for every client and
 * shared attribute; keys for one scope only leave the other scope out (DeviceActorMessageProcessor).
 */
export function attributeResponse(store: EmulatorStore, deviceId: string, request: AttributeRequest): string {
  const clientKeys = request.clientKeys ?? [];
  const sharedKeys = request.sharedKeys ?? [];
  const all = clientKeys.length === 0 && sharedKeys.length === 0;
  const client = all ? store.getAttributes(deviceId, "CLIENT_SCOPE") : clientKeys.length ? store.getAttributes(deviceId, "CLIENT_SCOPE", clientKeys) : [];
  const shared = all ? store.getAttributes(deviceId, "SHARED_SCOPE") : sharedKeys.length ? store.getAttributes(deviceId, "SHARED_SCOPE", sharedKeys) : [];
  const body: Record<string, JsonValue> = {};
  if (client.length > 0) body.client = toObject(client);
  if (shared.length > 0) body.shared = toObject(shared);
  return gsonStringify(body);
}

function toObject(kvs: AttributeKv[]): Record<string, JsonValue> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]));
}

function answerClientRpc(ctx: DeviceApiContext, conn: MqttConnection, device: Pick<Device, "name"> & { id: string }, requestId: number, request: ClientRpcRequest): void {
  Promise.resolve()
    .then(() => ctx.clientRpcHandler(request, device))
    .then(
      (result) => reply(conn, RPC_RESPONSE_PREFIX + requestId, gsonStringify((result ?? null) as JsonValue)),
      () => {}, // no answer, as when ThingsBoard's rule chain does not reply
    );
}
