/**
 * The root manifest.json is how a Moddable app gets the core: every module in src/ must be listed under
 * tbsdk/<path>, point at an existing file, and every relative import inside src/ must land on a listed module
 * (mcconfig resolves relative imports against manifest names, so an unlisted one fails only on the device).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8"));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

const files = sources(path.join(root, "src")).map((f) => path.relative(root, f).replace(/\.ts$/, ""));

describe("root manifest.json", () => {
  it("lists every core module as tbsdk/<path> -> ./src/<path>", () => {
    for (const f of files) {
      const name = "tbsdk/" + f.replace(/^src\//, "");
      expect(manifest.modules[name]).toBe("./" + f);
    }
  });

  it("lists every Moddable adapter as tbsdk/esp32/<name> (the firmware's main excepted), and nothing else", () => {
    const adapters = fs.readdirSync(path.join(root, "hosts/esp32")).filter((n) => n.endsWith(".ts") && !n.endsWith(".d.ts") && n !== "main.ts");
    expect(adapters.length).toBeGreaterThan(5);
    for (const a of adapters) expect(manifest.modules["tbsdk/esp32/" + a.replace(/\.ts$/, "")]).toBe("./hosts/esp32/" + a.replace(/\.ts$/, ""));
    expect(Object.keys(manifest.modules).length).toBe(files.length + adapters.length);
  });

  it("includes the manifest of every Moddable module the adapters import, so what type-checks also runs", () => {
    // module specifier -> the Moddable manifest that provides it (timer and time come with every platform's base)
    const provider: Record<string, string | null> = {
      socket: "$(MODULES)/network/socket/manifest.json",
      securesocket: "$(MODULES)/crypt/tls.json",
      preference: "$(MODULES)/files/preference/manifest.json",
      net: "$(MODULES)/network/net/manifest.json",
      instrumentation: "$(MODULES)/base/instrumentation/manifest.json",
      Resource: "$(MODULES)/files/resource/manifest.json",
      timer: null,
      time: null,
    };
    const imported = new Set<string>();
    for (const n of fs.readdirSync(path.join(root, "hosts/esp32")).filter((n) => n.endsWith(".ts") && n !== "main.ts")) {
      const text = fs.readFileSync(path.join(root, "hosts/esp32", n), "utf8");
      for (const m of text.matchAll(/^import\s+(?!type\b)[^"]*"([^"]+)"/gm)) if (!m[1].startsWith(".") && !m[1].startsWith("tbsdk/")) imported.add(m[1]);
    }
    expect([...imported].sort()).toEqual(Object.keys(provider).sort());
    for (const spec of imported) if (provider[spec]) expect(manifest.include).toContain(provider[spec]);
  });

  it("has every relative import inside src/ resolve to a listed module", () => {
    const listed = new Set(Object.values(manifest.modules) as string[]);
    for (const f of files) {
      const text = fs.readFileSync(path.join(root, f + ".ts"), "utf8");
      for (const m of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
        const target = "./" + path.posix.join(path.posix.dirname(f), m[1].replace(/\.js$/, ""));
        expect(listed.has(target)).toBe(true);
      }
    }
  });

  it("keeps src/ free of Node, Moddable and host globals", () => {
    const forbidden = /from\s+"(node:|fs|net|tls|crypto|os|path|events|stream|buffer|util|timer|socket|securesocket|preference|mc\/)|\b(Buffer|process|require|console|setTimeout|setInterval|TextEncoder|TextDecoder|trace)\s*[.(]/;
    for (const f of files) {
      const code = fs.readFileSync(path.join(root, f + ".ts"), "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
      expect({ file: f, hit: forbidden.exec(code)?.[0] ?? null }).toEqual({ file: f, hit: null });
    }
  });

  it("gives the firmware the package's version, so a serial log names the SDK release it runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const main = fs.readFileSync(path.join(root, "hosts/esp32/main.ts"), "utf8");
    expect(/FIRMWARE_VERSION = "([^"]+)"/.exec(main)?.[1]).toBe(pkg.version);
  });

  it("preloads every core module by name (mcconfig matches wildcard preloads against .js modules only), no adapter", () => {
    // Adapters import Moddable modules; preloading runs imports at build time (lin's Preference would read its file then).
    expect(manifest.preload).toEqual(Object.keys(manifest.modules).filter((m) => !m.startsWith("tbsdk/esp32/")));
  });
});
