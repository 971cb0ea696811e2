/**
 * JSON text byte-for-byte as ThingsBoard's Java libraries write it, where that differs from JSON.stringify:
 * - Gson (JsonElement.toString, used for provision responses) escapes control characters as `\u00xx` (lower-case
 *   hex) except \b \t \n \f \r, and also escapes U+2028 and U+2029; nothing is HTML-escaped.
 * - Jackson (used to store MQTT_BASIC credentials) escapes control characters as `\u00XX` (upper-case hex) except
 *   \b \t \n \f \r, and leaves everything else as is.
 * - Java's String.getBytes(UTF_8) turns a lone surrogate into "?" (Node would write U+FFFD).
 */
import type { JsonValue } from "./model.js";

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

function quote(s: string, upperHex: boolean, escapeLineSeparators: boolean): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    const code = ch.charCodeAt(0);
    if (short !== undefined) out += short;
    else if (code < 0x20 || (escapeLineSeparators && (code === 0x2028 || code === 0x2029))) {
      const hex = code.toString(16).padStart(4, "0");
      out += "\\u" + (upperHex ? hex.toUpperCase() : hex);
    } else out += ch;
  }
  return out + '"';
}

/** A JSON string literal as Gson's JsonWriter writes it. */
export function gsonQuote(s: string): string {
  return quote(s, false, true);
}

/** A JSON string literal as Jackson's default ObjectMapper writes it. */
export function jacksonQuote(s: string): string {
  return quote(s, true, false);
}

/** Any JSON value as Gson's JsonElement.toString() writes it (object key order kept). */
export function gsonStringify(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "string") return gsonQuote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return "[" + v.map(gsonStringify).join(",") + "]";
  return "{" + Object.entries(v).map(([k, x]) => gsonQuote(k) + ":" + gsonStringify(x)).join(",") + "}";
}

/** Java's String.getBytes(UTF_8): like Buffer.from(s, "utf8") except a lone surrogate becomes "?". */
export function javaUtf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "?"), "utf8"));
}
