/**
 * The Node transports against real servers on 127.0.0.1, and the test brokers (aedes, Mosquitto) that the
 * interop suites rely on, checked with the reference `mqtt` client.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import mqtt from "mqtt";
import { tcpConnector, tlsConnector } from "../../hosts/node/transport.js";
import type { Transport, TransportCloseInfo, TransportConnector } from "../../src/ports.js";
import { startAedes } from "../support/aedes-broker.js";
import { makeTestPki, type TestPki } from "../support/certs.js";
import { freePort } from "../support/free-port.js";
import { mosquittoAvailable, startMosquitto } from "../support/mosquitto.js";
import { until } from "../support/until.js";

jest.setTimeout(20_000);

// ---------- helpers ----------

interface Recorded {
  transport: Transport;
  /** "open", "data", "close:<kind>" in the order the callbacks fired. */
  events: string[];
  chunks: Uint8Array[];
  opened: Promise<void>;
  closed: Promise<TransportCloseInfo>;
  received(): Buffer;
}

function connect(connector: TransportConnector): Recorded {
  const events: string[] = [];
  const chunks: Uint8Array[] = [];
  let resolveOpen!: () => void;
  let resolveClose!: (info: TransportCloseInfo) => void;
  const opened = new Promise<void>((resolve) => (resolveOpen = resolve));
  const closed = new Promise<TransportCloseInfo>((resolve) => (resolveClose = resolve));
  const transport = connector({
    onOpen() {
      events.push("open");
      resolveOpen();
    },
    onData(chunk) {
      events.push("data");
      chunks.push(chunk);
    },
    onClose(info) {
      events.push(`close:${info.kind}`);
      resolveClose(info);
    },
  });
  return {
    transport,
    events,
    chunks,
    opened,
    closed,
    received: () => Buffer.concat(chunks),
  };
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server on 127.0.0.1:0 that remembers its sockets so it can be torn down completely. */
interface TestServer<S extends net.Socket> {
  port: number;
  sockets: S[];
  /** All bytes each socket received, by socket index. */
  received: Buffer[];
  close(): Promise<void>;
}

/** Echoes everything; "bye" makes it end the connection. Plain TCP or TLS. */
async function startServer<S extends net.Socket>(
  server: net.Server,
  connectionEvent: "connection" | "secureConnection",
): Promise<TestServer<S>> {
  const sockets: S[] = [];
  const received: Buffer[] = [];
  server.on(connectionEvent, (socket: S) => {
    const index = sockets.push(socket) - 1;
    received[index] = Buffer.alloc(0);
    socket.on("error", () => {}); // clients in these tests abort on purpose
    socket.on("data", (data: Buffer) => {
      received[index] = Buffer.concat([received[index]!, data]);
      if (data.includes("bye")) socket.end();
      else if (data.length < 1024) socket.write(data); // echo small messages only
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const startTcpServer = () => startServer<net.Socket>(net.createServer(), "connection");
const startTlsServer = (options: tls.TlsOptions) =>
  startServer<tls.TLSSocket>(tls.createServer(options), "secureConnection");

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});

// ---------- TCP ----------

describe("tcpConnector", () => {
  let server: TestServer<net.Socket>;
  beforeEach(async () => {
    server = await startTcpServer();
  });
  afterEach(() => server.close());

  const connector = () => tcpConnector({ host: "127.0.0.1", port: server.port });

  test("fires onOpen, then onData, then exactly one onClose(closed) when the peer ends", async () => {
    const c = connect(connector());
    await c.opened;
    c.transport.write(bytes("hello"));
    await until("echo", () => c.received().toString() === "hello", 5000);
    c.transport.write(bytes("bye"));
    expect(await c.closed).toEqual({ kind: "closed" });
    await tick();
    expect(c.events[0]).toBe("open");
    expect(c.events.filter((e) => e.startsWith("close"))).toEqual(["close:closed"]);
    expect(c.events[c.events.length - 1]).toBe("close:closed");
  });

  test("hands onData plain Uint8Array views, not Buffers", async () => {
    const c = connect(connector());
    await c.opened;
    c.transport.write(bytes("ping"));
    await until("data", () => c.chunks.length > 0, 5000);
    expect(Object.getPrototypeOf(c.chunks[0])).toBe(Uint8Array.prototype);
    c.transport.close();
    await c.closed;
  });

  test("write() before onOpen throws", async () => {
    const c = connect(connector());
    expect(() => c.transport.write(bytes("too early"))).toThrow(/before onOpen/);
    await c.opened;
    c.transport.close();
    await c.closed;
  });

  test("close() is idempotent: one onClose(local), later writes ignored", async () => {
    const c = connect(connector());
    await c.opened;
    c.transport.close();
    c.transport.close();
    expect(() => c.transport.write(bytes("ignored"))).not.toThrow();
    expect(await c.closed).toEqual({ kind: "local" });
    c.transport.close();
    c.transport.write(bytes("ignored too"));
    await tick(50);
    expect(c.events).toEqual(["open", "close:local"]);
  });

  test("close() flushes queued writes before closing", async () => {
    const c = connect(connector());
    await c.opened;
    c.transport.write(bytes("last words"));
    c.transport.close();
    await c.closed;
    await until("flushed bytes", () => server.received[0]?.toString() === "last words", 5000);
  });

  test("close() while connecting gives onClose(local) and never onOpen", async () => {
    const c = connect(connector());
    c.transport.close();
    expect(await c.closed).toEqual({ kind: "local" });
    await tick(50);
    expect(c.events).toEqual(["close:local"]);
  });

  test("a refused connection ends in onClose(error) naming ECONNREFUSED", async () => {
    const port = await freePort();
    const c = connect(tcpConnector({ host: "127.0.0.1", port }));
    const info = await c.closed;
    expect(info.kind).toBe("error");
    expect(info.message).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    expect(c.events).toEqual(["close:error"]);
  });

  test("an abort by the peer ends in onClose(error)", async () => {
    const c = connect(connector());
    await c.opened;
    await until("server socket", () => server.sockets.length === 1, 5000);
    server.sockets[0]!.resetAndDestroy();
    const info = await c.closed;
    expect(info).toEqual({ kind: "error", message: expect.stringMatching(/ECONNRESET/) });
  });

  test("disables Nagle by default, and not when noDelay is false", async () => {
    const spy = jest.spyOn(net.Socket.prototype, "setNoDelay");
    try {
      for (const noDelay of [undefined, false]) {
        spy.mockClear();
        const c = connect(tcpConnector({ host: "127.0.0.1", port: server.port, noDelay }));
        await c.opened;
        expect(spy).toHaveBeenCalledWith(noDelay ?? true);
        c.transport.close();
        await c.closed;
      }
    } finally {
      spy.mockRestore();
    }
  });
});

// ---------- TLS ----------

describe("tlsConnector", () => {
  const servers: TestServer<tls.TLSSocket>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function tlsServer(options: tls.TlsOptions = {}) {
    const s = await startTlsServer({ cert: pki.server.cert, key: pki.server.key, ...options });
    servers.push(s);
    return s;
  }

  test("with the right CA: opens after the handshake and carries data", async () => {
    const server = await tlsServer();
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert }));
    await c.opened;
    c.transport.write(bytes("over tls"));
    await until("echo", () => c.received().toString() === "over tls", 5000);
    c.transport.write(bytes("bye"));
    expect(await c.closed).toEqual({ kind: "closed" });
    expect(c.events[0]).toBe("open");
  });

  test("with the wrong CA: onClose(error) 'certificate verify failed', never onOpen", async () => {
    const server = await tlsServer();
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.otherCa.cert }));
    const info = await c.closed;
    expect(info.kind).toBe("error");
    expect(info.message).toMatch(/^certificate verify failed: /);
    expect(c.events).toEqual(["close:error"]);
  });

  test("with rejectUnauthorized false: opens despite an untrusted certificate", async () => {
    const server = await tlsServer();
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.otherCa.cert, rejectUnauthorized: false }));
    await c.opened;
    c.transport.close();
    expect(await c.closed).toEqual({ kind: "local" });
  });

  test("with a certificate for another host name: onClose(error) about altnames", async () => {
    const server = await tlsServer({ cert: pki.wrongHost.cert, key: pki.wrongHost.key });
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert }));
    const info = await c.closed;
    expect(info.kind).toBe("error");
    expect(info.message).toMatch(/Hostname\/IP does not match certificate's altnames/);
    expect(c.events).toEqual(["close:error"]);
  });

  test("servername is sent as SNI and is the name checked", async () => {
    const server = await tlsServer({ cert: pki.wrongHost.cert, key: pki.wrongHost.key });
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert, servername: "wrong.example" }));
    await c.opened;
    await until("server socket", () => server.sockets.length === 1, 5000);
    expect(server.sockets[0]!.servername).toBe("wrong.example");
    c.transport.close();
    await c.closed;
  });

  test("presents the client certificate when the server requires one", async () => {
    const server = await tlsServer({ ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true });
    const c = connect(
      tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }),
    );
    await c.opened;
    await until("server socket", () => server.sockets.length === 1, 5000);
    const peer = server.sockets[0]!;
    expect(peer.authorized).toBe(true);
    expect(peer.getPeerCertificate().subject.CN).toBe("test-client");
    c.transport.close();
    await c.closed;
  });

  test("without a client certificate a server that requires one ends it in onClose(error)", async () => {
    const server = await tlsServer({ ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true });
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert }));
    const info = await c.closed;
    // In TLS 1.3 the client finishes its side of the handshake before the server's alert arrives,
    // so onOpen may fire first; the alert still ends the stream with an error.
    expect(info.kind).toBe("error");
    expect(info.message).toBe("TLS error: tlsv13 alert certificate required (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)");
  });

  test.each([
    ["TLSv1.2", "TLSv1.2"],
    ["TLSv1.3", "TLSv1.3"],
    ["auto", "TLSv1.3"],
  ] as const)("tlsVersion %s negotiates %s", async (tlsVersion, expected) => {
    const server = await tlsServer();
    const c = connect(tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert, tlsVersion }));
    await c.opened;
    await until("server socket", () => server.sockets.length === 1, 5000);
    expect(server.sockets[0]!.getProtocol()).toBe(expected);
    c.transport.close();
    await c.closed;
  });
});

