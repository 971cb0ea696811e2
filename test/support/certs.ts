/**
 * A throwaway PKI for TLS tests, made with the openssl CLI:
 * - ca            trusted root (RSA 2048)
 * - server        signed by ca, SAN DNS:localhost, IP:127.0.0.1
 * - client        signed by ca, CN=test-client (clientAuth)
 * - otherCa       an unrelated root, for "wrong CA" tests (trust it and the real server fails verification)
 * - otherClient   CN=test-client signed by otherCa, for "broker rejects an unknown client certificate"
 * - wrongHost     signed by ca, but SAN DNS:wrong.example only, for "wrong host name" tests
 * otherClient reuses client's key and wrongHost reuses server's key: RSA key generation is the slow part.
 * Keys are unencrypted PKCS#8 PEM. DER copies of the CA and client pair are included because Moddable's TLS
 * wants DER (PKCS#8 for the key).
 * Everything is world-readable (dir 0755, files 0644) on purpose: Mosquitto started as root drops to the
 * `mosquitto` user and must still read them. These are test keys, valid for nothing else.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface CertPair {
  /** PEM certificate */
  cert: string;
  /** PEM private key (PKCS#8, unencrypted) */
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  ca: { cert: string; certFile: string; certDer: Buffer };
  server: CertPair;
  client: CertPair & { certDer: Buffer; keyDer: Buffer };
  otherCa: { cert: string; certFile: string };
  otherClient: CertPair;
  wrongHost: CertPair;
}

/** Bump when the set of generated files or their contents change, so old caches are not reused. */
const LAYOUT_VERSION = 1;
const COMPLETE_MARKER = "complete";

const cache = new Map<string, TestPki>();

/**
 * The test PKI in `dir`, generated there unless a complete one is already present. The default dir is
 * $TMPDIR/tbsdk-test-pki-v<N>-<uid>, kept across runs: generation takes about a second (four RSA keys) and
 * Jest evaluates modules afresh for every test file, so an in-memory cache alone would pay that per file.
 * Generation goes to a temp dir renamed into place, so parallel Jest workers never see half a PKI.
 */
export function makeTestPki(dir: string = defaultDir()): TestPki {
  const target = path.resolve(dir);
  const cached = cache.get(target);
  if (cached) return cached;
  if (!isComplete(target)) generateInto(target);
  const pki = load(target);
  cache.set(target, pki);
  return pki;
}

function defaultDir(): string {
  return path.join(os.tmpdir(), `tbsdk-test-pki-v${LAYOUT_VERSION}-${process.getuid?.() ?? "user"}`);
}

function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE_MARKER));
}

function generateInto(target: string): void {
  const occupied = fs.existsSync(target) && fs.readdirSync(target).length > 0;
  if (occupied) {
    generate(target); // a caller's dir with other content: generate in place
    return;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = fs.mkdtempSync(`${target}.tmp-`);
  try {
    generate(staging);
    fs.renameSync(staging, target); // replaces an empty dir; fails if another worker got there first
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!isComplete(target)) throw err;
  }
}

function generate(dir: string): void {
  const file = (name: string) => path.join(dir, name);

  makeCa(file("ca.key"), file("ca.pem"), "tbsdk Test Root CA");
  makeCa(file("other-ca.key"), file("other-ca.pem"), "tbsdk Unrelated CA");
  makeLeaf(dir, "server", "localhost", "ca", [
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "extendedKeyUsage=serverAuth",
  ]);
  makeLeaf(dir, "client", "test-client", "ca", ["extendedKeyUsage=clientAuth"]);
  fs.copyFileSync(file("client.key"), file("other-client.key"));
  makeLeaf(dir, "other-client", "test-client", "other-ca", ["extendedKeyUsage=clientAuth"]);
  fs.copyFileSync(file("server.key"), file("wrong-host.key"));
  makeLeaf(dir, "wrong-host", "wrong.example", "ca", [
    "subjectAltName=DNS:wrong.example",
    "extendedKeyUsage=serverAuth",
  ]);
  openssl(["x509", "-in", file("ca.pem"), "-outform", "DER", "-out", file("ca.der")]);
  openssl(["x509", "-in", file("client.pem"), "-outform", "DER", "-out", file("client.der")]);
  openssl(["pkcs8", "-topk8", "-nocrypt", "-in", file("client.key"), "-outform", "DER", "-out", file("client.key.der")]);
  fs.writeFileSync(file(COMPLETE_MARKER), `${LAYOUT_VERSION}\n`);
  fs.chmodSync(dir, 0o755);
  for (const name of fs.readdirSync(dir)) fs.chmodSync(file(name), 0o644);
}

function load(dir: string): TestPki {
  const file = (name: string) => path.join(dir, name);
  const read = (name: string) => fs.readFileSync(file(name), "utf8");
  const pair = (name: string): CertPair => ({
    cert: read(`${name}.pem`),
    key: read(`${name}.key`),
    certFile: file(`${name}.pem`),
    keyFile: file(`${name}.key`),
  });
  return {
    dir,
    ca: { cert: read("ca.pem"), certFile: file("ca.pem"), certDer: fs.readFileSync(file("ca.der")) },
    server: pair("server"),
    client: {
      ...pair("client"),
      certDer: fs.readFileSync(file("client.der")),
      keyDer: fs.readFileSync(file("client.key.der")),
    },
    otherCa: { cert: read("other-ca.pem"), certFile: file("other-ca.pem") },
    otherClient: pair("other-client"),
    wrongHost: pair("wrong-host"),
  };
}


function makeCa(keyFile: string, certFile: string, commonName: string): void {
  openssl([
    "req", "-x509", "-newkey", "rsa:2048", "-noenc", "-sha256", "-days", "3650",
    "-keyout", keyFile, "-out", certFile,
    "-subj", `/CN=${commonName}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** Issues `name`.pem signed by `caName`; creates `name`.key unless it already exists (to reuse a key). */
function makeLeaf(dir: string, name: string, commonName: string, caName: string, extensions: string[]): void {
  const file = (suffix: string) => path.join(dir, `${name}${suffix}`);
  const keyArgs = fs.existsSync(file(".key")) ? ["-key", file(".key")] : ["-newkey", "rsa:2048", "-noenc", "-keyout", file(".key")];
  openssl(["req", "-new", ...keyArgs, "-out", file(".csr"), "-subj", `/CN=${commonName}`]);
  fs.writeFileSync(
    file(".ext"),
    ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", ...extensions].join("\n") + "\n",
  );
  openssl([
    "x509", "-req", "-sha256", "-days", "3650",
    "-in", file(".csr"),
    "-CA", path.join(dir, `${caName}.pem`), "-CAkey", path.join(dir, `${caName}.key`),
    // A random positive serial instead of -CAcreateserial's shared .srl file.
    "-set_serial", `0x${randomBytes(16).toString("hex").replace(/^./, "1")}`,
    "-extfile", file(".ext"),
    "-out", file(".pem"),
  ]);
  fs.rmSync(file(".csr"));
  fs.rmSync(file(".ext"));
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || (err as Error).message}`);
  }
}
