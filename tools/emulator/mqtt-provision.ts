/**
 * PUBLISH handling in a provision-only session (MqttTransportHandler.processProvisionSessionMsg). The decision
 * itself is provision.ts's; this module adds the session rules: the exact request topic, the reply after the
 * PUBACK at the subscribed QoS (1 when not subscribed), and the close 60 s (configurable) after a reply.
 */
import type { EmulatorStore } from "./store.js";
import type { EmulatorEventListener } from "./sessions.js";
import { handleProvisionRequest, type ReprovisionMode } from "./provision.js";
import { parseProvisionPayload } from "./provision-request.js";
import { PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, qosForTopic } from "./mqtt-topics.js";
import type { MqttConnection } from "./mqtt-connection.js";

/** The provision session must end now, without a reply (ThingsBoard closes the channel). */
export class ProvisionSessionError extends Error {
  override readonly name = "ProvisionSessionError";
}

export interface ProvisionContext {
  store: EmulatorStore;
  reprovision: ReprovisionMode;
  provisionCloseMs: number;
  now(): number;
  onEvent: EmulatorEventListener;
}

/**
 * Decides the request at once (so the device exists before the PUBACK) and returns what to do after the PUBACK:
 * publish the reply and schedule the close. Throws ProvisionSessionError for a wrong topic or a malformed request.
 */
export function handleProvisionPublish(ctx: ProvisionContext, conn: MqttConnection, topic: string, payload: Uint8Array): () => void {
  if (topic !== PROVISION_REQUEST_TOPIC) throw new ProvisionSessionError("PUBLISH outside /provision/request in a provision session");
  const result = handleProvisionRequest(ctx.store, payload, { reprovision: ctx.reprovision, now: ctx.now });
  if (result.outcome === "malformed") throw new ProvisionSessionError(`malformed provision request: ${result.reason}`);

  ctx.onEvent({
    type: "provisioned",
    deviceName: result.device?.name ?? requestedName(payload),
    status: result.status,
    ...(result.status === "SUCCESS" ? { credentialsType: credentialsTypeOf(result.body) } : {}),
  });
  return () => {
    conn.publish(PROVISION_RESPONSE_TOPIC, result.bytes, qosForTopic(conn.subscriptions, PROVISION_RESPONSE_TOPIC)).catch(() => {});
    conn.schedule(ctx.provisionCloseMs, () => conn.close("provision session ended"));
  };
}

/** For the event line of a refused request; never the key or secret. */
function requestedName(payload: Uint8Array): string {
  const parsed = parseProvisionPayload(payload);
  return parsed.ok ? parsed.request.deviceName : "";
}

function credentialsTypeOf(body: string): string | undefined {
  const type = (JSON.parse(body) as { credentialsType?: unknown }).credentialsType;
  return typeof type === "string" ? type : undefined;
}
