/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zlib, PNG and Ethernet use. */

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  // 1 KB, built on first use: a module-level constant would cost heap on devices that never save credentials.
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  table = t;
  return t;
}

/**
 * CRC-32 of bytes [start, end). Chains like zlib's crc32(): `crc32(b, 0, b.length, crc32(a))` equals the CRC of
 * a followed by b, so a record split across several stored values is checked without joining them.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  const t = crcTable();
  let c = ~previous;
  for (let i = start; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
