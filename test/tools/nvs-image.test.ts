/**
 * The NVS partition image generator (tools/factory/nvs-image.ts) against hashes of images made by ESP-IDF's
 * reference `nvs_partition_gen.py` (test/fixtures/nvs/README.md), and every image read back by
 * tools/factory/nvs-reader.ts with every CRC checked.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { crc32, nvsCrc32 } from "../../tools/factory/nvs-crc.js";
import { buildNvsImage, NvsImageError, nvsEntriesFromJson, parseNvsCsv, type NvsEntry, type NvsImageErrorCode } from "../../tools/factory/nvs-image.js";
import { NvsReadError, parseNvsImage, readNvsImage, type NvsContents, type NvsReadErrorCode, type NvsValue } from "../../tools/factory/nvs-reader.js";

const FIXTURES = path.join(__dirname, "..", "fixtures", "nvs");
const readFixture = (p: string) => new Uint8Array(fs.readFileSync(path.join(FIXTURES, p)));
const csvEntries = (name: string) => parseNvsCsv(fs.readFileSync(path.join(FIXTURES, name), "utf8"), readFixture);
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

interface ReferenceImage {
  csv: string;
  size: string;
  version: 1 | 2;
  sha256: string;
  blocks: string[];
}
const reference: { images: ReferenceImage[] } = JSON.parse(fs.readFileSync(path.join(FIXTURES, "reference.json"), "utf8"));

/** Where `image` first departs from the reference, from the per-32-byte-block digests in reference.json. */
function firstDifference(image: Uint8Array, ref: ReferenceImage): string {
  const size = Number(ref.size);
  if (image.length !== size) return `length ${image.length}, reference ${size}`;
  for (let offset = 0; offset < size; offset += 32) {
    const page = offset >> 12;
    const slot = (offset & 0xfff) >> 5;
    const want = ref.blocks[page]!.slice(slot * 4, slot * 4 + 4);
    const block = image.subarray(offset, offset + 32);
    if (sha256(block).slice(0, 4) !== want) {
      const what = slot === 0 ? "header" : slot === 1 ? "bitmap" : `entry ${slot - 2}`;
      return `first differing 32-byte block at offset 0x${offset.toString(16)} (page ${page}, ${what}): ours ${hex(block)}`;
    }
  }
  return "same blocks, different hash";
}

/** What the reader should find: the entries by namespace, later writes of a key winning. */
function expectedContents(entries: readonly NvsEntry[]): NvsContents {
  const out: NvsContents = {};
  let ns = "";
  for (const e of entries) {
    if (e.kind === "namespace") {
      ns = e.name;
      out[ns] ??= {};
      continue;
    }
    let v: NvsValue;
    if (e.kind === "int") v = e.type === "u64" || e.type === "i64" ? { type: e.type, value: BigInt(e.value) } : { type: e.type, value: Number(e.value) };
    else if (e.kind === "string") v = { type: "string", value: e.value };
    else v = { type: "blob", value: e.value };
    out[ns]![e.key] = v;
  }
  return out;
}

/** Blobs as hex so that failures print readably and Buffer/Uint8Array compare equal. */
const comparable = (c: NvsContents) =>
  Object.fromEntries(Object.entries(c).map(([ns, kv]) => [ns, Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, v.type === "blob" ? { type: "blob", hex: hex(v.value) } : v]))]));

function expectNvsError(fn: () => unknown, code: NvsImageErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(NvsImageError);
  expect((thrown as NvsImageError).code).toBe(code);
}

