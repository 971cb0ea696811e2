/**
 * Node transports (node:net, node:tls) behind the core's TransportConnector port.
 * The contract lives in src/ports.ts; this file only adapts Node's socket events to it.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Transport, TransportCloseInfo, TransportConnector, TransportEvents } from "../../src/ports.js";

export interface TcpOptions {
  host: string;
  port: number;
  /** Disable Nagle (default true): MQTT sends small, latency-sensitive packets (PINGREQ, PUBACK). */
  noDelay?: boolean;
}

export type TlsVersion = "TLSv1.2" | "TLSv1.3" | "auto";

export interface TlsOptions extends TcpOptions {
  /** Trusted CA certificate(s), PEM. Replaces Node's built-in roots when given. */
  ca?: string | Buffer;
  /** Verify the server's chain and name (default true). */
  rejectUnauthorized?: boolean;
  /** SNI name, also the name checked against the certificate. Default: host, unless host is an IP literal. */
  servername?: string;
  /** Client certificate and its unencrypted private key, PEM (for brokers that require one). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Pin the protocol version; "TLSv1.2" mirrors the ESP32 device. Default "auto" (Node's range). */
  tlsVersion?: TlsVersion;
}

/** Plain TCP. */
export function tcpConnector(opts: TcpOptions): TransportConnector {
  return (events) => {
    const socket = net.connect({ host: opts.host, port: opts.port });
    return adaptSocket(socket, "connect", opts.noDelay ?? true, events);
  };
}

/** TLS over TCP; onOpen fires after the handshake and certificate verification succeed. */
export function tlsConnector(opts: TlsOptions): TransportConnector {
  return (events) => {
    // Node refuses (and RFC 6066 forbids) SNI with an IP; without servername Node checks the IP SANs instead.
    const servername = opts.servername ?? (net.isIP(opts.host) === 0 ? opts.host : undefined);
    const version = opts.tlsVersion ?? "auto";
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      servername,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
      ...(version === "auto" ? {} : { minVersion: version, maxVersion: version }),
    });
    return adaptSocket(socket, "secureConnect", opts.noDelay ?? true, events);
  };
}

/** How long a local close may spend flushing queued writes before the socket is destroyed. */
const CLOSE_FLUSH_LIMIT_MS = 2000;

type State = "connecting" | "open" | "closing" | "closed";

function adaptSocket(
  socket: net.Socket,
  openEvent: "connect" | "secureConnect",
  noDelay: boolean,
  events: TransportEvents,
): Transport {
  let state: State = "connecting";
  let firstError: Error | undefined;
  let flushLimit: NodeJS.Timeout | undefined;

  socket.setNoDelay(noDelay); // Node applies it once connected

  socket.once(openEvent, () => {
    if (state !== "connecting") return;
    state = "open";
    events.onOpen();
  });

  socket.on("data", (data: Buffer) => {
    if (state !== "open") return; // after close() the core wants no more bytes
    // Node allocates a new buffer for every socket read (no reuse unless the `onread` option supplies one,
    // which we don't), so handing a view of it to the core is safe without copying. We pass a plain
    // Uint8Array view rather than the Buffer itself so the core sees the same semantics as on XS
    // (e.g. Buffer#slice is a view, Uint8Array#slice is a copy).
    events.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  });

  socket.on("error", (err: Error) => {
    firstError ??= err; // 'close' follows and reports it
  });

  socket.once("close", () => {
    if (flushLimit !== undefined) clearTimeout(flushLimit);
    const wasClosing = state === "closing";
    state = "closed";
    events.onClose(closeInfo(wasClosing, firstError));
  });

  return {
    write(chunk: Uint8Array): void {
      if (state === "connecting") throw new Error("transport: write() before onOpen");
      if (state !== "open") return; // closing or closed: ignored per contract
      // One socket.write per call; Node queues what the kernel can't take yet, in order.
      // The chunk is only lent (src/ports.ts): copy it. Buffer.from takes small copies from Node's pool, far
      // cheaper than the caller allocating a fresh Uint8Array per packet.
      socket.write(Buffer.from(chunk));
    },
    close(): void {
      if (state === "closing" || state === "closed") return;
      const wasOpen = state === "open";
      state = "closing";
      if (!wasOpen) {
        socket.destroy(); // still connecting: nothing to flush
        return;
      }
      // Graceful: flush queued writes (e.g. an MQTT DISCONNECT), send FIN / close_notify, then drop the socket
      // without waiting for the peer's FIN. A peer that stops reading can't hold us past the flush limit.
      socket.end(() => socket.destroy());
      flushLimit = setTimeout(() => socket.destroy(), CLOSE_FLUSH_LIMIT_MS);
    },
  };
}

function closeInfo(local: boolean, err: Error | undefined): TransportCloseInfo {
  if (local) return { kind: "local" };
  if (err) return { kind: "error", message: describeError(err) };
  return { kind: "closed" };
}

/** OpenSSL X509_V_ERR_* names as Node reports them in `err.code` when it rejects a server certificate. */
const CERT_VERIFY_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

/** A one-line reason for logs, e.g. "connect ECONNREFUSED 127.0.0.1:1883". Never includes key material. */
function describeError(err: Error): string {
  const { code, reason } = err as Error & { code?: string; reason?: unknown };
  if (code !== undefined && CERT_VERIFY_CODES.has(code)) return `certificate verify failed: ${err.message} (${code})`;
  // OpenSSL errors (e.g. the server's alert when it wants a client certificate) have a raw multi-part
  // message ("80…:error:0A00045C:SSL routines:…:rec_layer_s3.c:1601:SSL alert number 116"); `reason` is the
  // readable part.
  if (typeof reason === "string" && code?.startsWith("ERR_SSL_")) return `TLS error: ${reason} (${code})`;
  // ERR_TLS_CERT_ALTNAME_INVALID already reads "Hostname/IP does not match certificate's altnames: …".
  return err.message;
}
