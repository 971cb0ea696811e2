/**
 * End to end through a real device node: `tbsdk flash --port /tmp/…/host` opens a socat pseudo-terminal with the
 * serialport adapter (NodeWebSerialPort); the ROM-loader simulator holds the other end.
 */
import * as fs from "node:fs";
import { runFlash } from "../../tools/flash/command";
import { nvsImageFor } from "../../tools/flash/images";
import { SOCAT, startPtyRomLoader, type PtyRomLoader } from "../support/rom-loader/pty";
import { buildImages, expectedFlash, firstDifference, nvsImage } from "./fixtures";
import { captured, imageArgs, tempDir } from "./command-support";
import * as path from "node:path";
import { SerialPort } from "serialport";
import { NodeWebSerialPort } from "../../tools/flash/web-serial-node";

const haveSocat = fs.existsSync(SOCAT);
const maybe = haveSocat ? describe : describe.skip;
if (!haveSocat) process.stderr.write(`test/flash/flash-pty: ${SOCAT} missing, pty suites skipped (apt-get install socat)\n`);

let dir: string;
beforeAll(() => (dir = tempDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function flashThroughPty(pty: PtyRomLoader, extra: string[]) {
  const stdout = captured();
  const stderr = captured();
  // The real adapter (NodeWebSerialPort over serialport); no listing is needed for an explicit path.
  const code = await runFlash(["--port", pty.hostPath, ...extra], {
    openPort: (p, onSignalsUnsupported) => new NodeWebSerialPort(p.path, { onSignalsUnsupported }),
    listPorts: async () => [],
    stdout,
    stderr,
    env: {},
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

maybe.each([
  ["compressed", []],
  ["uncompressed", ["--no-compress"]],
])("flash %s through a pty", (_name, flags) => {
  test("every image lands byte for byte, 0xFF elsewhere; exit 0", async () => {
    const pty = await startPtyRomLoader();
    try {
      const images = buildImages(160 * 1024);
      const all = [...images, nvsImageFor(images, nvsImage(), "factory-nvs.bin")];
      const nvsFile = path.join(dir, `nvs-${_name}.bin`);
      fs.writeFileSync(nvsFile, nvsImage());
      const run = await flashThroughPty(pty, [...(flags as string[]), "--nvs", nvsFile, ...imageArgs(dir, images)]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(firstDifference(pty.sim.flash, expectedFlash(all, pty.sim.flash.length))).toBe(-1);
      // No DTR/RTS on a pty: one warning, and the reset is left to the person.
      expect(run.stdout).toMatch(/W \(\d+\) flash: .* has no DTR\/RTS lines/);
      expect(run.stdout).toMatch(/press EN\/RESET to start the new firmware/);
      expect(run.stdout).toMatch(/flash: xs_esp32\.bin 0x10000 100% \(\d+\/\d+ B\)\n/);
      expect(run.stdout).toMatch(/done: 4 images, \d+ bytes written and verified on ESP32-D0WD-V3/);
    } finally {
      await pty.close();
    }
  });
});

maybe("port trouble on a pty", () => {
  test("a port another program holds (a serial monitor): port-busy, exit 1", async () => {
    const pty = await startPtyRomLoader();
    const monitor = new SerialPort({ path: pty.hostPath, baudRate: 115200, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => monitor.open((err) => (err ? reject(err) : resolve())));
      const run = await flashThroughPty(pty, imageArgs(dir, buildImages(4096)));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tbsdk flash: serial port .*host is in use by another program \(close the serial monitor\)/);
      expect(pty.sim.ops).toEqual([]);
    } finally {
      if (monitor.isOpen) await new Promise<void>((resolve) => monitor.close(() => resolve()));
      await pty.close();
    }
  });

  test("the other end hangs up mid-write: port-lost, exit 1", async () => {
    const pty = await startPtyRomLoader({ faults: { vanishAfterBytes: 30_000 } });
    try {
      const run = await flashThroughPty(pty, ["--no-compress", ...imageArgs(dir, buildImages(64 * 1024))]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tbsdk flash: .*host disappeared \(unplugged, or the board reset itself\) while writing bootloader\.bin at 0x1000/);
    } finally {
      await pty.close();
    }
  });
});
