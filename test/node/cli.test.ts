import { main } from "../../tools/cli.js";
import { runStart } from "../../tools/start.js";

describe("tbsdk CLI", () => {
  it("start: the emulator runs; the device provisions, sends telemetry, reboots from flash without provisioning", async () => {
    const out: string[] = [];
    await runStart({ count: 2, intervalMs: 10, level: "D", mqttPort: 0, httpPort: 0, stream: { write: (s: string) => out.push(s), isTTY: false } });
    const text = out.join("");
    expect(text).toMatch(/^I \(\d+\) emulator: MQTT listening on 127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^I \(\d+\) provision: Starting provision to 127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^I \(\d+\) provision: Provision response credential type: ACCESS_TOKEN$/m);
    expect(text).toMatch(/^I \(\d+\) emulator: provisioned ESP32-SIMULATED-01: SUCCESS \(ACCESS_TOKEN\)$/m);
    expect(text).toMatch(/^I \(\d+\) device: boot #1: 1 provision request\(s\), 1 connection\(s\)$/m);
    // The reboot comes back from stored credentials: no second provision request, one device on the server.
    expect(text).toMatch(/^I \(\d+\) device: stored credentials loaded: ACCESS_TOKEN/m);
    expect(text).toMatch(/^I \(\d+\) device: boot #2: 0 provision request\(s\), 1 connection\(s\)$/m);
    expect(text).toMatch(/^I \(\d+\) demo: the emulator holds 1 device\(s\) named ESP32-SIMULATED-01$/m);
    expect(text).toMatch(/^I \(\d+\) emulator: seeded 2 profiles and 1 devices$/m);
    expect(text.match(/telemetry #\d acked/g)?.length).toBe(4);
    // Debug logs describe every CONNECT but never show the token or the provision secret.
    expect(text).toMatch(/CONNECT client_id=ESP32-SIMULATED-01 .*username=\[redacted\]/);
    expect(text).not.toContain("demo-provision-secret");
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^[EWIDV] \(\d+\) [\w-]+: /);
  });

  it("rejects unknown subcommands and bad flags with exit code 2", async () => {
    const err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await expect(main(["nope"])).resolves.toBe(2);
      await expect(main(["start", "--count", "-1"])).resolves.toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toMatch(/--count must be a whole number/);
    } finally {
      err.mockRestore();
    }
  });
});
