/** What the agent asks the server for, from the firmware settings (cred_type and friends). */
import type { ProvisionCredentialsOption } from "../device/agent.js";
import type { RandomSource } from "../ports.js";
import type { FirmwareSettings } from "./resolve.js";

/**
 * MQTT_BASIC without a configured password gets a random one (24 hex digits). The agent stores it as pending
 * before the request leaves, so a device that reboots keeps using what it stored.
 */
export function provisionCredentials(
  s: Pick<FirmwareSettings, "credentials" | "mqttClientId" | "mqttUsername" | "mqttPassword" | "deviceCert" | "deviceKey">,
  deviceName: string | undefined,
  random: RandomSource,
): ProvisionCredentialsOption {
  switch (s.credentials) {
    case "token":
      return { type: "ACCESS_TOKEN" };
    case "server":
      return { type: "SERVER_GENERATED_TOKEN" };
    case "mqtt-basic": {
      const fallback = deviceName ?? "esp32";
      return {
        type: "MQTT_BASIC",
        clientId: s.mqttClientId ?? fallback,
        username: s.mqttUsername ?? fallback,
        password: s.mqttPassword ?? randomHex(random, 12),
      };
    }
    case "x509":
      // resolveSettings guarantees both are present for x509.
      return { type: "X509_CERTIFICATE", certificatePem: s.deviceCert ?? "", privateKeyPem: s.deviceKey ?? "" };
  }
}

function randomHex(random: RandomSource, bytes: number): string {
  const b = new Uint8Array(bytes);
  random.fill(b);
  let out = "";
  for (let i = 0; i < b.length; i++) out += (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
  return out;
}
