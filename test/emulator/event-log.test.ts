import { Log } from "../../src/log.js";
import { logEmulatorEvent } from "../../tools/emulator/event-log.js";
import { ManualClock, MemorySink } from "../core/support/memory-ports.js";

describe("emulator event log", () => {
  it("writes one serial-style line per event", () => {
    const sink = new MemorySink();
    const log = new Log(sink, new ManualClock()).tag("emulator");
    logEmulatorEvent(log, { type: "provisioned", deviceName: "ESP32-01", status: "SUCCESS", credentialsType: "MQTT_BASIC" });
    logEmulatorEvent(log, { type: "provisioned", deviceName: "", status: "NOT_FOUND" });
    logEmulatorEvent(log, { type: "connected", deviceId: "d", deviceName: "ESP32-01", transport: "mqtts" });
    logEmulatorEvent(log, { type: "telemetry", deviceId: "d", deviceName: "ESP32-01", keys: ["t", "h"] });
    logEmulatorEvent(log, { type: "auth-failed", clientId: "c1", returnCode: 5 });
    expect(sink.lines).toEqual([
      "I (0) emulator: provisioned ESP32-01: SUCCESS (MQTT_BASIC)",
      "W (0) emulator: provision request for (no name): NOT_FOUND",
      "I (0) emulator: device ESP32-01 connected over MQTTS",
      "I (0) emulator: telemetry from ESP32-01: t, h",
      "W (0) emulator: connection refused for client id c1: CONNACK 5",
    ]);
  });
});
