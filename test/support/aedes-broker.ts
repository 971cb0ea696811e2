/**
 * An in-process aedes MQTT broker on 127.0.0.1 (port chosen by the OS), plain or TLS.
 *
 * aedes 1.x is an ES module ("type": "module"). Compiled CommonJS code can require() it on Node >= 20.19,
 * but Jest's own module loader can't on Node < 24.9: jest.config must transform it, e.g.
 *   transformIgnorePatterns: ["/node_modules/(?!aedes/)"],
 *   transform: { "/node_modules/aedes/.+\\.js$": ["ts-jest", { tsconfig: { allowJs: true, module: "commonjs" } }] }
 */
import { Aedes, type AedesOptions } from "aedes";
import * as net from "node:net";
import * as tls from "node:tls";

export interface AedesTlsOptions {
  /** Server certificate and key, PEM. */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA(s) that client certificates must chain to, PEM. */
  ca?: string | Buffer;
  /** Ask for a client certificate and refuse clients without a valid one (default false). */
  requestCert?: boolean;
  /** Pin the server to one protocol version, e.g. "TLSv1.2". */
  tlsVersion?: "TLSv1.2" | "TLSv1.3";
}

export interface PublishedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string;
}

export interface AedesBroker {
  port: number;
  broker: Aedes;
  /** Sockets accepted so far (after the TLS handshake, for TLS). */
  readonly connections: number;
  /** Every PUBLISH a client sent (broker-internal $SYS messages excluded), in arrival order. */
  readonly published: PublishedMessage[];
  /** Subject CN of each client certificate presented (TLS with requestCert). */
  readonly peerCommonNames: string[];
  /** Handshake failures seen by the TLS server, e.g. "peer did not return a certificate". */
  readonly tlsErrors: string[];
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

export async function startAedes(opts: { tls?: AedesTlsOptions; aedes?: AedesOptions } = {}): Promise<AedesBroker> {
  const broker = await Aedes.createBroker(opts.aedes);
  const sockets = new Set<net.Socket>();
  const published: PublishedMessage[] = [];
  const peerCommonNames: string[] = [];
  const tlsErrors: string[] = [];
  let connections = 0;

  broker.on("publish", (packet, client) => {
    if (client === null) return; // $SYS heartbeats and other broker-originated messages
    published.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      clientId: client.id,
    });
  });

  const accept = (socket: net.Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    broker.handle(socket);
  };

  let server: net.Server;
  if (opts.tls) {
    const t = opts.tls;
    const requestCert = t.requestCert ?? false;
    server = tls.createServer(
      {
        cert: t.cert,
        key: t.key,
        ca: t.ca,
        requestCert,
        rejectUnauthorized: requestCert,
        ...(t.tlsVersion ? { minVersion: t.tlsVersion, maxVersion: t.tlsVersion } : {}),
      },
      (socket) => {
        const cn = socket.getPeerCertificate().subject?.CN;
        if (cn !== undefined) peerCommonNames.push(String(cn));
        accept(socket);
      },
    );
    server.on("tlsClientError", (err) => tlsErrors.push(err.message));
  } else {
    server = net.createServer(accept);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    port,
    broker,
    get connections() {
      return connections;
    },
    published,
    peerCommonNames,
    tlsErrors,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        await new Promise<void>((resolve) => broker.close(() => resolve()));
      })();
      return closing;
    },
  };
}
