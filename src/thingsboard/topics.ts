/**
 * ThingsBoard's device MQTT topics (its MqttTopics class), as the server compares them: exactly, case and
 * leading slash included. See ../shared/thingsboard-device-api.md §1 and §3.
 */

import { PayloadError } from "./errors.js";

/** The user name (or client id) that opens a provision-only session; the password is ignored. */
export const PROVISION_USERNAME = "provision";
/** Provisioning: the leading slash is required. */
export const PROVISION_REQUEST_TOPIC = "/provision/request";
export const PROVISION_RESPONSE_TOPIC = "/provision/response";

export const TELEMETRY_TOPIC = "v1/devices/me/telemetry";
/** Publish client attributes here; subscribe here for shared attribute updates. */
export const ATTRIBUTES_TOPIC = "v1/devices/me/attributes";
export const ATTRIBUTES_REQUEST_PREFIX = "v1/devices/me/attributes/request/";
export const ATTRIBUTES_RESPONSE_PREFIX = "v1/devices/me/attributes/response/";
export const ATTRIBUTES_RESPONSE_FILTER = "v1/devices/me/attributes/response/+";
/** Server-side RPC arrives on RPC_REQUEST_PREFIX + id; a device's own (client-side) RPC is published there too. */
export const RPC_REQUEST_PREFIX = "v1/devices/me/rpc/request/";
export const RPC_RESPONSE_PREFIX = "v1/devices/me/rpc/response/";
export const RPC_REQUEST_FILTER = "v1/devices/me/rpc/request/+";
export const RPC_RESPONSE_FILTER = "v1/devices/me/rpc/response/+";
export const CLAIM_TOPIC = "v1/devices/me/claim";

/** Longest id accepted in a topic level; ThingsBoard's ids are decimal integers. */
const MAX_ID_LENGTH = 20;
const DECIMAL_ID = /^(?:0|[1-9][0-9]*)$/;

/** A request id as a topic level: a non-negative safe integer, or its decimal text (as the server sends it). */
function idLevel(id: number | string): string {
  if (typeof id === "number") {
    if (!Number.isSafeInteger(id) || id < 0) throw new PayloadError("invalid-id", "a request id must be a non-negative safe integer");
    return String(id);
  }
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH || !DECIMAL_ID.test(id)) {
    throw new PayloadError("invalid-id", "a request id must be decimal digits (at most 20)");
  }
  return id;
}

/** `v1/devices/me/attributes/request/{id}`: publish an attribute request (see attributeRequestPayload). */
export function attributeRequestTopic(id: number | string): string {
  return ATTRIBUTES_REQUEST_PREFIX + idLevel(id);
}

/** `v1/devices/me/attributes/response/{id}`: where the answer to attributeRequestTopic(id) arrives. */
export function attributeResponseTopic(id: number | string): string {
  return ATTRIBUTES_RESPONSE_PREFIX + idLevel(id);
}

/** `v1/devices/me/rpc/request/{id}`: a client-side RPC request. */
export function rpcRequestTopic(id: number | string): string {
  return RPC_REQUEST_PREFIX + idLevel(id);
}

/** `v1/devices/me/rpc/response/{id}`: the reply to server-side RPC `id` (or where a client-side reply arrives). */
export function rpcResponseTopic(id: number | string): string {
  return RPC_RESPONSE_PREFIX + idLevel(id);
}

function idAfter(prefix: string, topic: string): string | undefined {
  // startsWith, not a character loop: cheap on XS, which stores strings as UTF-8.
  if (typeof topic !== "string" || !topic.startsWith(prefix)) return undefined;
  const id = topic.slice(prefix.length);
  return id.length > 0 && id.length <= MAX_ID_LENGTH && DECIMAL_ID.test(id) ? id : undefined;
}

/** The id of a server-side RPC request topic (`v1/devices/me/rpc/request/{id}`), or undefined for any other topic. */
export function rpcRequestId(topic: string): string | undefined {
  return idAfter(RPC_REQUEST_PREFIX, topic);
}

/** The id of an RPC response topic (`v1/devices/me/rpc/response/{id}`), or undefined. */
export function rpcResponseId(topic: string): string | undefined {
  return idAfter(RPC_RESPONSE_PREFIX, topic);
}

/** The id of an attribute response topic (`v1/devices/me/attributes/response/{id}`), or undefined. */
export function attributeResponseId(topic: string): string | undefined {
  return idAfter(ATTRIBUTES_RESPONSE_PREFIX, topic);
}
