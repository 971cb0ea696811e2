/**
 * Power cuts during the agent's own flash writes: at every erase/write step of first-boot provisioning and of
 * re-provisioning after the server refused the stored credentials, the device dies (no further flash or network
 * activity), reboots over the surviving flash, and must end provisioned and online with exactly one device on the
 * server whose credentials are the ones stored. Runs on Node and, through test/xs, inside XS.
 */
import { CredentialStore } from "../../src/credentials/store.js";
import { DeviceAgent } from "../../src/device/agent.js";
import { StepClock, drain } from "./support/device-clock.js";
import { DeviceServer } from "./support/device-server.js";
import { MemoryKeyValueStore } from "./support/memory-kv.js";
import { MemorySink } from "./support/memory-ports.js";
import { scriptedAgentOptions } from "./support/device-agent-options.js";

const NAME = "esp32-power-01";
const CAP = 60_000;

function boot(server: DeviceServer, kv: MemoryKeyValueStore, clock: StepClock, sink: MemorySink, seed: number): DeviceAgent {
  // Debug level (set by scriptedAgentOptions): the MQTT layer's packet lines are checked for secrets too.
  return new DeviceAgent({
    ...scriptedAgentOptions({ server, clock, kv, sink, seed, name: NAME, capMs: CAP }),
    // A device without power opens no connections.
    connect: (endpoint, credentials) => {
      if (kv.poweredOff) throw new Error("device is off");
      return server.connect(endpoint, credentials);
    },
  });
}

/** Runs `agent` for a few back-off caps of simulated time. */
async function live(agent: DeviceAgent, clock: StepClock): Promise<void> {
  agent.start();
  await drain();
  for (let i = 0; i < 4 && agent.state !== "online"; i++) await clock.advance(CAP);
}

/** Reboots until the device is online (at most a few times), then checks server and flash agree. */
async function expectRecovers(server: DeviceServer, kv: MemoryKeyValueStore, clock: StepClock, sink: MemorySink, label: string): Promise<void> {
  const agent = boot(server, kv.reboot(), clock, sink, 99);
  await live(agent, clock);
  expect({ label, state: agent.state }).toEqual({ label, state: "online" });
  expect({ label, devices: server.devices.size }).toEqual({ label, devices: 1 });
  const record = new CredentialStore(kv.reboot()).load().record;
  expect({ label, pending: record?.pending }).toEqual({ label, pending: false });
  const token = record?.credentials.type === "ACCESS_TOKEN" ? record.credentials.token : undefined;
  expect({ label, token }).toEqual({ label, token: server.devices.get(NAME)?.token });
  agent.stop();
}

describe("DeviceAgent: power cut at every flash step", () => {
  it("of first-boot provisioning", async () => {
    let covered = 0;
    for (let n = 1; ; n++) {
      const server = new DeviceServer();
      const clock = new StepClock();
      const sink = new MemorySink();
      const kv = new MemoryKeyValueStore().cutPowerAfter(n);
      const agent = boot(server, kv, clock, sink, n);
      await live(agent, clock);
      const died = kv.poweredOff;
      agent.stop();
      server.cutAll();
      if (!died) {
        expect(agent.state).toBe("stopped");
        break;
      }
      covered++;
      await expectRecovers(server, kv, clock, sink, `first boot, cut after step ${n}`);
    }
    expect(covered).toBe(2); // pending record written; confirmed record written
  });

  it("of re-provisioning after CONNACK 5 for the stored credentials", async () => {
    let covered = 0;
    for (let n = 1; ; n++) {
      const server = new DeviceServer();
      const clock = new StepClock();
      const sink = new MemorySink();
      const flash = new MemoryKeyValueStore();
      const first = boot(server, flash, clock, sink, 1);
      await live(first, clock);
      expect(first.state).toBe("online");
      first.stop();
      server.cutAll();
      server.devices.clear(); // an operator deleted the device

      const kv = flash.reboot().cutPowerAfter(n);
      const agent = boot(server, kv, clock, sink, 1000 + n);
      await live(agent, clock);
      const died = kv.poweredOff;
      agent.stop();
      server.cutAll();
      if (!died) {
        expect(server.devices.size).toBe(1);
        break;
      }
      covered++;
      await expectRecovers(server, kv, clock, sink, `re-provision, cut after step ${n}`);
    }
    // Factory reset: erase the older slot, then the newer; pending save: write slot a; confirm: write slot b.
    expect(covered).toBe(4);
  });
});
