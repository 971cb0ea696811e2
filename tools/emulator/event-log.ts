/** One serial-style log line per emulator event (the events never carry secrets). */
import type { Logger } from "../../src/log.js";
import type { EmulatorEvent } from "./sessions.js";

export function logEmulatorEvent(log: Logger, e: EmulatorEvent): void {
  switch (e.type) {
    case "connected":
      return log.info(`device ${e.deviceName} connected over ${e.transport.toUpperCase()}`);
    case "disconnected":
      return log.info(`device ${e.deviceName} disconnected (${e.reason})`);
    case "auth-failed":
      return log.warn(`connection refused for client id ${e.clientId}: CONNACK ${e.returnCode}`);
    case "provisioned":
      if (e.status === "SUCCESS") return log.info(`provisioned ${e.deviceName}: SUCCESS (${e.credentialsType ?? "ACCESS_TOKEN"})`);
      return log.warn(`provision request for ${e.deviceName || "(no name)"}: ${e.status}`);
    case "telemetry":
      return log.info(`telemetry from ${e.deviceName}: ${e.keys.join(", ")}`);
    case "attributes":
      return log.info(`client attributes from ${e.deviceName}: ${e.keys.join(", ")}`);
    case "rpc":
      return log.info(`RPC ${e.method} ${e.direction === "to-device" ? "to" : "from"} ${e.deviceName}`);
  }
}
