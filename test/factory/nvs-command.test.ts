/** `tbsdk factory nvs`: a generic CSV or JSON in the reference generator's format → the same bytes as buildNvsImage. */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildNvsImage, nvsEntriesFromJson, parseNvsCsv } from "../../tools/factory/nvs-image.js";
import { readNvsImage } from "../../tools/factory/nvs-reader.js";
import { FIXTURES, runFactoryCli, tempDir } from "./support.js";

describe("tbsdk factory nvs", () => {
  const dir = tempDir("factory-nvs-");
  const cwd = process.cwd();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => process.chdir(cwd));

  it("builds a CSV (with a file row, relative to the working directory) into exactly buildNvsImage's bytes, which read back", async () => {
    process.chdir(FIXTURES); // file rows resolve against the working directory, as with nvs_partition_gen.py
    const out = path.join(dir, "csv.bin");
    const r = await runFactoryCli(["nvs", "--csv", "nvs.csv", "--size", "0x6000", "--out", out]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.output).toMatch(/factory nvs: .*csv\.bin \(0x6000 bytes, NVS v2, sha256 [0-9a-f]{64}\)/);
    const expected = buildNvsImage(parseNvsCsv(fs.readFileSync("nvs.csv", "utf8"), (p) => new Uint8Array(fs.readFileSync(p))), 0x6000);
    const image = new Uint8Array(fs.readFileSync(out));
    expect(Buffer.compare(image, expected)).toBe(0);
    const contents = readNvsImage(image);
    expect(contents.tb_factory!.tb_host).toEqual({ type: "string", value: "tb.example.com" });
    expect(contents.tb_factory!.tb_port).toEqual({ type: "i32", value: 8883 });
    expect(contents.tb_factory!.tb_ca).toEqual({ type: "blob", value: new Uint8Array(fs.readFileSync("ca.der")) });
  });

  it("builds version 1 and a reference check value from the shared fixtures", async () => {
    const out = path.join(dir, "check.bin");
    const r = await runFactoryCli(["nvs", "--csv", path.join(FIXTURES, "..", "nvs", "check.csv"), "--size", "12288", "--out", out, "--version", "1"]);
    expect(r.code).toBe(0);
    const image = new Uint8Array(fs.readFileSync(out));
    expect(image.length).toBe(0x3000);
    expect(image[8]).toBe(0xff); // v1 version byte
    expect(readNvsImage(image).storage!.device_id).toEqual({ type: "string", value: "dev-0001" });
  });

  it("builds JSON (namespace → key → value)", async () => {
    const json = { app: { name: "x", count: 7, flag: { type: "u8", value: 1 }, blob: { base64: "AQID" } } };
    const file = path.join(dir, "in.json");
    fs.writeFileSync(file, JSON.stringify(json));
    const out = path.join(dir, "json.bin");
    expect((await runFactoryCli(["nvs", "--json", file, "--size", "0x3000", "--out", out])).code).toBe(0);
    const image = new Uint8Array(fs.readFileSync(out));
    expect(Buffer.compare(image, buildNvsImage(nvsEntriesFromJson(json as never), 0x3000))).toBe(0);
    expect(readNvsImage(image).app).toEqual({
      name: { type: "string", value: "x" },
      count: { type: "i32", value: 7 },
      flag: { type: "u8", value: 1 },
      blob: { type: "blob", value: new Uint8Array([1, 2, 3]) },
    });
  });

  it("refuses bad input with a message", async () => {
    const out = path.join(dir, "bad.bin");
    expect((await runFactoryCli(["nvs", "--csv", "x.csv", "--out", out])).output).toMatch(/--size is required/);
    expect((await runFactoryCli(["nvs", "--csv", "a", "--json", "b", "--size", "0x3000", "--out", out])).output).toMatch(/exactly one of --csv/);
    expect((await runFactoryCli(["nvs", "--csv", "a", "--size", "0x2500", "--out", out])).output).toMatch(/--size must be a multiple/);
    const bad = path.join(dir, "bad.csv");
    fs.writeFileSync(bad, "key,type,encoding,value\nns,namespace,,\nk,data,u8,300\n");
    expect((await runFactoryCli(["nvs", "--csv", bad, "--size", "0x3000", "--out", out])).output).toMatch(/bad\.csv: NVS CSV line 3: NVS key "k": 300 is out of range for u8/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
