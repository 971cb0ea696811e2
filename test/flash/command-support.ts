/** Drives `tbsdk flash` (runFlash) with captured output, image files in a temp folder, and a simulator port. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runFlash, type FlashCommandDeps } from "../../tools/flash/command";
import type { FlashImage } from "../../tools/flash/images";
import type { PortListing } from "../../tools/serial/ports";
import { MemoryWebSerialPort } from "../support/rom-loader/memory-web-serial";
import { RomLoaderSimulator, type RomLoaderOptions } from "../support/rom-loader/simulator";

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function captured(isTTY = false): { write(s: string): boolean; isTTY: boolean; text: string } {
  return {
    isTTY,
    text: "",
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

/** Writes the images as files and returns `--image ADDR=FILE` arguments for them. */
export function imageArgs(dir: string, images: readonly FlashImage[]): string[] {
  // A folder per call: tests that vary an image never overwrite another test's file.
  const own = fs.mkdtempSync(path.join(dir, "images-"));
  return images.flatMap((img) => {
    const file = path.join(own, img.name);
    fs.writeFileSync(file, img.data);
    return ["--image", `0x${img.address.toString(16)}=${file}`];
  });
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-flash-"));
}

/** runFlash with every port path served by one simulator on an in-memory port (unless `deps` says otherwise). */
export async function runWithSimulator(
  args: string[],
  options: RomLoaderOptions = {},
  deps: Partial<FlashCommandDeps> = {},
): Promise<CommandRun & { sim: RomLoaderSimulator }> {
  const sim = new RomLoaderSimulator(options);
  const stdout = captured();
  const stderr = captured();
  const listPorts = async (): Promise<PortListing[]> => [];
  const code = await runFlash(args, {
    openPort: () => new MemoryWebSerialPort(sim),
    listPorts,
    stdout,
    stderr,
    env: {},
    ...deps,
  });
  return { code, stdout: stdout.text, stderr: stderr.text, sim };
}
