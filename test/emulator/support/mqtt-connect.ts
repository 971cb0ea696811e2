/** Opens a standard `mqtt` client (MQTT 3.1.1, no reconnect) and waits for CONNACK; `clients` collects it for cleanup. */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

export async function openMqtt(url: string, options: IClientOptions, clients: MqttClient[]): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}
