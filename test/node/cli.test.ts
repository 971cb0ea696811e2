import { main } from "../../tools/cli.js";
import { runStart } from "../../tools/start.js";

describe("tbsdk CLI", () => {
  it("start: the emulator runs and a simulated device provisions itself, reconnects and gets telemetry acked", async () => {
    const out: string[] = [];
    await runStart({ count: 3, intervalMs: 10, level: "D", mqttPort: 0, httpPort: 0, stream: { write: (s: string) => out.push(s), isTTY: false } });
    const text = out.join("");
    expect(text).toMatch(/^I \(\d+\) emulator: MQTT listening on 127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^I \(\d+\) provision: Starting provision to 127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^I \(\d+\) provision: Provision response credential type: ACCESS_TOKEN$/m);
    expect(text).toMatch(/^I \(\d+\) emulator: provisioned ESP32-SIMULATED-01: SUCCESS \(ACCESS_TOKEN\)$/m);
    expect(text).toMatch(/^I \(\d+\) device: connected with the provisioned access token$/m);
    expect(text.match(/telemetry #\d acked/g)?.length).toBe(3);
    // Debug logs describe every CONNECT but never show the token or the provision secret.
    expect(text).toMatch(/CONNECT client_id=ESP32-SIMULATED-01 .*username=\[redacted\]/);
    expect(text).not.toContain("demo-provision-secret");
    expect(text).not.toMatch(/[A-Za-z0-9]{15}TOKEN/);
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
