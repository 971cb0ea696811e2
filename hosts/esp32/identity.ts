/** Device identity: the station MAC address, as ESP32-<12 hex digits>, the default device name. */
import Net from "net";

/** "A4:D1:8C:DB:C0:20" → "A4D18CDBC020"; undefined when the host has no MAC (the lin simulator). */
export function macAddress(): string | undefined {
  let mac: string | undefined;
  try {
    mac = Net.get("MAC");
  } catch {
    return undefined;
  }
  if (typeof mac !== "string") return undefined;
  const hex = mac.split(":").join("").toUpperCase();
  return /^[0-9A-F]{12}$/.test(hex) && hex !== "000000000000" ? hex : undefined;
}

/** The default device name for a MAC, e.g. "ESP32-A4D18CDBC020". */
export function defaultDeviceName(mac: string): string {
  return `ESP32-${mac}`;
}
