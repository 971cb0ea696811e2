/**
 * TLS material for the emulator's MQTTS listener: the user's files, or a self-signed certificate for
 * localhost / 127.0.0.1 generated with the openssl CLI (written once into a folder the log names, so a device
 * or a client can be told to trust it).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string;
  /** Where the certificate came from, for the log line. */
  source: string;
}

export function readTlsFiles(certFile: string, keyFile: string, caFile?: string): TlsFiles {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new Error(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  };
  return { cert: read(certFile, "--tls-cert"), key: read(keyFile, "--tls-key"), ca: caFile ? read(caFile, "--tls-ca") : undefined, source: certFile };
}

/** A self-signed localhost certificate in `dir` (made once, then reused). */
export function selfSignedTlsFiles(dir: string): TlsFiles {
  const certFile = path.join(dir, "emulator-cert.pem");
  const keyFile = path.join(dir, "emulator-key.pem");
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    fs.mkdirSync(dir, { recursive: true });
    try {
      execFileSync("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", keyFile, "-out", certFile,
      ], { stdio: "pipe" });
    } catch (e) {
      throw new Error(`could not generate a TLS certificate with openssl (pass --tls-cert and --tls-key instead): ${(e as Error).message}`);
    }
  }
  return { ...readTlsFiles(certFile, keyFile), source: `${certFile} (self-signed, generated)` };
}
