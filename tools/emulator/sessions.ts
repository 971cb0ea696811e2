/**
 * The seam between the emulator's MQTT device API (live sessions) and its REST API (which pushes shared
 * attributes and RPCs to devices), plus the event stream that the console log and the web page follow.
 * The MQTT layer implements DeviceSessions; the REST layer only calls it.
 */

/** Server-side RPC as ThingsBoard sends it on v1/devices/me/rpc/request/{id}. */
export interface RpcRequest {
  method: string;
  params: unknown;
}

/** Why a server-side RPC could not be answered; the REST layer maps these to ThingsBoard's status codes. */
export class RpcDeliveryError extends Error {
  /** "timeout" → 408, "no-active-session" → 409 (ThingsBoard: device never connected / offline). */
  readonly kind: "timeout" | "no-active-session";
  constructor(kind: "timeout" | "no-active-session", message: string) {
    super(message);
    this.kind = kind;
    this.name = "RpcDeliveryError";
  }
}

export interface DeviceSessions {
  /** True while the device has an authenticated MQTT session. */
  isConnected(deviceId: string): boolean;
  /**
   * Sends `{"k":v}` or `{"deleted":["k"]}` on v1/devices/me/attributes to the device's session if it
   * subscribed there (ThingsBoard pushes shared-attribute changes only to subscribers).
   */
  pushSharedAttributes(deviceId: string, update: Record<string, unknown>): void;
  /**
   * Delivers a server-side RPC. One-way resolves with undefined once written; two-way resolves with the
   * device's parsed JSON reply. Rejects with RpcDeliveryError.
   */
  sendRpc(deviceId: string, request: RpcRequest, options: { oneway: boolean; timeoutMs: number }): Promise<unknown>;
}

/** One line-worthy thing that happened, for the console log and the web page. Never carries secrets. */
export type EmulatorEvent =
  | { type: "connected"; deviceId: string; deviceName: string; transport: "mqtt" | "mqtts" }
  | { type: "disconnected"; deviceId: string; deviceName: string; reason: string }
  | { type: "auth-failed"; clientId: string; returnCode: number }
  | { type: "provisioned"; deviceName: string; status: "SUCCESS" | "NOT_FOUND" | "FAILURE"; credentialsType?: string }
  | { type: "telemetry"; deviceId: string; deviceName: string; keys: string[] }
  | { type: "attributes"; deviceId: string; deviceName: string; keys: string[] }
  | { type: "rpc"; deviceId: string; deviceName: string; method: string; direction: "to-device" | "from-device" };

export type EmulatorEventListener = (event: EmulatorEvent) => void;
