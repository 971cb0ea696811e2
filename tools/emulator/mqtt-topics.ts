/**
 * ThingsBoard's device MQTT topics (MqttTopics) and the subscription rules of MqttTransportHandler:
 * which filters a SUBSCRIBE may name, the QoS granted, and the QoS a server message goes out with.
 */

export const PROVISION_REQUEST_TOPIC = "/provision/request";
export const PROVISION_RESPONSE_TOPIC = "/provision/response";

export const TELEMETRY_TOPIC = "v1/devices/me/telemetry";
export const ATTRIBUTES_TOPIC = "v1/devices/me/attributes";
export const ATTRIBUTES_REQUEST_PREFIX = "v1/devices/me/attributes/request/";
export const ATTRIBUTES_RESPONSE_PREFIX = "v1/devices/me/attributes/response/";
export const RPC_REQUEST_PREFIX = "v1/devices/me/rpc/request/";
export const RPC_RESPONSE_PREFIX = "v1/devices/me/rpc/response/";

export const RPC_REQUEST_FILTER = "v1/devices/me/rpc/request/+";

/**
 * The filters processSubscribe accepts (exact string match, no other wildcards); anything else gets 0x80.
 * The v2 short topics and gateway topics are left out: the emulator does not serve them.
 */
export const DEVICE_SUBSCRIBE_FILTERS: ReadonlySet<string> = new Set([
  ATTRIBUTES_TOPIC,
  RPC_REQUEST_FILTER,
  "v1/devices/me/rpc/response/+",
  "v1/devices/me/attributes/response/+",
  PROVISION_RESPONSE_TOPIC,
  "v2/fw/response/+/chunk/+",
  "v2/fw/error",
  "v2/sw/response/+/chunk/+",
  "v2/sw/error",
]);

/** ThingsBoard serves QoS 0 and 1 only: a subscription is granted min(requested, 1). */
export const MAX_SUPPORTED_QOS = 1;

export type Qos = 0 | 1;

export function grantedQos(requested: number): Qos {
  return Math.min(requested, MAX_SUPPORTED_QOS) === 0 ? 0 : 1;
}

/** MQTT filter matching for the filters above (`+` is one level; `#` does not occur in them). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  if (f.length !== t.length) return false;
  return f.every((level, i) => level === "+" || level === t[i]);
}

/**
 * DeviceSessionCtx.getQoSForTopic: the granted QoS of the one subscription matching the topic;
 * QoS 1 when none matches (or, oddly, when several do). So replies reach devices that never subscribed.
 */
export function qosForTopic(subscriptions: ReadonlyMap<string, Qos>, topic: string): Qos {
  let found: Qos | undefined;
  let matches = 0;
  for (const [filter, qos] of subscriptions) {
    if (topicMatches(filter, topic)) {
      matches++;
      found = qos;
    }
  }
  return matches === 1 ? found! : 1;
}

/** True when a subscription covers the topic (ThingsBoard pushes attribute updates and RPCs only then). */
export function isSubscribed(subscriptions: ReadonlyMap<string, Qos>, topic: string): boolean {
  for (const filter of subscriptions.keys()) if (topicMatches(filter, topic)) return true;
  return false;
}

/**
 * Java's Integer.parseInt, which ThingsBoard applies to the `{id}` of request/response topics:
 * optional sign, ASCII digits, 32-bit range. undefined where Java throws NumberFormatException.
 */
export function javaParseInt(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}
