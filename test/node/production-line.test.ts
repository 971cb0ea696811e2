/**
 * The production line end to end, as a factory runs it, with the simulator in place of a board:
 *   `tbsdk factory run` (per-device NVS images) → `tbsdk flash --build … --nvs …` through a real pty and the
 *   serialport adapter → the board's flash, read back at the nvs partition that hosts/esp32/partitions.csv
 *   declares → what the firmware's Preference would return → the firmware's own settings resolver.
 * Together this ties the partition layout, the factory image size, the flash tool and the firmware's keys.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FACTORY_NAMESPACE } from "../../src/settings/keys.js";
import { resolveSettings } from "../../src/settings/resolve.js";
import { readNvsImage } from "../../tools/factory/nvs-reader.js";
import { nvsPreferenceSource } from "../../tools/factory/preference-view.js";
import { runFlash } from "../../tools/flash/command.js";
import { APP_SUBTYPE, DATA_SUBTYPE, encodePartitionTable, PARTITION_TYPE, type Partition } from "../../tools/flash/partition-table.js";
import { NodeWebSerialPort } from "../../tools/flash/web-serial-node.js";
import { FIXTURES, runFactoryCli, tempDir } from "../factory/support.js";
import { SOCAT, startPtyRomLoader } from "../support/rom-loader/pty.js";
import { firmwareBytes } from "../flash/fixtures.js";

const ROOT = path.resolve(__dirname, "../..");

/** hosts/esp32/partitions.csv as the binary table mcconfig builds from it. */
function firmwarePartitions(): Partition[] {
  const rows = fs.readFileSync(path.join(ROOT, "hosts/esp32/partitions.csv"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  return rows.map((l) => {
    const [label, type, subtype, offset, size] = l.split(",").map((c) => c.trim());
    return {
      label: label!,
      type: type === "app" ? PARTITION_TYPE.app : PARTITION_TYPE.data,
      subtype: type === "app" ? APP_SUBTYPE[subtype as "factory"] : DATA_SUBTYPE[subtype as "nvs" | "phy"],
      offset: Number(offset),
      size: Number(size),
      flags: 0,
    };
  });
}

const maybe = fs.existsSync(SOCAT) ? describe : describe.skip;

maybe("production line: factory run → flash through a pty → what the firmware reads", () => {
  it("puts each device's own settings where the firmware looks for them", async () => {
    const dir = tempDir("line-");
    const images = path.join(dir, "images");
    const factory = await runFactoryCli(["run", "--devices", path.join(FIXTURES, "devices.csv"), "--settings", path.join(FIXTURES, "common.json"), "--out", images, "--strategy", "provision"]);
    expect(factory.output).toMatch(/factory: 5 NVS images/);
    expect(factory.code).toBe(0);

    // A Moddable build folder, with the firmware's real partition table.
    const partitions = firmwarePartitions();
    const build = path.join(dir, "build");
    fs.mkdirSync(build);
    fs.writeFileSync(path.join(build, "bootloader.bin"), firmwareBytes(24 * 1024, 1));
    fs.writeFileSync(path.join(build, "partition-table.bin"), encodePartitionTable(partitions));
    fs.writeFileSync(path.join(build, "xs_esp32.bin"), firmwareBytes(256 * 1024, 2));

    const pty = await startPtyRomLoader();
    try {
      const out = { text: "", isTTY: false, write(s: string) { this.text += s; return true; } };
      const err = { text: "", isTTY: false, write(s: string) { this.text += s; return true; } };
      const code = await runFlash(["--port", pty.hostPath, "--build", build, "--nvs", path.join(images, "ESP32-0002.bin")], {
        openPort: (p, onSignalsUnsupported) => new NodeWebSerialPort(p.path, { onSignalsUnsupported }),
        listPorts: async () => [],
        stdout: out,
        stderr: err,
        env: {},
      });
      expect(err.text).toBe("");
      expect(code).toBe(0);

      const nvs = partitions.find((p) => p.label === "nvs")!;
      const onBoard = readNvsImage(pty.sim.flash.slice(nvs.offset, nvs.offset + nvs.size)); // every CRC checked
      const { settings } = resolveSettings([nvsPreferenceSource(onBoard, FACTORY_NAMESPACE)]);
      expect(settings).toMatchObject({ host: "tb.example.com", port: 8883, tls: true, deviceName: "ESP32-0002", logLevel: "D", telemetryIntervalMs: 5000 });
      expect(settings.caCert).toEqual(new Uint8Array(fs.readFileSync(path.join(FIXTURES, "ca.der"))));
      // The secrets are on the board, and nowhere in what the tools printed.
      expect(settings.provisionSecret).toBe("factory-prov-secret-c91d");
      for (const printed of [factory.output, out.text]) expect(printed).not.toContain("factory-prov-secret-c91d");
    } finally {
      await pty.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
