/**
 * The transport port over Moddable's `socket` (plain TCP) and `securesocket` (TLS 1.2, implemented in JS by
 * Moddable). Both speak the same callback protocol, so one adapter serves both.
 *
 * Moddable's write() throws "can't write all data" when the bytes do not fit the socket's send buffer (1 KB on
 * lin, lwIP's window on ESP32; SecureSocket keeps 128 bytes back for the TLS record overhead). The port's
 * contract is that write() takes the whole chunk, so the adapter writes what fits — a view, no copy — and queues
 * a copy of the rest (the chunk is only lent), flushing it on the "written" callback.
 */
import { Socket } from "socket";
import SecureSocket from "securesocket";
import Timer from "timer";
import type { Transport, TransportCloseInfo, TransportConnector, TransportEvents } from "tbsdk/ports";

/** Socket callback messages (Moddable's documented values). */
const MSG_ERROR = -2;
const MSG_DISCONNECTED = -1;
const MSG_CONNECTED = 1;
const MSG_READABLE = 2;
const MSG_WRITABLE = 3;

/** How long a local close may wait for queued bytes to leave before the socket is closed anyway. */
const CLOSE_FLUSH_LIMIT_MS = 2000;

export interface TlsSettings {
  /** DER of the CA that signed the server's certificate. Without it the server is not verified: refuse in production. */
  ca?: Uint8Array;
  /** Name checked against the server certificate (and sent as SNI); default the host. */
  serverName?: string;
  /** X.509 client authentication: certificate DER and RSA private key as unencrypted PKCS#8 DER. */
  clientCertificate?: Uint8Array;
  clientKey?: Uint8Array;
}

export interface SocketConnectorOptions {
  host: string;
  port: number;
  /** Present → TLS 1.2 through SecureSocket. */
  tls?: TlsSettings;
}

/** The part of Socket and SecureSocket the adapter uses (Moddable's typings omit SecureSocket's callback). */
interface ModdableStream {
  callback: (message: number, value?: number) => void;
  read(type: typeof ArrayBuffer, count?: number): ArrayBuffer | undefined;
  write(...data: (ArrayBuffer | Uint8Array)[]): void;
  close(): void;
}

type State = "connecting" | "open" | "closing" | "closed";

export function socketConnector(options: SocketConnectorOptions): TransportConnector {
  return (events) => new SocketTransport(options, events);
}

class SocketTransport implements Transport {
  private readonly events: TransportEvents;
  private sock: ModdableStream | undefined;
  private state: State = "connecting";
  /** Copies of bytes the socket could not take yet, in order; `offset` is into the first. */
  private readonly queue: Uint8Array[] = [];
  private offset = 0;
  private flushLimit: Timer | undefined;

  constructor(o: SocketConnectorOptions, events: TransportEvents) {
    this.events = events;
    try {
      this.sock = o.tls ? openSecure(o, o.tls) : (new Socket({ host: o.host, port: o.port, noDelay: true }) as unknown as ModdableStream);
    } catch (e) {
      // DNS failure or a bad TLS option throws at once; the port reports failures through onClose.
      this.finish({ kind: "error", message: describe(e) });
      return;
    }
    this.sock.callback = (message, value) => this.onSocket(message, value ?? 0);
  }

  write(chunk: Uint8Array): void {
    if (this.state === "connecting") throw new Error("transport: write() before onOpen");
    if (this.state !== "open") return;
    if (this.queue.length > 0) {
      this.queue.push(chunk.slice());
      return;
    }
    const sent = this.writeSome(chunk, 0);
    if (sent < chunk.length) this.queue.push(chunk.slice(sent));
  }

  close(): void {
    if (this.state === "closing" || this.state === "closed") return;
    if (this.state === "open" && this.queue.length > 0) {
      this.state = "closing"; // let the queue drain (e.g. a DISCONNECT), within a limit
      this.flushLimit = Timer.set(() => this.finish({ kind: "local" }), CLOSE_FLUSH_LIMIT_MS);
      return;
    }
    this.finish({ kind: "local" });
  }

  private onSocket(message: number, value: number): void {
    if (this.state === "closed") return;
    switch (message) {
      case MSG_CONNECTED:
        if (this.state !== "connecting") return;
        this.state = "open";
        this.events.onOpen();
        return;
      case MSG_READABLE: {
        if (this.state !== "open") return;
        const data = this.sock?.read(ArrayBuffer, value);
        if (data && data.byteLength > 0) this.events.onData(new Uint8Array(data));
        return;
      }
      case MSG_WRITABLE:
        this.flush();
        return;
      case MSG_DISCONNECTED:
        this.finish(this.state === "closing" ? { kind: "local" } : { kind: "closed" });
        return;
      case MSG_ERROR:
      default:
        this.finish(this.state === "closing" ? { kind: "local" } : { kind: "error", message: "socket error (connect refused, reset or TLS failure)" });
    }
  }

  /** Writes as much of chunk[from..] as the socket takes now; returns the new offset. */
  private writeSome(chunk: Uint8Array, from: number): number {
    const sock = this.sock;
    if (!sock) return from;
    try {
      const free = (sock.write as () => number)();
      const n = Math.min(free, chunk.length - from);
      if (n <= 0) return from;
      sock.write(from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n));
      return from + n;
    } catch (e) {
      // "write on closed socket" / "write failed": the link is gone.
      this.finish({ kind: "error", message: describe(e) });
      return chunk.length;
    }
  }

  private flush(): void {
    while (this.queue.length > 0 && this.state !== "closed") {
      const head = this.queue[0]!;
      this.offset = this.writeSome(head, this.offset);
      if (this.offset < head.length) return; // the socket is full; wait for the next "written"
      this.queue.shift();
      this.offset = 0;
    }
    if (this.state === "closing") this.finish({ kind: "local" });
  }

  /** Ends the transport once: closes the socket and reports onClose on a fresh turn (never re-entrantly). */
  private finish(info: TransportCloseInfo): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.queue.length = 0;
    if (this.flushLimit !== undefined) Timer.clear(this.flushLimit);
    const sock = this.sock;
    this.sock = undefined;
    if (sock) {
      sock.callback = () => {};
      // Always released, also after the peer closed: a Moddable socket keeps its native buffers until close().
      try {
        sock.close();
      } catch {
        // SecureSocket closes itself after reporting an error; a second close is harmless but may throw
      }
    }
    Timer.set(() => this.events.onClose(info), 0);
  }
}

function openSecure(o: SocketConnectorOptions, tls: TlsSettings): ModdableStream {
  const secure: Record<string, unknown> = {
    protocolVersion: 0x303, // TLS 1.2: the highest Moddable's TLS speaks
    serverName: tls.serverName ?? o.host,
    verify: tls.ca !== undefined,
  };
  if (tls.ca) secure.certificate = bufferOf(tls.ca);
  if (tls.clientCertificate && tls.clientKey) {
    secure.clientCertificates = [bufferOf(tls.clientCertificate)];
    secure.clientKey = bufferOf(tls.clientKey);
  }
  return new SecureSocket({ host: o.host, port: o.port, secure }) as unknown as ModdableStream;
}

/** Moddable's TLS wants ArrayBuffers for certificates and keys. */
function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
