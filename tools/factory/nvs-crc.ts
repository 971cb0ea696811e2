/**
 * The CRC32 that ESP-IDF's NVS stores in page headers, entries and string/blob data.
 *
 * It is the reflected CRC-32 (polynomial 0xEDB88320) continued from a previous value of 0xFFFFFFFF, i.e.
 * zlib's `crc32(data, 0xFFFFFFFF)`: "123456789" gives 0xd202d277, not the textbook 0xcbf43926.
 * Implemented here (not via `zlib.crc32`) because that function only exists from Node 20.15 / 22.2.
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib-compatible CRC32: `previous` is the CRC of the bytes before `data` (0 for none). */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The NVS flavour: zlib's crc32 seeded with 0xFFFFFFFF. */
export function nvsCrc32(data: Uint8Array): number {
  return crc32(data, 0xffffffff);
}
