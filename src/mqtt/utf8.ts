/**
 * UTF-8 for MQTT strings without host globals (Moddable has no TextEncoder/TextDecoder).
 * MQTT 3.1.1 §1.5.3: well-formed UTF-8, no U+0000, no surrogates.
 */

import { MqttProtocolError } from "./errors.js";

// XS stores strings as UTF-8, so charCodeAt(i) scans from the start: an indexed loop is O(n²) there. Its
// string iterator walks once (but allocates per character). Short strings (topics, telemetry: the hot path)
// keep the indexed loop, which is fastest on V8; long ones are iterated.
const ITERATE_ABOVE = 256;

// `s.charCodeAt(i)` on a primitive makes XS allocate a String wrapper per call (2 heap slots);
// calling the built-in with the string as `this` allocates nothing. V8 inlines either form.
const charCodeAt = String.prototype.charCodeAt;
const codePointAt = String.prototype.codePointAt;

function loneSurrogate(): MqttProtocolError {
  return new MqttProtocolError("invalid-utf8", "string contains a lone surrogate");
}

function nulCharacter(): MqttProtocolError {
  return new MqttProtocolError("invalid-utf8", "string contains U+0000");
}

/** Encoded length of `s`; throws on lone surrogates or U+0000 (which MQTT forbids). */
export function utf8Length(s: string): number {
  if (s.length > ITERATE_ABOVE) return utf8LengthIterating(s);
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = charCodeAt.call(s, i);
    if (c < 0x80) {
      if (c === 0) throw nulCharacter();
      n += 1;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < len ? charCodeAt.call(s, i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) throw loneSurrogate();
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw loneSurrogate();
    } else n += 3;
  }
  return n;
}

function utf8LengthIterating(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = charCodeAt.call(ch, 0);
    if (c < 0x80) {
      if (c === 0) throw nulCharacter();
      n += 1;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // The iterator yields a valid pair as one 2-unit string, a lone surrogate alone.
      if (ch.length !== 2) throw loneSurrogate();
      n += 4;
    } else n += 3;
  }
  return n;
}

/** Writes `s` (already checked by utf8Length) at `offset`; returns the offset after it. */
export function writeUtf8(s: string, buf: Uint8Array, offset: number): number {
  if (s.length > ITERATE_ABOVE) return writeUtf8Iterating(s, buf, offset);
  let o = offset;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = charCodeAt.call(s, i);
    if (c < 0x80) buf[o++] = c;
    else if (c < 0x800) {
      buf[o++] = 0xc0 | (c >> 6);
      buf[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (charCodeAt.call(s, ++i) - 0xdc00);
      buf[o++] = 0xf0 | (c >> 18);
      buf[o++] = 0x80 | ((c >> 12) & 0x3f);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    } else {
      buf[o++] = 0xe0 | (c >> 12);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
}

function writeUtf8Iterating(s: string, buf: Uint8Array, offset: number): number {
  let o = offset;
  for (const ch of s) {
    const c = codePointAt.call(ch, 0) as number;
    if (c < 0x80) buf[o++] = c;
    else if (c < 0x800) {
      buf[o++] = 0xc0 | (c >> 6);
      buf[o++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      buf[o++] = 0xe0 | (c >> 12);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    } else {
      buf[o++] = 0xf0 | (c >> 18);
      buf[o++] = 0x80 | ((c >> 12) & 0x3f);
      buf[o++] = 0x80 | ((c >> 6) & 0x3f);
      buf[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o;
}

// fromCharCode.apply pushes every argument onto the XS stack, which on a device is 512 slots in all (Moddable's
// ESP32 default; the firmware's manifest too): 1024 overflowed it in mcsim ("JavaScript stack overflow") on a
// 1.4 KB provision response. 128 leaves room for the frames below and costs little (one more concatenation per 128).
const APPLY_CHUNK = 128;

/** Decodes bytes [start, end) as strict UTF-8 (no overlongs, surrogates or U+0000). */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  // Fast path: pure ASCII, the usual case for topics and client ids.
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b === 0 || b >= 0x80) break;
    i++;
  }
  if (i === end) return asciiToString(buf, start, end);
  return decodeMultibyte(buf, start, end);
}

function asciiToString(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= APPLY_CHUNK) {
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  let out = "";
  for (let i = start; i < end; i += APPLY_CHUNK) {
    const stop = i + APPLY_CHUNK < end ? i + APPLY_CHUNK : end;
    out += String.fromCharCode.apply(null, buf.subarray(i, stop) as unknown as number[]);
  }
  return out;
}

function decodeMultibyte(buf: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let out = "";
  let i = start;
  while (i < end) {
    const b = buf[i++];
    let cp: number;
    if (b < 0x80) {
      if (b === 0) throw new MqttProtocolError("invalid-utf8", "string contains U+0000");
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      cp = ((b & 0x1f) << 6) | continuation(buf, i++, end);
    } else if (b >= 0xe0 && b <= 0xef) {
      cp = ((b & 0x0f) << 12) | (continuation(buf, i, end) << 6) | continuation(buf, i + 1, end);
      i += 2;
      if (cp < 0x800) throw new MqttProtocolError("invalid-utf8", "overlong UTF-8 sequence");
      if (cp >= 0xd800 && cp <= 0xdfff) throw new MqttProtocolError("invalid-utf8", "UTF-8 encoded surrogate");
    } else if (b >= 0xf0 && b <= 0xf4) {
      cp = ((b & 0x07) << 18) | (continuation(buf, i, end) << 12) | (continuation(buf, i + 1, end) << 6) |
        continuation(buf, i + 2, end);
      i += 3;
      if (cp < 0x10000 || cp > 0x10ffff) throw new MqttProtocolError("invalid-utf8", "UTF-8 code point out of range");
    } else {
      throw new MqttProtocolError("invalid-utf8", `invalid UTF-8 lead byte 0x${b.toString(16)}`);
    }
    if (cp < 0x10000) units.push(cp);
    else {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    }
    if (units.length >= APPLY_CHUNK) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
}

function continuation(buf: Uint8Array, i: number, end: number): number {
  if (i >= end) throw new MqttProtocolError("invalid-utf8", "truncated UTF-8 sequence");
  const b = buf[i];
  if ((b & 0xc0) !== 0x80) throw new MqttProtocolError("invalid-utf8", "invalid UTF-8 continuation byte");
  return b & 0x3f;
}