function expectReadError(image: Uint8Array, code: NvsReadErrorCode): NvsReadError {
  let thrown: unknown;
  try {
    readNvsImage(image);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(NvsReadError);
  expect((thrown as NvsReadError).code).toBe(code);
  return thrown as NvsReadError;
}

describe("NVS CRC32", () => {
  it("is zlib's crc32 seeded with 0xFFFFFFFF", () => {
    const check = new TextEncoder().encode("123456789");
    expect(crc32(check)).toBe(0xcbf43926); // the textbook CRC-32
    expect(nvsCrc32(check)).toBe(0xd202d277);
    expect(nvsCrc32(new Uint8Array(0))).toBe(0xffffffff);
    const zcrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
    if (typeof zcrc !== "function") return; // Node < 20.15: nothing to compare with
    let seed = 7;
    for (let n = 0; n < 300; n += 37) {
      const data = new Uint8Array(n).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expect(nvsCrc32(data)).toBe(zcrc(data, 0xffffffff));
      expect(crc32(data)).toBe(zcrc(data));
    }
  });
});

describe("NVS image generator vs the reference nvs_partition_gen.py", () => {
  it.each(reference.images.map((r) => [`${r.csv} @ ${r.size} v${r.version}`, r] as const))("%s is byte-identical", (_name, ref) => {
    const entries = csvEntries(ref.csv);
    const image = buildNvsImage(entries, Number(ref.size), { version: ref.version });
    const digest = sha256(image);
    if (digest !== ref.sha256) throw new Error(`${ref.csv} @ ${ref.size}: SHA-256 ${digest}, reference ${ref.sha256}; ${firstDifference(image, ref)}`);
    // And it reads back to exactly the entries, every CRC checked.
    const { pages, contents } = parseNvsImage(image);
    expect(comparable(contents)).toEqual(comparable(expectedContents(entries)));
    // The last page is always left erased for NVS's own use.
    expect(pages[pages.length - 1]!.state).toBe("uninitialized");
  });

  it("reproduces the check value: namespace storage, device_id = dev-0001, 0x3000 bytes", () => {
    const image = buildNvsImage(nvsEntriesFromJson({ storage: { device_id: "dev-0001" } }), 0x3000);
    expect(image.length).toBe(0x3000);
    expect(hex(image.subarray(0, 32))).toBe("feffffff00000000fe" + "ff".repeat(19) + "842dbab9");
    // Three entries written (namespace, string header, one data entry): 0b11_10_10_10.
    expect(hex(image.subarray(0x20, 0x40))).toBe("ea" + "ff".repeat(31));
    expect(hex(image.subarray(0x40, 0x60))).toBe("000101ff09a95007" + hex(new TextEncoder().encode("storage")) + "00".repeat(9) + "01" + "ff".repeat(7));
    expect(hex(image.subarray(0x60, 0x80))).toBe("012102ff151161f1" + hex(new TextEncoder().encode("device_id")) + "00".repeat(7) + "0900ffff74d0cde1");
    expect(hex(image.subarray(0x80, 0xa0))).toBe(hex(new TextEncoder().encode("dev-0001\0")) + "ff".repeat(23));
    expect(image.subarray(0x1000).every((b) => b === 0xff)).toBe(true);
    expect(sha256(image)).toBe(reference.images.find((r) => r.csv === "check.csv")!.sha256);
  });

  it("reports too-small images where the reference fails with InsufficientSizeError", () => {
    expectNvsError(() => buildNvsImage(csvEntries("strings-pages.csv"), 0x6000), "image-too-small");
    expectNvsError(() => buildNvsImage(csvEntries("blob-edges.csv"), 0x3000), "image-too-small");
    expect(() => buildNvsImage(csvEntries("many.csv"), 0x3000)).not.toThrow(); // exactly fills its two pages
  });
});

describe("NVS image inputs", () => {
  it("builds from JSON: strings, i32 by default, typed integers, blobs", () => {
    const blob = new Uint8Array(5000).map((_, i) => i * 7);
    const entries = nvsEntriesFromJson({
      app: { name: "demo", count: -3, big: 2n ** 40n, flag: { type: "u8", value: 1 }, id: { type: "u64", value: "18446744073709551615" } },
      data: { raw: blob, b64: { base64: "AAEC" }, hexed: { type: "hex2bin", value: "cafe" }, typed: { type: "blob", value: { base64: "/w==" } } },
    });
    const contents = readNvsImage(buildNvsImage(entries, 0x5000));
    expect(contents.app).toEqual({
      name: { type: "string", value: "demo" },
      count: { type: "i32", value: -3 },
      big: { type: "i64", value: 2n ** 40n },
      flag: { type: "u8", value: 1 },
      id: { type: "u64", value: 2n ** 64n - 1n },
    });
    expect(hex(contents.data!.raw!.value as Uint8Array)).toBe(hex(blob));
    expect(hex(contents.data!.b64!.value as Uint8Array)).toBe("000102");
    expect(hex(contents.data!.hexed!.value as Uint8Array)).toBe("cafe");
    expect(hex(contents.data!.typed!.value as Uint8Array)).toBe("ff");
  });

  it("JSON and CSV of the same data give the same image", () => {
    const fromCsv = buildNvsImage(csvEntries("namespaces.csv"), 0x3000);
    const fromJson = buildNvsImage(
      nvsEntriesFromJson({
        wifi: { ssid: "factory-net", channel: { type: "u8", value: 6 } },
        tb: { host: "demo.thingsboard.io", port: { type: "u16", value: 1883 }, token: { base64: "dG9rZW4tMTIzNA==" } },
        unused: {},
        moddable: { count: -5, name: "esp32" },
      }),
      0x3000,
    );
    expect(sha256(fromJson)).toBe(sha256(fromCsv));
  });

  it("parses CSV quoting, comments, CRLF, column order and blank lines", () => {
    const entries = parseNvsCsv('# comment\r\nvalue,encoding,type,key\r\n,,namespace,ns\r\n\r\n"a,""b""\nc",string,data,k\r\n7,u16,data,n\r\n');
    expect(entries).toEqual([
      { kind: "namespace", name: "ns" },
      { kind: "string", key: "k", value: 'a,"b"\nc' },
      { kind: "int", key: "n", type: "u16", value: 7n },
    ]);
  });

  it("writes entries into the namespace they follow when a namespace comes back", () => {
    // (The reference generator would file `a2` under the latest namespace, `nsb`: a bug we do not copy.)
    const csv = "key,type,encoding,value\nnsa,namespace,,\na1,data,u8,1\nnsb,namespace,,\nb1,data,u8,2\nnsa,namespace,,\na2,data,u8,3\n";
    expect(readNvsImage(buildNvsImage(parseNvsCsv(csv), 0x3000))).toEqual({
      nsa: { a1: { type: "u8", value: 1 }, a2: { type: "u8", value: 3 } },
      nsb: { b1: { type: "u8", value: 2 } },
    });
  });
});

describe("NVS image errors", () => {
  const csv = (row: string) => `key,type,encoding,value\nns,namespace,,\n${row}\n`;

  it("rejects keys longer than 15 characters", () => {
    expectNvsError(() => parseNvsCsv(csv("key_of_16_chars_,data,u8,1")), "key-too-long");
    expectNvsError(() => buildNvsImage([{ kind: "namespace", name: "namespace_of_16c" }], 0x3000), "key-too-long");
    expectNvsError(() => nvsEntriesFromJson({ ns: { ["\u00e9".repeat(8)]: 1 } }), "key-too-long"); // 16 bytes of UTF-8
    expect(() => parseNvsCsv(csv("key_of_15_chars,data,u8,1"))).not.toThrow();
  });

  it("rejects unknown encodings and types", () => {
    expectNvsError(() => parseNvsCsv(csv("k,data,f32,1")), "unknown-encoding");
    expectNvsError(() => parseNvsCsv(csv("k,data,,1")), "unknown-encoding");
    expectNvsError(() => parseNvsCsv(csv("k,blob,u8,1")), "unknown-type");
  });

  it("rejects values out of range for their type", () => {
    for (const row of ["k,data,u8,256", "k,data,u8,-1", "k,data,i8,-129", "k,data,i16,32768", "k,data,u32,4294967296", "k,data,i32,-2147483649", "k,data,u64,-1", "k,data,i64,9223372036854775808"]) {
      expectNvsError(() => parseNvsCsv(csv(row)), "value-out-of-range");
    }
    expectNvsError(() => nvsEntriesFromJson({ ns: { k: 2 ** 31 } }), "value-out-of-range");
    expectNvsError(() => buildNvsImage([{ kind: "namespace", name: "ns" }, { kind: "int", key: "k", type: "u16", value: 70000 }], 0x3000), "value-out-of-range");
    expectNvsError(() => parseNvsCsv(csv("k,data,u8,0x10")), "invalid-value");
    expectNvsError(() => nvsEntriesFromJson({ ns: { k: 1.5 } }), "invalid-value");
    expectNvsError(() => nvsEntriesFromJson({ ns: { k: { type: "blob", value: "not bytes" } as never } }), "invalid-value");
    expectNvsError(() => nvsEntriesFromJson({ ns: { k: true as never } }), "invalid-value");
  });

  it("rejects strings too long for a page", () => {
    const str = (n: number) => [{ kind: "namespace", name: "ns" } as const, { kind: "string", key: "s", value: "x".repeat(n) } as const];
    expect(() => buildNvsImage(str(3967), 0x3000)).not.toThrow(); // 3968 bytes with the NUL: 125 entries
    // 3968..3999 characters: within the 4000-byte limit, yet they need all 126 entries of a page,
    // which the reference's page-full rule never grants (it dies with PageFullError).
    expectNvsError(() => buildNvsImage(str(3968), 0x3000), "string-too-long");
    expectNvsError(() => buildNvsImage(str(4000), 0x3000), "string-too-long");
    expectNvsError(() => buildNvsImage([{ kind: "namespace", name: "ns" }, { kind: "blob", key: "b", value: new Uint8Array(1985) }], 0x3000, { version: 1 }), "blob-too-long");
    // Version 1 caps strings at 1984 bytes too (NUL included).
    expect(() => buildNvsImage(str(1983), 0x3000, { version: 1 })).not.toThrow();
    expectNvsError(() => buildNvsImage(str(1984), 0x3000, { version: 1 }), "string-too-long");
  });

  it("rejects images too small for the data", () => {
    const blob = [{ kind: "namespace", name: "ns" } as const, { kind: "blob", key: "b", value: new Uint8Array(8000) } as const];
    expectNvsError(() => buildNvsImage(blob, 0x3000), "image-too-small");
    expect(() => buildNvsImage(blob, 0x4000)).not.toThrow();
  });

  it("rejects sizes that are not a multiple of 4096 or below 0x3000", () => {
    for (const size of [0, 0x1000, 0x2000, 0x3001, 0x3000 + 2048, -0x3000, 1.5]) expectNvsError(() => buildNvsImage([], size), "bad-size");
    expect(buildNvsImage([], 0x3000).length).toBe(0x3000);
  });

  it("rejects data before any namespace, bad hex and bad base64", () => {
    expectNvsError(() => buildNvsImage(parseNvsCsv("key,type,encoding,value\nk,data,u8,1\n"), 0x3000), "no-namespace");
    expectNvsError(() => parseNvsCsv(csv("k,data,hex2bin,abc")), "invalid-value");
    expectNvsError(() => parseNvsCsv(csv("k,data,hex2bin,zz")), "invalid-value");
    expectNvsError(() => parseNvsCsv(csv("k,data,base64,SGVsbG8")), "invalid-value");
    expectNvsError(() => parseNvsCsv(csv("k,file,string,x.txt")), "csv-format"); // no readFile given
  });
});

describe("NVS reader", () => {
  const image = () => buildNvsImage(csvEntries("blobs.csv"), 0x5000);

  it("lists pages, states and entries", () => {
    const { pages } = parseNvsImage(image());
    expect(pages.map((p) => p.state)).toEqual(["full", "full", "active", "uninitialized", "uninitialized"]);
    expect(pages.slice(0, 3).map((p) => p.seq)).toEqual([0, 1, 2]);
    expect(pages[0]!.entries[0]).toMatchObject({ index: 0, ns: 0, type: 0x01, key: "blobs" });
    const big = pages.flatMap((p) => p.entries).filter((e) => e.key === "big");
    expect(big.map((e) => [e.type, e.chunkIndex])).toEqual([[0x42, 0], [0x42, 1], [0x48, 0xff]]);
  });

  it("throws on a page header CRC mismatch", () => {
    const img = image();
    img[0x1000 + 12] = 0x00;
    expect(expectReadError(img, "page-crc").offset).toBe(0x1000);
  });

  it("throws on an entry CRC mismatch", () => {
    const img = image();
    img[0x40 + 24] ^= 1; // the namespace entry's value
    expect(expectReadError(img, "entry-crc").offset).toBe(0x40);
  });

  it("throws on a string or blob chunk data CRC mismatch", () => {
    const strImg = buildNvsImage(nvsEntriesFromJson({ storage: { device_id: "dev-0001" } }), 0x3000);
    strImg[0x80] ^= 0x20;
    expect(expectReadError(strImg, "data-crc").offset).toBe(0x80);
    const img = image();
    const chunk = parseNvsImage(img).pages[1]!.entries.find((e) => e.key === "big")!;
    img[chunk.offset + 32 + 100] ^= 0xff;
    expectReadError(img, "data-crc");
  });

  it("throws when a blob chunk is missing", () => {
    const img = image();
    const chunk = parseNvsImage(img).pages[1]!.entries.find((e) => e.key === "big")!;
    // Mark the chunk's entries erased (bitmap 10 → 00): the index then lacks chunk 1.
    for (let i = chunk.index; i < chunk.index + chunk.span; i++) img[0x1000 + 0x20 + (i >> 2)] &= ~(3 << ((i & 3) * 2));
    expectReadError(img, "blob");
  });
});

describe("parseNvsCsv line numbers", () => {
  it("names the file's own line, counting comment lines and quoted cells that span lines", () => {
    const csv = "# made by hand\nkey,type,encoding,value\n# the namespace\nstorage,namespace,,\nnote,data,string,\"two\nlines\"\nbad,data,u8,300\n";
    expect(() => parseNvsCsv(csv)).toThrow(/^NVS CSV line 7: NVS key "bad": 300 is out of range for u8/);
    expect(() => parseNvsCsv("key,type,encoding,value\nns,namespace,,\nk,blob,string,x\n")).toThrow(/^NVS CSV line 3: unknown type "blob"/);
  });
});