// ---------- large writes, both transports ----------

describe.each([
  ["tcp", false],
  ["tls", true],
] as const)("%s: 1 MB write plus 1000 small writes", (_name, useTls) => {
  test("arrive intact and in order", async () => {
    const server = useTls
      ? await startTlsServer({ cert: pki.server.cert, key: pki.server.key })
      : await startTcpServer();
    try {
      const connector = useTls
        ? tlsConnector({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert })
        : tcpConnector({ host: "127.0.0.1", port: server.port });
      const c = connect(connector);
      await c.opened;
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
      const expected: Uint8Array[] = [big];
      c.transport.write(big);
      for (let i = 0; i < 1000; i++) {
        const small = bytes(`<${i}>`);
        expected.push(small);
        c.transport.write(small);
      }
      const all = Buffer.concat(expected);
      await until("all bytes", () => (server.received[0]?.length ?? 0) >= all.length, 10_000);
      expect(server.received[0]!.equals(all)).toBe(true);
      c.transport.close();
      await c.closed;
    } finally {
      await server.close();
    }
  });
});

// ---------- the test brokers, checked with the mqtt npm client ----------

/** Connects, subscribes to a topic, publishes to it at QoS 1 and waits for its own message. */
async function mqttRoundTrip(url: string, options: mqtt.IClientOptions = {}): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  try {
    const topic = `t/${Math.random().toString(16).slice(2)}`;
    const message = new Promise<string>((resolve) => client.on("message", (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, "hello broker", { qos: 1 });
    return await message;
  } finally {
    await client.endAsync();
  }
}

describe("startAedes", () => {
  test("plain: accepts the mqtt client and records its publishes", async () => {
    const broker = await startAedes();
    try {
      expect(await mqttRoundTrip(`mqtt://127.0.0.1:${broker.port}`)).toBe("hello broker");
      expect(broker.connections).toBe(1);
      expect(broker.published).toEqual([
        expect.objectContaining({ payload: Buffer.from("hello broker"), qos: 1, retain: false }),
      ]);
    } finally {
      await broker.close();
    }
  });

  test("TLS with a required client certificate: sees the client's CN", async () => {
    const broker = await startAedes({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true },
    });
    try {
      const reply = await mqttRoundTrip(`mqtts://127.0.0.1:${broker.port}`, {
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
      });
      expect(reply).toBe("hello broker");
      expect(broker.peerCommonNames).toEqual(["test-client"]);
    } finally {
      await broker.close();
    }
  });

  test("TLS: works with our own tlsConnector too", async () => {
    const broker = await startAedes({ tls: { cert: pki.server.cert, key: pki.server.key } });
    try {
      const c = connect(tlsConnector({ host: "127.0.0.1", port: broker.port, ca: pki.ca.cert, tlsVersion: "TLSv1.2" }));
      await c.opened;
      // MQTT 3.1.1 CONNECT, client id "t", clean session, keepalive 60 → CONNACK 20 02 00 00
      c.transport.write(new Uint8Array([0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x74]));
      await until("CONNACK", () => c.received().length >= 4, 5000);
      expect([...c.received().subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
      c.transport.close();
      await c.closed;
    } finally {
      await broker.close();
    }
  });
});

const describeMosquitto = mosquittoAvailable() ? describe : describe.skip;
if (!mosquittoAvailable()) {
  console.warn("Mosquitto not found on PATH (nor in /usr/sbin): skipping the startMosquitto checks (apt-get install mosquitto)");
}

describeMosquitto("startMosquitto", () => {
  const tlsFiles = () => ({ caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile });

  test("plain: accepts the mqtt client", async () => {
    const broker = await startMosquitto();
    try {
      expect(await mqttRoundTrip(`mqtt://127.0.0.1:${broker.port}`)).toBe("hello broker");
    } finally {
      await broker.close();
    }
  });

  test("TLS (pinned to 1.2): accepts the mqtt client trusting our CA", async () => {
    const broker = await startMosquitto({ tls: { ...tlsFiles(), tlsVersion: "tlsv1.2" } });
    try {
      expect(await mqttRoundTrip(`mqtts://127.0.0.1:${broker.port}`, { ca: pki.ca.cert })).toBe("hello broker");
    } finally {
      await broker.close();
    }
  });

  test("TLS with a required client certificate: accepts ours, refuses none", async () => {
    const broker = await startMosquitto({ tls: { ...tlsFiles(), requireCertificate: true } });
    try {
      const withCert = { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
      expect(await mqttRoundTrip(`mqtts://127.0.0.1:${broker.port}`, withCert)).toBe("hello broker");
      await expect(mqttRoundTrip(`mqtts://127.0.0.1:${broker.port}`, { ca: pki.ca.cert })).rejects.toThrow();
    } finally {
      await broker.close();
    }
  });
});
