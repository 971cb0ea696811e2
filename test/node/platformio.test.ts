/**
 * platformio.ini cannot be exercised here (PlatformIO is neither on npm nor in Debian), so its structure is
 * checked against what PlatformIO and the rest of the project expect: environments for an ESP32 and an ESP32-S3
 * board, speeds and filters, the partition table that mcconfig also uses, and an extra script that exists,
 * compiles and builds with mcconfig.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** PlatformIO's INI dialect as far as this file uses it: sections, `key = value`, `;`/`#` comments, indented continuations. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[;#]/.test(raw) || raw.trim() === "") continue;
    const header = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      section = sections[header[1]!] = {};
      lastKey = undefined;
      continue;
    }
    if (!section) throw new Error(`line outside a section: ${raw}`);
    if (/^\s+/.test(raw) && lastKey) {
      section[lastKey] += "\n" + raw.trim();
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(raw);
    if (!kv) throw new Error(`not key = value: ${raw}`);
    lastKey = kv[1]!;
    section[lastKey] = kv[2]!.replace(/\s+;.*$/, "");
  }
  return sections;
}

/** An environment's effective options: [env] overridden by [env:name]. */
function envOptions(ini: Record<string, Record<string, string>>, name: string): Record<string, string> {
  return { ...ini.env, ...ini[`env:${name}`] };
}

function parsePartitions(text: string): { name: string; type: string; subtype: string; offset: number; size: number }[] {
  return text.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => {
    const [name, type, subtype, offset, size] = l.split(",").map((c) => c.trim());
    return { name: name!, type: type!, subtype: subtype!, offset: Number(offset), size: Number(size) };
  });
}

const ini = parseIni(fs.readFileSync(path.join(ROOT, "platformio.ini"), "utf8"));
const envs = Object.keys(ini).filter((s) => s.startsWith("env:")).map((s) => s.slice(4));

describe("platformio.ini", () => {
  it("has an esp32dev and an ESP32-S3 environment on the espressif32 platform, esp32dev by default", () => {
    expect(envs).toEqual(expect.arrayContaining(["esp32dev"]));
    expect(envs.some((e) => /s3/i.test(envOptions(ini, e).board ?? ""))).toBe(true);
    expect(ini.platformio!.default_envs).toBe("esp32dev");
    for (const e of envs) {
      const o = envOptions(ini, e);
      expect(o.platform).toBe("espressif32");
      expect(o.board).toMatch(/^esp32/);
      // mcconfig's -p: esp32, or esp32/<target> for the S3 family.
      expect(o.custom_mcconfig_platform).toMatch(/^esp32(\/esp32s3)?$/);
      expect(["debug", "instrument", "release"]).toContain(o.custom_mcconfig_build);
    }
  });

  it("sets upload and monitor speeds and the ESP32 monitor filters", () => {
    for (const e of envs) {
      const o = envOptions(ini, e);
      expect(Number(o.upload_speed)).toBeGreaterThanOrEqual(115200);
      expect(o.monitor_speed).toBe("115200");
      const filters = o.monitor_filters!.split(",").map((f) => f.trim());
      expect(filters).toEqual(expect.arrayContaining(["esp32_exception_decoder", "time", "log2file"]));
    }
  });

  it("uses the partition table mcconfig builds with, with an nvs partition and the app at 0x10000", () => {
    const file = ini.env!["board_build.partitions"]!;
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "hosts/esp32/manifest.json"), "utf8"));
    expect(path.resolve(ROOT, "hosts/esp32", manifest.platforms.esp32.build.PARTITIONS_FILE)).toBe(path.resolve(ROOT, file));
    const table = parsePartitions(fs.readFileSync(path.join(ROOT, file), "utf8"));
    const nvs = table.find((p) => p.subtype === "nvs")!;
    expect(nvs).toMatchObject({ name: "nvs", type: "data", offset: 0x9000 });
    expect(nvs.size % 0x1000).toBe(0);
    expect(nvs.size).toBeGreaterThanOrEqual(0x3000);
    expect(table.find((p) => p.type === "app")!.offset).toBe(0x10000);
    // No overlaps, all within the 4 MB flash the file declares.
    const sorted = [...table].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.offset).toBeGreaterThanOrEqual(sorted[i - 1]!.offset + sorted[i - 1]!.size);
    expect(ini.env!["board_build.flash_size"]).toBe("4MB");
    expect(sorted.at(-1)!.offset + sorted.at(-1)!.size).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it("runs an extra script that exists, compiles, builds with mcconfig and uploads the three Moddable images", () => {
    const extra = ini.env!.extra_scripts!.replace(/^pre:/, "");
    const script = fs.readFileSync(path.join(ROOT, extra), "utf8");
    for (const needle of ['"mcconfig"', "AddCustomTarget", 'name="mcbuild"', 'name="mcupload"', "bootloader.bin", "partition-table.bin", "xs_esp32.bin", "custom_mcconfig_args"]) {
      expect(script).toContain(needle);
    }
    // Secrets passed as mcconfig arguments are not echoed.
    expect(script).toMatch(/prov_secret=/);
    let python: string | undefined;
    try {
      python = execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
    } catch {
      python = undefined;
    }
    if (python) {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pio-")), "x.pyc");
      execFileSync(python, ["-c", `import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)`, path.join(ROOT, extra), out]);
    }
  });
});
