import { main } from "../../tools/cli.js";
import { runStart } from "../../tools/start.js";

describe("tbsdk CLI", () => {
  it("start: a simulated device connects to the local broker and gets telemetry acked", async () => {
    const out: string[] = [];
    await runStart({ count: 3, intervalMs: 10, level: "D", stream: { write: (s: string) => out.push(s), isTTY: false } });
    const text = out.join("");
    expect(text).toMatch(/^I \(\d+\) start: MQTT broker listening on 127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^I \(\d+\) device: connected$/m);
    expect(text.match(/telemetry #\d acked/g)?.length).toBe(3);
    expect(text).toMatch(/stopped after 3 telemetry messages/);
    // Debug logs describe the CONNECT but never show the access token.
    expect(text).toMatch(/CONNECT client_id=ESP32-SIMULATED-01 .*username=\[redacted\]/);
    expect(text).not.toContain("DEMO_ACCESS_TOKEN_0001");
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
