/**
 * `tbsdk sim`: the real firmware (hosts/esp32) on Moddable's lin simulator against the emulator — the laptop demo
 * of `npm start`, but with the device running on XS instead of Node. Needs the Moddable SDK (MODDABLE, mcconfig on
 * PATH) and Xvfb; this project never builds the SDK, it only calls the installed mcconfig.
 *
 * The device's settings take the production path: the factory tool's code makes an NVS image, whose tb_factory
 * namespace is planted in lin's Preference file (/tmp/modpreferences.json, shared by every lin app; only the
 * tb_factory and tb_cred domains are touched). Boot 1 provisions; boot 2 (a power cut, then power on) must not.
 */
import * as fs from "node:fs";
import { Log } from "../src/log.js";
import { stdoutSink, systemClock } from "../hosts/node/index.js";
import type { TextStream } from "../hosts/node/index.js";
import { flag, has, integer, optionalFlag, UsageError, type Subcommand } from "./args.js";
import { startEmulator } from "./emulator/index.js";
import {
  buildForLin, findModdable, firmwareAppDir, plantFactoryImage, runSimulator, startXvfb, type Display,
} from "./moddable/lin.js";

const PROVISION_KEY = "demo-provision-key";
const PROVISION_SECRET = "demo-provision-secret";

export interface SimOptions {
  /** Telemetry messages per boot before the next power cut; 0 = one boot, until Ctrl-C. */
  count: number;
  boots: number;
  name: string;
  intervalMs: number;
  httpPort: number;
  /** Extra factory settings (NVS keys), over the defaults. */
  settings: Record<string, unknown>;
  keepCredentials: boolean;
  stream?: TextStream;
}

export async function runSim(o: SimOptions, interrupted: () => boolean = () => false): Promise<number> {
  const found = findModdable();
  if ("missing" in found) throw new UsageError(`${found.missing}. See the README, "ESP32 firmware", for the prerequisites.`);
  const clock = systemClock();
  const log = new Log(stdoutSink({ stream: o.stream }), clock);
  const sim = log.tag("sim");
  sim.info(`building ${firmwareAppDir()} with mcconfig -d -m -p lin -t build`);
  const mcSo = buildForLin(found, firmwareAppDir());
  const emulator = await startEmulator({
    bind: "127.0.0.1", mqttPort: 0, httpPort: o.httpPort, reprovision: "strict", log,
    config: { profiles: [{ name: "esp32-demo", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: PROVISION_KEY, provisionDeviceSecret: PROVISION_SECRET }] },
  });
  let provisions = 0;
  let telemetry = 0;
  emulator.subscribe((e) => {
    if (e.type === "provisioned" && e.deviceName === o.name) provisions++;
    if (e.type === "telemetry" && e.deviceName === o.name) telemetry++;
  });
  let display: Display | undefined;
  try {
    const values = {
      tb_host: "127.0.0.1", tb_port: emulator.mqttPort, tb_tls: false, prov_key: PROVISION_KEY, prov_secret: PROVISION_SECRET,
      dev_name: o.name, tm_interval: o.intervalMs, ...o.settings,
    };
    const image = plantFactoryImage(values, o.keepCredentials);
    sim.info(`factory image planted (${image.length} B NVS, namespace tb_factory)`);
    display = process.env.DISPLAY ? { display: process.env.DISPLAY, stop: () => {} } : await startXvfb(found);
    const out = o.stream ?? process.stdout;
    for (let boot = 1; boot <= Math.max(1, o.boots) && !interrupted(); boot++) {
      const before = { provisions, telemetry };
      sim.info(`power on #${boot}`);
      const run = await runSimulator(found, mcSo, display, (line) => out.write(`${line}\n`));
      while (!interrupted() && run.child.exitCode === null && (o.count === 0 || telemetry - before.telemetry < o.count)) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await run.powerOff();
      sim.info(`power off #${boot}: ${provisions - before.provisions} provision request(s), ${telemetry - before.telemetry} telemetry message(s) stored`);
      if (run.child.exitCode !== null && run.child.exitCode !== 0) {
        sim.error(`the simulator exited with code ${run.child.exitCode}`);
        return 1;
      }
      if (o.count === 0) break;
    }
    return 0;
  } finally {
    display?.stop();
    await emulator.close();
  }
}

export const simCommand: Subcommand = {
  summary: "run the real firmware (hosts/esp32) in Moddable's lin simulator against the emulator (needs the Moddable SDK)",
  usage:
    "tbsdk sim [--count N per boot (0 = one boot until Ctrl-C)] [--boots 2] [--name ESP32-SIM-01] [--interval-ms 1000] " +
    "[--http-port 8080] [--settings FILE.json (factory settings by NVS key)] [--keep-credentials]",
  async run(args) {
    let settings: Record<string, unknown> = {};
    const file = optionalFlag(args, "settings");
    if (file) {
      try {
        settings = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      } catch (e) {
        throw new UsageError(`--settings ${file}: ${(e as Error).message}`);
      }
    }
    let interrupted = false;
    const stop = () => (interrupted = true);
    process.once("SIGINT", stop);
    try {
      return await runSim({
        count: integer(args, "count", 5), boots: integer(args, "boots", 2), name: flag(args, "name", "ESP32-SIM-01"),
        intervalMs: integer(args, "interval-ms", 1000), httpPort: integer(args, "http-port", 8080), settings,
        keepCredentials: has(args, "keep-credentials"),
      }, () => interrupted);
    } finally {
      process.removeListener("SIGINT", stop);
    }
  },
};

