/**
 * Factory image generation: 1,000 per-device NVS images (0x6000 bytes) with realistic settings — an 807-byte CA
 * certificate given as PEM (decoded to a DER blob), provision key and secret, host, port, TLS flag, telemetry
 * interval and the device's own name — each validated by the firmware's resolveSettings and laid out by
 * buildNvsImage, as `tbsdk factory run` does (file writes excluded). Median of 3 runs after a warm-up.
 */
import { SETTINGS } from "../src/settings/keys.js";
import { buildNvsImage } from "../tools/factory/nvs-image.js";
import { readNvsImage } from "../tools/factory/nvs-reader.js";
import { factoryEntries, type FactorySettings } from "../tools/factory/sdk-settings.js";

export interface NvsBench {
  devices: 1000;
  /** Wall time for 1,000 images (median of 3 runs). */
  ms: number;
  imagesPerSec: number;
  bytesPerImage: number;
  /** Reference measured in the same run: parsing the same 1,000 images back (readNvsImage, every CRC checked). */
  readBackMs: number;
}

const DEVICES = 1000;
const SIZE = 0x6000;

/** A deterministic stand-in for a CA certificate: 807 bytes of DER, as PEM (the decoder does not parse X.509). */
function caPem(): string {
  const der = new Uint8Array(807);
  let x = 0x2545f491;
  for (let i = 0; i < der.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    der[i] = x & 0xff;
  }
  der[0] = 0x30; // SEQUENCE, as a certificate starts
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function generate(common: FactorySettings): Uint8Array[] {
  const images: Uint8Array[] = [];
  for (let i = 1; i <= DEVICES; i++) {
    const name = `ESP32-${String(i).padStart(6, "0")}`;
    images.push(buildNvsImage(factoryEntries({ ...common, deviceName: name }, name), SIZE));
  }
  return images;
}

export function benchNvs(): NvsBench {
  const common: FactorySettings = {
    host: "tb.example.com",
    port: 8883,
    tls: true,
    caCert: caPem(),
    provisionKey: "u7ad1y2bmyk1x4fzcn5q",
    provisionSecret: "w3o9bgtle9q0hgmurl6d",
    telemetryIntervalMs: 10_000,
  };
  generate(common).length; // warm-up
  const runs: number[] = [];
  let last: Uint8Array[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    last = generate(common);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const reads: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    for (const image of last) readNvsImage(image);
    reads.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // Sanity (untimed): the last image reads back with every CRC checked and holds its own name.
  const back = readNvsImage(last[DEVICES - 1]!);
  if ((back.tb_factory?.[SETTINGS.deviceName.key] as { value?: string } | undefined)?.value !== `ESP32-${String(DEVICES).padStart(6, "0")}`) {
    throw new Error("benchNvs: the last image does not read back");
  }
  const ms = runs.sort((a, b) => a - b)[1]!;
  const readBackMs = reads.sort((a, b) => a - b)[1]!;
  return {
    devices: DEVICES, ms: Math.round(ms * 10) / 10, imagesPerSec: Math.round((DEVICES * 1000) / ms), bytesPerImage: SIZE,
    readBackMs: Math.round(readBackMs * 10) / 10,
  };
}

if (require.main === module) process.stdout.write(JSON.stringify(benchNvs()) + "\n");
