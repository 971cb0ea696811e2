import { createHash } from "node:crypto";
import {
  APP_SUBTYPE,
  DATA_SUBTYPE,
  encodePartitionTable,
  findBootAppPartition,
  findNvsPartition,
  parsePartitionTable,
  PARTITION_TYPE,
  type Partition,
} from "../../tools/flash/partition-table";
import { FlashError } from "../../tools/flash/errors";

/** ESP-IDF's "Single factory app, no OTA" table (partitions_singleapp.csv). */
const SINGLE_APP: Partition[] = [
  { label: "nvs", type: PARTITION_TYPE.data, subtype: DATA_SUBTYPE.nvs, offset: 0x9000, size: 0x6000, flags: 0 },
  { label: "phy_init", type: PARTITION_TYPE.data, subtype: DATA_SUBTYPE.phy, offset: 0xf000, size: 0x1000, flags: 0 },
  { label: "factory", type: PARTITION_TYPE.app, subtype: APP_SUBTYPE.factory, offset: 0x10000, size: 0x100000, flags: 0 },
];

test("entries are laid out as gen_esp32part.py writes them", () => {
  const bin = encodePartitionTable(SINGLE_APP);
  // nvs,data,nvs,0x9000,0x6000
  expect(Buffer.from(bin.subarray(0, 32)).toString("hex")).toBe(
    "aa500102" + "00900000" + "00600000" + Buffer.from("nvs").toString("hex") + "00".repeat(13) + "00000000",
  );
  // The MD5 entry follows the last partition: EB EB, 14 x FF, MD5 of the entries before it.
  const md5 = bin.subarray(96, 128);
  expect(Buffer.from(md5.subarray(0, 16)).toString("hex")).toBe("ebeb" + "ff".repeat(14));
  expect(Buffer.from(md5.subarray(16)).toString("hex")).toBe(createHash("md5").update(bin.subarray(0, 96)).digest("hex"));
  expect(bin.subarray(128).every((b) => b === 0xff)).toBe(true);
  expect(bin.length).toBe(0xc00);
});

test("parse(encode(table)) gives the table back, and finds nvs and the boot app", () => {
  const parsed = parsePartitionTable(encodePartitionTable(SINGLE_APP));
  expect(parsed.partitions).toEqual(SINGLE_APP);
  expect(parsed.md5).toBe(true);
  expect(findNvsPartition(parsed)?.offset).toBe(0x9000);
  expect(findBootAppPartition(parsed)?.label).toBe("factory");
});

test("an OTA layout boots ota_0 when there is no factory app; labels of 16 bytes have no NUL", () => {
  const ota: Partition[] = [
    { label: "nvs_with_long_lb", type: 1, subtype: DATA_SUBTYPE.nvs, offset: 0x9000, size: 0x4000, flags: 0 },
    { label: "otadata", type: 1, subtype: DATA_SUBTYPE.ota, offset: 0xd000, size: 0x2000, flags: 0 },
    { label: "ota_0", type: 0, subtype: 0x10, offset: 0x10000, size: 0x1e0000, flags: 0 },
    { label: "ota_1", type: 0, subtype: 0x11, offset: 0x1f0000, size: 0x1e0000, flags: 1 },
  ];
  const parsed = parsePartitionTable(encodePartitionTable(ota));
  expect(parsed.partitions).toEqual(ota);
  expect(findBootAppPartition(parsed)?.label).toBe("ota_0");
});

test("a table without an MD5 entry parses; a corrupted one, a wrong file and an empty one are refused", () => {
  const bin = encodePartitionTable(SINGLE_APP);
  const noMd5 = bin.slice();
  noMd5.fill(0xff, 96, 128);
  expect(parsePartitionTable(noMd5).md5).toBe(false);

  const corrupt = bin.slice();
  corrupt[8] ^= 0x10; // nvs size
  expect(() => parsePartitionTable(corrupt)).toThrow(/MD5 entry at 0x60 does not match/);

  const notATable = new Uint8Array(64).fill(0x12);
  expect(() => parsePartitionTable(notATable, "xs_esp32.bin")).toThrow(/xs_esp32\.bin: entry at 0x0 has no AA 50 magic/);
  expect(() => parsePartitionTable(new Uint8Array(0xc00).fill(0xff))).toThrow(FlashError);
});

test("random bytes never crash the parser: it returns a table or throws a FlashError", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let n = 0; n < 500; n++) {
    const bin = encodePartitionTable(SINGLE_APP);
    for (let k = 0; k < 1 + (next() % 8); k++) bin[next() % 160] = next() & 0xff;
    try {
      parsePartitionTable(bin);
    } catch (e) {
      expect(e).toBeInstanceOf(FlashError);
    }
  }
});
