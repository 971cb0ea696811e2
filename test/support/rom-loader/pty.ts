/**
 * The simulator behind a real device node: `socat` joins two pseudo-terminals, the simulator holds one end
 * (through the `serialport` package) and the code under test opens the other by path, exactly as it would
 * /dev/ttyUSB0. A pty has no DTR/RTS, so the simulated chip starts in download mode. When the simulator
 * "vanishes", socat is killed and the host end hangs up, as an unplugged USB-UART does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SerialPort } from "serialport";
import { RomLoaderSimulator, type RomLoaderOptions } from "./simulator.js";

export const SOCAT = "/usr/bin/socat";

export interface PtyRomLoader {
  sim: RomLoaderSimulator;
  /** The path the code under test opens. */
  hostPath: string;
  close(): Promise<void>;
}

function waitForPtys(socat: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      // socat -d -d logs "starting data transfer loop" once both ptys exist and their links are made.
      if (text.includes("starting data transfer loop")) {
        socat.stderr?.off("data", onData);
        resolve();
      }
    };
    socat.stderr?.on("data", onData);
    socat.once("exit", (code) => reject(new Error(`socat exited (${code}) before the ptys were ready: ${text.trim()}`)));
    socat.once("error", reject);
  });
}

export async function startPtyRomLoader(options: RomLoaderOptions = {}): Promise<PtyRomLoader> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-pty-"));
  const devicePath = path.join(dir, "device");
  const hostPath = path.join(dir, "host");
  const socat = spawn(SOCAT, ["-d", "-d", `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], { stdio: ["ignore", "ignore", "pipe"] });
  await waitForPtys(socat);
  socat.stderr?.resume();
  const sim = new RomLoaderSimulator({ startIn: "download", ...options });
  const device = new SerialPort({ path: devicePath, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => device.open((err) => (err ? reject(err) : resolve())));
  device.on("data", (chunk: Buffer) => sim.receive(new Uint8Array(chunk)));
  device.on("error", () => {});
  sim.onOutput = (bytes) => {
    if (device.isOpen) device.write(Buffer.from(bytes));
  };
  const exited = new Promise<void>((resolve) => (socat.exitCode !== null ? resolve() : socat.once("exit", () => resolve())));
  sim.onVanish = () => {
    socat.kill("SIGKILL");
  };
  return {
    sim,
    hostPath,
    async close() {
      if (device.isOpen) await new Promise<void>((resolve) => device.close(() => resolve()));
      if (socat.exitCode === null && socat.signalCode === null) socat.kill("SIGTERM");
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
