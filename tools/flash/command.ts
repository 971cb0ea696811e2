/**
 * `tbsdk flash`: put a Moddable ESP32 build (and optionally a factory NVS image) on a board over its serial port.
 * Exit codes: 0 flashed and verified; 1 failed (`tbsdk flash: <message>`); 2 bad command line (message + usage).
 */
import * as path from "node:path";
import { Log } from "../../src/log.js";
import { stdoutSink, systemClock, type TextStream } from "../../hosts/node/index.js";
import { allFlags, flag, has, integer, optionalFlag, UsageError, type Subcommand } from "../args.js";
import { FlashError } from "./errors.js";
import { flashImages } from "./flash.js";
import {
  BOOTLOADER_OFFSET,
  CHIP_NAME,
  loadBuildImages,
  moddableBuildDir,
  nvsImageFor,
  parseImageSpec,
  planImages,
  readImageFile,
  type BuildVariant,
  type ChipFamily,
  type FlashImage,
} from "./images.js";
import { choosePort, describePort, listSerialPorts, type ChosenPort, type ListPorts } from "../serial/ports.js";
import { FlashProgress } from "./progress.js";
import { NodeWebSerialPort, type WebSerialPort } from "./web-serial-node.js";

export const FLASH_USAGE =
  "tbsdk flash --port PATH|auto [--build DIR | --app NAME [--debug|--release|--instrument]] [--image ADDR=FILE]... " +
  "[--nvs FILE] [--baud 921600] [--chip esp32|esp32s3] [--flash-size 4MB] [--no-compress] [--no-reset] " +
  "[--connect-attempts 7] [--log-level E|W|I|D|V]";

export interface FlashCommandDeps {
  /** Opens nothing yet: returns the closed port for a path (tests hand in a simulator's port). */
  openPort: (port: ChosenPort, onSignalsUnsupported: (message: string) => void) => WebSerialPort;
  listPorts: ListPorts;
  stdout: TextStream;
  stderr: TextStream;
  env: NodeJS.ProcessEnv;
}

const defaultDeps = (): FlashCommandDeps => ({
  openPort: (p, onSignalsUnsupported) => new NodeWebSerialPort(p.path, { usbVendorId: p.usbVendorId, usbProductId: p.usbProductId, onSignalsUnsupported }),
  listPorts: listSerialPorts,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});


function parseChip(raw: string | undefined): ChipFamily | undefined {
  if (raw === undefined) return undefined;
  const chip = raw.toLowerCase().replace(/-/g, "");
  if (!(chip in CHIP_NAME)) throw new UsageError(`--chip must be one of ${Object.keys(CHIP_NAME).join(", ")}, got "${raw}"`);
  return chip as ChipFamily;
}

function parseFlashSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+)(KB|MB)$/i.exec(raw);
  if (!m) throw new UsageError(`--flash-size looks like 4MB or 512KB, got "${raw}"`);
  return Number(m[1]) * (m[2].toUpperCase() === "MB" ? 1024 * 1024 : 1024);
}

interface Plan {
  images: FlashImage[];
  chip?: ChipFamily;
}

