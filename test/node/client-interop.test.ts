/**
 * The SDK's MQTT client against real brokers: aedes in-process (plain and TLS) and Mosquitto from Debian
 * (plain, TLS with CA verification, TLS with a client certificate). Real sockets, real timers.
 */
import { MqttClient, MqttClientOptions } from "../../src/mqtt/client.js";
import { MqttClosedError } from "../../src/mqtt/errors.js";
import type { PublishPacket } from "../../src/mqtt/packets.js";
import type { TransportConnector } from "../../src/ports.js";
import { systemClock, tcpConnector, tlsConnector } from "../../hosts/node/index.js";
import type { TlsOptions } from "../../hosts/node/index.js";
import { startAedes } from "../support/aedes-broker.js";
import { makeTestPki, TestPki } from "../support/certs.js";
import { mosquittoAvailable, startMosquitto } from "../support/mosquitto.js";
import { until } from "../support/until.js";

jest.setTimeout(20_000);

const pki: TestPki = makeTestPki();
const clock = systemClock();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts transport writes so a test can see what left in one write. */
function counting(connector: TransportConnector): { connector: TransportConnector; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  return {
    writes,
    connector: (events) => {
      const t = connector(events);
      return { write: (c) => (writes.push(c.slice()), t.write(c)), close: () => t.close() };
    },
  };
}

let seq = 0;
function client(connector: TransportConnector, extra: Partial<MqttClientOptions> = {}) {
  const messages: PublishPacket[] = [];
  const closes: MqttClosedError[] = [];
  const c = new MqttClient({
    connector,
    clock,
    clientId: `sdk-test-${process.pid}-${++seq}`,
    keepaliveSec: 30,
    onMessage: (m) => messages.push(m),
    onClose: (e) => closes.push(e),
    ...extra,
  });
  return { c, messages, closes };
}

interface Target {
  name: string;
  start(): Promise<{ connector: (tls?: Partial<TlsOptions>) => TransportConnector; port: number; kill(): Promise<void>; close(): Promise<void> }>;
  tls: boolean;
}

function tlsTo(port: number, base: Partial<TlsOptions>) {
  return (over: Partial<TlsOptions> = {}) =>
    tlsConnector({ host: "127.0.0.1", port, ca: pki.ca.cert, servername: "localhost", tlsVersion: "TLSv1.2", ...base, ...over });
}

const targets: Target[] = [
  {
    name: "aedes, plain TCP",
    tls: false,
    async start() {
      const b = await startAedes();
      return { port: b.port, connector: () => tcpConnector({ host: "127.0.0.1", port: b.port }), kill: () => b.close(), close: () => b.close() };
    },
  },
  {
    name: "aedes, TLS 1.2",
    tls: true,
    async start() {
      const b = await startAedes({ tls: { cert: pki.server.cert, key: pki.server.key } });
      return { port: b.port, connector: tlsTo(b.port, {}), kill: () => b.close(), close: () => b.close() };
    },
  },
];

const haveMosquitto = mosquittoAvailable();
if (!haveMosquitto) {
  // eslint-disable-next-line no-console
  console.warn("Mosquitto not found on PATH: SKIPPING the Mosquitto interop suites (CI installs it).");
} else {
  targets.push(
    {
      name: "Mosquitto, plain TCP",
      tls: false,
      async start() {
        const b = await startMosquitto();
        return { port: b.port, connector: () => tcpConnector({ host: "127.0.0.1", port: b.port }), kill: () => b.close(), close: () => b.close() };
      },
    },
    {
      name: "Mosquitto, TLS 1.2 with CA verification",
      tls: true,
      async start() {
        const b = await startMosquitto({ tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile } });
        return { port: b.port, connector: tlsTo(b.port, {}), kill: () => b.close(), close: () => b.close() };
      },
    },
    {
      name: "Mosquitto, TLS 1.2 requiring a client certificate",
      tls: true,
      async start() {
        const b = await startMosquitto({
          tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, requireCertificate: true },
        });
        return { port: b.port, connector: tlsTo(b.port, { cert: pki.client.cert, key: pki.client.key }), kill: () => b.close(), close: () => b.close() };
      },
    },
  );
}

