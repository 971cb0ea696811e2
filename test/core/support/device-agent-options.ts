/** The DeviceAgent options every scripted-server test starts from; each test spreads its own on top. */
import { CredentialStore } from "../../../src/credentials/index.js";
import type { DeviceAgentOptions } from "../../../src/device/index.js";
import { Log } from "../../../src/log.js";
import type { Clock, KeyValueStore, LogSink } from "../../../src/ports.js";
import type { DeviceServer } from "./device-server.js";
import { Prng } from "./prng.js";

export interface ScriptedAgentSetup {
  server: DeviceServer;
  clock: Clock;
  kv: KeyValueStore;
  sink: LogSink;
  /** Seeds the agent's random source (tokens, jitter), so a run is reproducible. */
  seed: number;
  name: string;
  capMs: number;
}

export function scriptedAgentOptions(s: ScriptedAgentSetup): DeviceAgentOptions {
  const rng = new Prng(s.seed);
  return {
    server: { host: "tb.example.com", port: 1883 },
    connect: s.server.connect,
    clock: s.clock,
    random: { fill: (t) => t.set(rng.bytes(t.length)) },
    store: new CredentialStore(s.kv),
    log: new Log(s.sink, s.clock, { level: "D" }),
    deviceName: s.name,
    provisionDeviceKey: s.server.options.provisionKey,
    provisionDeviceSecret: s.server.options.provisionSecret,
    backoff: { baseMs: 1000, capMs: s.capMs },
  };
}
