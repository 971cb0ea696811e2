/**
 * A provision request followed at once by the device closing its side (FIN): ThingsBoard acts on a message it
 * has fully read even though its reply is lost, so the emulator must create the device too. Raw socket and
 * mqtt-packet only (no SDK code).
 */
import * as net from "node:net";
import mqttPacket from "mqtt-packet";
import { EmulatorStore } from "../../tools/emulator/store.js";
import { seedStore } from "../../tools/emulator/seed.js";
import { startMqttDeviceApi, type MqttDeviceApi } from "../../tools/emulator/mqtt-server.js";
import { until } from "../support/until.js";

let store: EmulatorStore;
let api: MqttDeviceApi;

beforeAll(async () => {
  store = new EmulatorStore();
  seedStore(store, { profiles: [{ name: "p", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: "hc-key", provisionDeviceSecret: "hc-secret" }] });
  api = await startMqttDeviceApi({ store, port: 0, reprovision: "strict", provisionCloseMs: 200 });
});
afterAll(() => api.close());

function sendAndClose(bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(api.port, "127.0.0.1", () => socket.end(bytes));
    socket.on("error", reject);
    socket.on("close", () => resolve());
    socket.resume();
  });
}

const connect = (clientId: string) =>
  mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId, clean: true, keepalive: 60, username: "provision" });

describe("emulator: connection closed right behind a provision request", () => {
  it("still acts on the request (the device exists, provisionState is set)", async () => {
    const request = JSON.stringify({ deviceName: "half-closed-1", provisionDeviceKey: "hc-key", provisionDeviceSecret: "hc-secret", credentialsType: "ACCESS_TOKEN", token: "HALF_CLOSED_TOKEN_01" });
    await sendAndClose(Buffer.concat([
      connect("c1"),
      mqttPacket.generate({ cmd: "publish", topic: "/provision/request", payload: request, qos: 1, messageId: 1, retain: false, dup: false }),
    ]));
    await until("the device half-closed-1", () => store.findDeviceByName("half-closed-1") !== undefined, 3000);
    const device = store.findDeviceByName("half-closed-1")!;
    expect(store.getCredentialsByDeviceId(device.id.id)?.credentialsId).toBe("HALF_CLOSED_TOKEN_01");
    expect(store.getAttribute(device.id.id, "SERVER_SCOPE", "provisionState")?.value).toBe("provisioned");
  });

  it("closes promptly when nothing is left to handle", async () => {
    const started = Date.now();
    await sendAndClose(connect("c2"));
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
