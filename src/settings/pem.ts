/**
 * PEM → DER, portable (no atob or Buffer: XS on Moddable has neither). Moddable's SecureSocket wants DER for the
 * CA and client certificates and for the PKCS#8 client key, while ThingsBoard and the factory deal in PEM.
 */
import { SdkError } from "../errors.js";

/** A PEM block that is missing, unterminated or not valid base64. The message never contains the PEM text. */
export class PemError extends SdkError {
  override name = "PemError";
  constructor(message: string) {
    super("invalid-pem", message);
  }
}

const INVALID = 255;
const DECODE = /* @__PURE__ */ buildDecodeTable();

function buildDecodeTable(): Uint8Array {
  const table = new Uint8Array(128).fill(INVALID);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

/** Decodes standard base64; whitespace is skipped, padding is optional. Throws PemError on anything else. */
export function base64ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(((text.length + 3) >> 2) * 3);
  let acc = 0;
  let bits = 0;
  let n = 0;
  let padding = 0;
  for (const ch of text) {
    // for…of: XS's charCodeAt(i) is O(i) on long strings (see src/mqtt/utf8.ts); a certificate is ~1.3 KB.
    const c = ch.charCodeAt(0);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    const v = c < 128 ? DECODE[c]! : INVALID;
    if (v === INVALID || padding > 0) throw new PemError("invalid base64 in PEM data");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  if (padding > 2 || bits >= 6) throw new PemError("truncated base64 in PEM data");
  return out.slice(0, n);
}

/**
 * The DER bytes of the first PEM block (or the first block labelled `label`, e.g. "CERTIFICATE", "PRIVATE KEY").
 * Throws PemError when there is none or it is damaged.
 */
export function pemToDer(pem: string, label?: string): Uint8Array {
  let from = 0;
  for (;;) {
    const begin = pem.indexOf("-----BEGIN ", from);
    if (begin < 0) throw new PemError(label ? `no "${label}" block in PEM data` : "no PEM block found");
    const labelEnd = pem.indexOf("-----", begin + 11);
    if (labelEnd < 0) throw new PemError("unterminated PEM header");
    const found = pem.slice(begin + 11, labelEnd);
    const footer = `-----END ${found}-----`;
    const end = pem.indexOf(footer, labelEnd + 5);
    if (end < 0) throw new PemError(`PEM block "${found}" has no END line`);
    if (label === undefined || found === label) {
      const der = base64ToBytes(pem.slice(labelEnd + 5, end));
      if (der.length === 0) throw new PemError(`PEM block "${found}" is empty`);
      return der;
    }
    from = end + footer.length;
  }
}

/** The label of the first PEM block ("CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY"…), or undefined. */
export function pemLabel(pem: string): string | undefined {
  const begin = pem.indexOf("-----BEGIN ");
  if (begin < 0) return undefined;
  const end = pem.indexOf("-----", begin + 11);
  return end < 0 ? undefined : pem.slice(begin + 11, end);
}