describe.each(targets)("client interop: $name", (target) => {
  let server: Awaited<ReturnType<Target["start"]>>;
  beforeEach(async () => {
    server = await target.start();
  });
  afterEach(async () => {
    await server.close();
  });

  it("connects, subscribes and round-trips a QoS 1 publish", async () => {
    const { c, messages } = client(server.connector());
    const connack = await c.connect();
    expect(connack.returnCode).toBe(0);
    await expect(c.subscribe("sdk/test/#", 1)).resolves.toEqual([1]);
    await c.publish("sdk/test/a", '{"temperature":21.5}', { qos: 1 });
    await until("messages.length === 1", () => messages.length === 1, 5000);
    expect(messages[0].topic).toBe("sdk/test/a");
    expect(Buffer.from(messages[0].payload).toString()).toBe('{"temperature":21.5}');
    expect(messages[0].qos).toBe(1);
    c.close();
  });

  it("sends CONNECT + SUBSCRIBE + PUBLISH in a single write, and the broker accepts all three", async () => {
    const counted = counting(server.connector());
    const { c, messages } = client(counted.connector);
    const sub = c.subscribe("sdk/pipe", 1);
    const pub = c.publish("sdk/pipe", "pipelined", { qos: 1 });
    await c.connect();
    await expect(sub).resolves.toEqual([1]);
    await pub;
    await until("messages.length === 1", () => messages.length === 1, 5000);
    expect(counted.writes.length).toBeGreaterThanOrEqual(1);
    // The first write carried all three packets: CONNECT (0x10), SUBSCRIBE (0x82), PUBLISH QoS 1 (0x32).
    const first = counted.writes[0];
    const types: number[] = [];
    for (let o = 0; o < first.length; ) {
      types.push(first[o]);
      let len = 0, mul = 1, i = o + 1;
      for (;;) {
        const b = first[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) break;
      }
      o = i + len;
    }
    expect(types).toEqual([0x10, 0x82, 0x32]);
    c.close();
  });

  it("keeps the link alive with PINGREQ when idle", async () => {
    const { c, closes } = client(server.connector(), { keepaliveSec: 1 });
    await c.connect();
    const before = c.stats.packetsReceived;
    await sleep(2600);
    expect(c.stats.pingsSent).toBeGreaterThanOrEqual(2);
    expect(c.stats.packetsReceived - before).toBeGreaterThanOrEqual(2); // the PINGRESPs
    expect(c.state).toBe("connected");
    expect(closes.length).toBe(0);
    c.close();
  });

  it("detects the broker closing the connection", async () => {
    const { c, closes } = client(server.connector());
    await c.connect();
    await server.kill();
    await until("closes.length === 1", () => closes.length === 1, 5000);
    expect(["transport-closed", "transport-error"]).toContain(closes[0].reason);
    expect(c.state).toBe("closed");
  });

  if (target.tls) {
    it("rejects a server whose certificate is not from the trusted CA", async () => {
      const { c } = client(server.connector({ ca: pki.otherCa.cert }));
      let err: MqttClosedError | undefined;
      await c.connect().catch((e) => (err = e));
      expect(err).toBeInstanceOf(MqttClosedError);
      expect(err?.reason).toBe("transport-error");
      expect(err?.message).toMatch(/certificate/i);
    });

    it("rejects a server whose certificate does not name the host", async () => {
      const { c } = client(server.connector({ servername: "wrong.example" }));
      let err: MqttClosedError | undefined;
      await c.connect().catch((e) => (err = e));
      expect(err).toBeInstanceOf(MqttClosedError);
      expect(err?.reason).toBe("transport-error");
      expect(err?.message).toMatch(/wrong\.example|altnames|host ?name/i);
    });
  }
});

describe("client interop: aedes TLS with a certificate issued for another host", () => {
  it("is rejected when connecting to 127.0.0.1", async () => {
    const b = await startAedes({ tls: { cert: pki.wrongHost.cert, key: pki.wrongHost.key } });
    try {
      const { c } = client(tlsConnector({ host: "127.0.0.1", port: b.port, ca: pki.ca.cert }));
      let err: MqttClosedError | undefined;
      await c.connect().catch((e) => (err = e));
      expect(err?.reason).toBe("transport-error");
      expect(err?.message).toMatch(/127\.0\.0\.1|altnames/i);
    } finally {
      await b.close();
    }
  });
});

describe("client interop: Mosquitto client-certificate listener", () => {
  (haveMosquitto ? it : it.skip)("refuses a client without a certificate", async () => {
    const b = await startMosquitto({
      tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile, requireCertificate: true },
    });
    try {
      const { c } = client(tlsConnector({ host: "127.0.0.1", port: b.port, ca: pki.ca.cert, servername: "localhost", tlsVersion: "TLSv1.2" }));
      let err: MqttClosedError | undefined;
      await c.connect().catch((e) => (err = e));
      expect(err).toBeInstanceOf(MqttClosedError);
      expect(["transport-error", "transport-closed"]).toContain(err?.reason);
    } finally {
      await b.close();
    }
  });
});
