/**
 * Telemetry values as ThingsBoard's REST API prints them. Without `useStrictDataTypes=true` every value is the
 * Java KvEntry.getValueAsString(): longs as digits, doubles as Java's Double.toString ("1.0E-5", "1.2E7"),
 * booleans as true/false, JSON values as their JSON text.
 *
 * The store keeps JavaScript numbers, so a double that happens to be integral (25.0) prints as a long ("25").
 */
import type { KvValue } from "./model.js";

export function valueAsString(v: KvValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return isJavaLong(v) ? BigInt(v).toString() : javaDoubleToString(v);
  return JSON.stringify(v);
}

/** Integral and within Java's long range: ThingsBoard stored it as a LongDataEntry. */
function isJavaLong(v: number): boolean {
  return Number.isInteger(v) && v >= -9_223_372_036_854_775_808 && v < 9_223_372_036_854_775_808;
}

/** Java's Double.toString for finite and special values. */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return "NaN";
  if (!Number.isFinite(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(d);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const s = String(d);
    return s.includes(".") ? s : `${s}.0`;
  }
  const [mantissa, exponent] = d.toExponential().split("e") as [string, string];
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