function collectImages(args: string[], env: NodeJS.ProcessEnv): Plan {
  let chip = parseChip(optionalFlag(args, "chip"));
  const images: FlashImage[] = [];
  const build = optionalFlag(args, "build");
  const app = optionalFlag(args, "app");
  if (build && app) throw new UsageError("give --build DIR or --app NAME, not both");
  const variants = (["debug", "release", "instrument"] as const).filter((v) => has(args, v));
  if (variants.length > 1) throw new UsageError("give at most one of --debug, --release, --instrument");
  if (variants.length > 0 && !app) throw new UsageError(`--${variants[0]} goes with --app NAME`);
  let dir = build;
  if (app) {
    const moddable = env.MODDABLE;
    if (!moddable) throw new UsageError("--app needs the MODDABLE environment variable (Moddable SDK checkout); or give --build DIR");
    dir = moddableBuildDir(moddable, app, (variants[0] ?? "debug") as BuildVariant);
  }
  if (dir) {
    const loaded = loadBuildImages(path.resolve(dir), chip ?? "esp32");
    if (loaded.chipHint && !chip) chip = parseChip(loaded.chipHint);
    else if (loaded.chipHint && chip && parseChip(loaded.chipHint) !== chip) {
      throw new UsageError(`the build in ${dir} is for ${loaded.chipHint}, not --chip ${chip}`);
    }
    images.push(...loaded.images);
  }
  for (const spec of allFlags(args, "image")) {
    const { address, file } = parseImageSpec(spec);
    images.push({ name: path.basename(file), address, data: readImageFile(file) });
  }
  const nvs = optionalFlag(args, "nvs");
  if (nvs) images.push(nvsImageFor(images, readImageFile(nvs), path.basename(nvs)));
  if (images.length === 0) throw new UsageError("nothing to flash: give --build DIR, --app NAME or --image ADDR=FILE");
  if (chip && !images.some((i) => i.address === BOOTLOADER_OFFSET[chip!]) && images.some((i) => i.name.startsWith("bootloader"))) {
    throw new UsageError(`${CHIP_NAME[chip]} expects its bootloader at 0x${BOOTLOADER_OFFSET[chip].toString(16)}`);
  }
  return { images, chip };
}

export async function runFlash(args: string[], deps: FlashCommandDeps = defaultDeps()): Promise<number> {
  try {
    const level = flag(args, "log-level", "I");
    if (!["E", "W", "I", "D", "V"].includes(level)) throw new UsageError("--log-level must be one of E W I D V");
    const portArg = optionalFlag(args, "port");
    if (!portArg) throw new UsageError("--port PATH or --port auto is required");
    const baud = integer(args, "baud", 921600);
    if (baud < 9600) throw new UsageError(`--baud ${baud} is too low`);
    const connectAttempts = integer(args, "connect-attempts", 7);
    if (connectAttempts < 1) throw new UsageError("--connect-attempts must be at least 1");
    const flashSize = parseFlashSize(optionalFlag(args, "flash-size"));
    const plan = collectImages(args, deps.env);
    // Order and chip-independent checks before any port is opened.
    const images = planImages(plan.images, flashSize);

    const log = new Log(stdoutSink({ stream: deps.stdout }), systemClock(), { level: level as "I" }).tag("flash");
    const chosen = portArg === "auto" ? await choosePort(deps.listPorts) : await describePort(portArg, deps.listPorts);
    if (portArg === "auto") log.info(`--port auto: using ${chosen.path}`);
    const port = deps.openPort(chosen, (m) => log.warn(m));
    const progress = new FlashProgress(deps.stdout, images);
    const started = Date.now();
    const result = await flashImages({
      port,
      portName: chosen.path,
      images,
      baud,
      compress: !has(args, "no-compress"),
      chip: plan.chip,
      reset: !has(args, "no-reset"),
      connectAttempts,
      flashSize,
      onProgress: (i, written, total) => progress.update(i, written, total),
      log,
    });
    const bytes = result.images.reduce((n, i) => n + i.bytes, 0);
    log.info(`done: ${result.images.length} images, ${bytes} bytes written and verified on ${result.chip} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      deps.stderr.write(`tbsdk flash: ${e.message}\nusage: ${FLASH_USAGE}\n`);
      return 2;
    }
    const message = e instanceof FlashError || e instanceof Error ? e.message : String(e);
    deps.stderr.write(`tbsdk flash: ${message.replace(/\s*\n\s*/g, " ")}\n`);
    return 1;
  }
}

export function createFlashCommand(deps?: Partial<FlashCommandDeps>): Subcommand {
  return {
    summary: "flash a Moddable ESP32 build (bootloader, partition table, app) and a factory NVS image over a serial port",
    usage: FLASH_USAGE,
    run: (args) => runFlash(args, { ...defaultDeps(), ...deps }),
  };
}

export const flashCommand: Subcommand = createFlashCommand();
