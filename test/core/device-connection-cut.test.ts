/**
 * Connection cuts at every packet boundary of first-boot provisioning, the reconnect with the new token and the
 * first telemetry, in both directions (after the n-th packet the device sent has been processed, so the server's
 * replies are lost; after the n-th packet the server sent). Whatever the cut, the device must end provisioned and
 * online, the server must hold exactly one device whose token is the stored one, every message must be acked
 * once, and a message the server received twice must carry the same timestamp both times.
 * Runs on Node and, through test/xs, inside XS.
 */
import { CredentialStore } from "../../src/credentials/store.js";
import { DeviceAgent } from "../../src/device/agent.js";
import type { MessageFate } from "../../src/device/telemetry-queue.js";
import { StepClock, drain } from "./support/device-clock.js";
import { DeviceServer } from "./support/device-server.js";
import { MemoryKeyValueStore } from "./support/memory-kv.js";
import { MemorySink } from "./support/memory-ports.js";
import { scriptedAgentOptions } from "./support/device-agent-options.js";

const NAME = "esp32-cut-01";
const CAP = 30_000;

interface Outcome {
  cutsMade: number;
  problems: string[];
}

async function scenario(direction: "client" | "server", n: number): Promise<Outcome> {
  const server = new DeviceServer();
  if (direction === "client") server.cutAfterClientPacket = n;
  else server.cutAfterServerPacket = n;
  const clock = new StepClock();
  const sink = new MemorySink();
  const kv = new MemoryKeyValueStore();
  let wall = 1_700_000_000_000;
  const fates: [MessageFate, number][] = [];
  const agent = new DeviceAgent({
    ...scriptedAgentOptions({ server, clock, kv, sink, seed: n, name: NAME, capMs: CAP }),
    provisionTimeoutMs: 5000,
    epochMs: () => wall,
    onMessageFate: (f, id) => fates.push([f, id]),
  });
  agent.sendTelemetry({ n: 1 }); // queued before boot: leaves right behind the first device CONNECT
  agent.start();
  await drain();
  let sentSecond = false;
  for (let i = 0; i < 12; i++) {
    if (agent.state === "online" && !sentSecond) {
      sentSecond = true;
      agent.sendTelemetry({ n: 2 });
      await drain();
    }
    if (sentSecond && fates.length === 2 && agent.state === "online") break;
    wall += 10_000;
    await clock.advance(CAP);
  }
  const problems: string[] = [];
  if (agent.state !== "online") problems.push(`state ${agent.state}`);
  if (server.devices.size !== 1) problems.push(`${server.devices.size} devices on the server`);
  const record = new CredentialStore(kv.reboot()).load().record;
  if (record?.pending !== false) problems.push("record not confirmed");
  const token = record?.credentials.type === "ACCESS_TOKEN" ? record.credentials.token : undefined;
  if (token !== server.devices.get(NAME)?.token) problems.push("stored token differs from the server's");
  if (JSON.stringify(fates) !== JSON.stringify([["acked", 1], ["acked", 2]])) problems.push(`fates ${JSON.stringify(fates)}`);
  for (const k of [1, 2]) {
    const copies = server.published.filter((p) => (JSON.parse(p.payload) as { values: { n: number } }).values.n === k);
    if (copies.length === 0) problems.push(`message ${k} never reached the server`);
    if (new Set(copies.map((c) => c.payload)).size > 1) problems.push(`message ${k} sent again with a new timestamp`);
  }
  agent.stop();
  return { cutsMade: server.cuts, problems };
}

describe("DeviceAgent: connection cut at every packet boundary", () => {
  for (const direction of ["client", "server"] as const) {
    it(`after each packet ${direction === "client" ? "from the device" : "from the server"}`, async () => {
      const failures: string[] = [];
      let covered = 0;
      for (let n = 1; n < 60; n++) {
        const outcome = await scenario(direction, n);
        if (outcome.cutsMade === 0) {
          // The exchange has fewer packets: every boundary was covered, and this run had no cut at all.
          expect(outcome.problems).toEqual([]);
          break;
        }
        covered++;
        if (outcome.problems.length > 0) failures.push(`cut after ${direction} packet ${n}: ${outcome.problems.join("; ")}`);
      }
      expect(failures).toEqual([]);
      // Device: CONNECT, SUBSCRIBE, PUBLISH request, PUBACK response, DISCONNECT; CONNECT, PUBLISH × 2; and the
      // DISCONNECT of stop(). Server: CONNACK, SUBACK, PUBACK, PUBLISH response; CONNACK, PUBACK × 2.
      expect(covered).toBe(direction === "client" ? 9 : 7);
    });
  }
});
