/**
 * Child-process entry for the emulator load bench (bench/emulator-load.ts): starts the emulator on free ports
 * (127.0.0.1, no data file, log level "E" to a null sink, one ALLOW_CREATE_NEW_DEVICES profile) and prints its
 * ports as one JSON line on stdout. Over the IPC channel (it is started with fork) it answers
 * `{cmd:"stats"}` with the server's CPU time, heap and what the store holds, and `{cmd:"stop"}` by closing the
 * emulator and exiting. It exits by itself when the parent goes away (IPC disconnect).
 */
import { Log } from "../src/log.js";
import { startEmulator } from "../tools/emulator/index.js";

export const BENCH_PROVISION_KEY = "bench-provision-key";
export const BENCH_PROVISION_SECRET = "bench-provision-secret";
/** The telemetry key whose stored points the bench counts. */
export const BENCH_SEQ_KEY = "seq";

export interface ServerReady {
  mqttPort: number;
  httpPort: number;
  pid: number;
}

export interface ServerStats {
  cpuUserMs: number;
  cpuSystemMs: number;
  heapUsedMb: number;
  rssMb: number;
  devices: number;
  /** Stored points of BENCH_SEQ_KEY over all devices (bounded per key by the store, 1000 by default). */
  seqPoints: number;
}

async function main(): Promise<void> {
  const log = new Log(
    { write() {} },
    { now: () => Date.now(), setTimer: (cb, ms) => setTimeout(cb, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) },
    { level: "E" },
  );
  const emu = await startEmulator({
    bind: "127.0.0.1",
    mqttPort: 0,
    httpPort: 0,
    reprovision: "strict",
    provisionCloseMs: Number(process.env.BENCH_PROVISION_CLOSE_MS ?? 1000),
    config: {
      profiles: [{ name: "bench", provisionType: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceKey: BENCH_PROVISION_KEY, provisionDeviceSecret: BENCH_PROVISION_SECRET }],
    },
    log,
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code), 3000);
    force.unref();
    try {
      await emu.close();
    } finally {
      process.exit(code);
    }
  };

  process.on("message", (m: { cmd?: string }) => {
    if (m?.cmd === "stats") {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      let seqPoints = 0;
      const devices = emu.store.listDevices();
      for (const d of devices) seqPoints += emu.store.timeseriesSize(d.id.id, BENCH_SEQ_KEY);
      const stats: ServerStats = {
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        heapUsedMb: mem.heapUsed / 1048576,
        rssMb: mem.rss / 1048576,
        devices: devices.length,
        seqPoints,
      };
      process.send?.({ stats });
    } else if (m?.cmd === "stop") {
      void stop(0);
    }
  });
  process.on("disconnect", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  const ready: ServerReady = { mqttPort: emu.mqttPort, httpPort: emu.httpPort, pid: process.pid };
  process.stdout.write(JSON.stringify(ready) + "\n");
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`emulator-load-server failed: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
}
