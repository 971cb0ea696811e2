import { PacketType } from "../../src/mqtt/constants.js";
import { MqttClient, MqttClientOptions } from "../../src/mqtt/client.js";
import { MqttClosedError, MqttConnectError, MqttSubscribeError, MqttTimeoutError, MqttUsageError } from "../../src/mqtt/errors.js";
import { decodePacket } from "../../src/mqtt/reader.js";
import type { Packet, PublishPacket } from "../../src/mqtt/packets.js";
import { Log } from "../../src/log.js";
import { FakeBroker } from "./support/fake-broker.js";
import { ManualClock, MemoryLink, MemorySink, settle } from "./support/memory-ports.js";
import { fromHex, hex, utf8 } from "./support/bytes.js";

interface Rig {
  clock: ManualClock;
  link: MemoryLink;
  broker: FakeBroker;
  client: MqttClient;
  sink: MemorySink;
  closes: MqttClosedError[];
  messages: PublishPacket[];
}

function rig(options: Partial<MqttClientOptions> = {}, brokerOptions = {}): Rig {
  const clock = new ManualClock();
  const link = new MemoryLink();
  const broker = new FakeBroker(link, brokerOptions);
  const sink = new MemorySink();
  const log = new Log(sink, clock, { level: "V" });
  const closes: MqttClosedError[] = [];
  const messages: PublishPacket[] = [];
  const client = new MqttClient({
    connector: link.connector,
    clock,
    clientId: "dev-1",
    keepaliveSec: 10,
    log: log.tag("mqtt"),
    onClose: (e) => closes.push(e),
    onMessage: (m) => messages.push(m),
    ...options,
  });
  return { clock, link, broker, client, sink, closes, messages };
}

async function connected(options: Partial<MqttClientOptions> = {}, brokerOptions = {}): Promise<Rig> {
  const r = rig(options, brokerOptions);
  const p = r.client.connect();
  r.link.open();
  await p;
  return r;
}

function splitPackets(bytes: Uint8Array): Packet[] {
  const out: Packet[] = [];
  let o = 0;
  while (o < bytes.length) {
    let len = 0;
    let mul = 1;
    let i = o + 1;
    for (;;) {
      const b = bytes[i++];
      len += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) break;
    }
    out.push(decodePacket(bytes.subarray(o, i + len)));
    o = i + len;
  }
  return out;
}

describe("client: connect", () => {
  it("sends CONNECT with the options and resolves on CONNACK 0", async () => {
    const r = rig({ username: "user", password: "secret-pw", cleanSession: false, keepaliveSec: 30 });
    const p = r.client.connect();
    expect(r.client.state).toBe("opening");
    r.link.open();
    const connack = await p;
    expect(connack.returnCode).toBe(0);
    expect(r.client.state).toBe("connected");
    const c = r.broker.ofType(PacketType.Connect)[0];
    expect(c.clientId).toBe("dev-1");
    expect(c.username).toBe("user");
    expect(hex(c.password as Uint8Array)).toBe(hex(utf8("secret-pw")));
    expect(c.keepalive).toBe(30);
    expect(c.cleanSession).toBe(false);
  });

  const codes: Array<[number, string]> = [
    [1, "unacceptable-protocol-version"], [2, "identifier-rejected"], [3, "server-unavailable"],
    [4, "bad-username-or-password"], [5, "not-authorized"], [9, "unknown-return-code"],
  ];
  for (const [code, name] of codes) {
    it(`maps CONNACK ${code} to MqttConnectError "${name}" and closes`, async () => {
      const r = rig({}, { connackCode: code });
      const p = r.client.connect();
      r.link.open();
      let err: unknown;
      try {
        await p;
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MqttConnectError);
      expect((err as MqttConnectError).code).toBe(name);
      expect((err as MqttConnectError).returnCode).toBe(code);
      expect(r.client.state).toBe("closed");
      expect(r.link.closedByClient).toBe(true);
      expect(r.closes[0].reason).toBe("connect-refused");
    });
  }

  it("times out when no CONNACK arrives", async () => {
    const r = rig({ connectTimeoutMs: 5000 }, { answerConnect: false });
    const p = r.client.connect();
    r.link.open();
    r.clock.advance(4999);
    expect(r.client.state).toBe("awaiting-connack");
    r.clock.advance(1);
    await expect(p).rejects.toBeInstanceOf(MqttClosedError);
    expect(r.closes[0].reason).toBe("connect-timeout");
  });

  it("reports a transport failure while connecting", async () => {
    const r = rig();
    const p = r.client.connect();
    r.link.serverClose({ kind: "error", message: "ECONNREFUSED 127.0.0.1:1883" });
    let err: MqttClosedError | undefined;
    try {
      await p;
    } catch (e) {
      err = e as MqttClosedError;
    }
    expect(err?.reason).toBe("transport-error");
    expect(err?.message).toContain("ECONNREFUSED");
  });

  it("reports a connector that throws as a transport error", async () => {
    const clock = new ManualClock();
    const client = new MqttClient({ clock, clientId: "c", connector: () => { throw new Error("no sockets left"); } });
    let err: MqttClosedError | undefined;
    await client.connect().catch((e) => (err = e));
    expect(err?.reason).toBe("transport-error");
    expect(err?.message).toContain("no sockets left");
    expect(clock.pendingTimers).toBe(0);
  });

  it("refuses a second connect()", async () => {
    const r = await connected();
    await expect(r.client.connect()).rejects.toBeInstanceOf(MqttUsageError);
  });

  it("treats a packet before CONNACK as a protocol error", async () => {
    const r = rig({}, { answerConnect: false });
    const p = r.client.connect();
    r.link.open();
    r.broker.send({ type: PacketType.Pingresp });
    await expect(p).rejects.toBeInstanceOf(MqttClosedError);
    expect(r.closes[0].reason).toBe("protocol-error");
  });
});

describe("client: pipelining", () => {
  it("writes CONNECT + SUBSCRIBE + PUBLISH queued before open in one write", async () => {
    const r = rig({}, { answerConnect: false, answerSubscribe: false, answerPublish: false });
    const sub = r.client.subscribe("/provision/response", 1);
    const pub = r.client.publish("/provision/request", '{"k":1}', { qos: 1 });
    const conn = r.client.connect();
    expect(r.link.writes.length).toBe(0);
    r.link.open();
    expect(r.link.writes.length).toBe(1);
    const packets = splitPackets(r.link.writes[0]);
    expect(packets.map((p) => p.type)).toEqual([PacketType.Connect, PacketType.Subscribe, PacketType.Publish]);
    // The server answers everything only now.
    r.broker.send({ type: PacketType.Connack, sessionPresent: false, returnCode: 0 });
    await conn;
    const subscribe = packets[1] as Extract<Packet, { type: 8 }>;
    const publish = packets[2] as Extract<Packet, { type: 3 }>;
    r.broker.send({ type: PacketType.Suback, packetId: subscribe.packetId, granted: [1] });
    r.broker.send({ type: PacketType.Puback, packetId: publish.packetId as number });
    await expect(sub).resolves.toEqual([1]);
    await expect(pub).resolves.toBeUndefined();
  });

  it("writes packets right away after CONNECT, before CONNACK", () => {
    const r = rig({}, { answerConnect: false });
    void r.client.connect();
    r.link.open();
    void r.client.publish("t", "x");
    expect(r.link.writes.length).toBe(2);
    expect(splitPackets(r.link.writes[1])[0].type).toBe(PacketType.Publish);
  });

  it("completes even when the server never sends SUBACK (ThingsBoard <= 3.8.1)", async () => {
    const r = rig({}, { answerSubscribe: false });
    let subDone = false;
    r.client.subscribe("/provision/response").then(() => (subDone = true), () => (subDone = true));
    const conn = r.client.connect();
    r.link.open();
    await conn;
    await r.client.publish("/provision/request", "{}", { qos: 1 });
    r.broker.send({ type: PacketType.Publish, topic: "/provision/response", payload: utf8("{}"), qos: 0, retain: false, dup: false });
    expect(r.messages.length).toBe(1);
    expect(subDone).toBe(false);
  });
});

describe("client: publish", () => {
  it("QoS 0 completes when written; QoS 1 when PUBACKed", async () => {
    const r = await connected({}, { answerPublish: false });
    let q1 = false;
    await r.client.publish("a", "zero");
    const p1 = r.client.publish("a", "one", { qos: 1 }).then(() => (q1 = true));
    await settle();
    expect(q1).toBe(false);
    expect(r.client.inflight).toBe(1);
    const pub = r.broker.ofType(PacketType.Publish)[1];
    r.broker.send({ type: PacketType.Puback, packetId: pub.packetId as number });
    await p1;
    expect(q1).toBe(true);
    expect(r.client.inflight).toBe(0);
  });

  it("reuses one wire buffer for successive writes (no allocation per message)", async () => {
    const r = await connected({}, {});
    for (let i = 0; i < 20; i++) await r.client.publish("v1/devices/me/telemetry", `{"n":${i}}`, { qos: 1 });
    const publishWrites = r.link.lent.slice(-20);
    expect(new Set(publishWrites).size).toBe(1);
    expect(r.broker.ofType(PacketType.Publish).map((p) => String.fromCharCode(...p.payload))[19]).toBe('{"n":19}');
  });

  it("gives a packet larger than maxWriteBytes a one-off buffer", async () => {
    const r = await connected({ maxWriteBytes: 256 });
    await r.client.publish("a", "x", { qos: 1 });
    await r.client.publish("a", new Uint8Array(1000), { qos: 1 });
    await r.client.publish("a", "y", { qos: 1 });
    const [small1, big, small2] = r.link.lent.slice(-3);
    expect(big).not.toBe(small1);
    expect(small2).toBe(small1);
    expect(r.broker.ofType(PacketType.Publish)[1].payload.length).toBe(1000);
  });

  it("sends retain and binary payloads as given", async () => {
    const r = await connected();
    await r.client.publish("bin", new Uint8Array([0, 255, 1]), { qos: 1, retain: true });
    const p = r.broker.ofType(PacketType.Publish)[0];
    expect(p.retain).toBe(true);
    expect(hex(p.payload)).toBe("00ff01");
  });

  it("fails a QoS 1 publish with MqttTimeoutError when no PUBACK comes, and stays connected", async () => {
    const r = await connected({ ackTimeoutMs: 3000, keepaliveSec: 0 }, { answerPublish: false });
    const p = r.client.publish("a", "x", { qos: 1 });
    r.clock.advance(3000);
    await expect(p).rejects.toBeInstanceOf(MqttTimeoutError);
    expect(r.client.state).toBe("connected");
    expect(r.client.inflight).toBe(0);
  });

  it("keeps at most maxInflight QoS 1 messages unacknowledged, in order", async () => {
    const r = await connected({ maxInflight: 2 }, { answerPublish: false });
    const done: number[] = [];
    for (let i = 0; i < 5; i++) void r.client.publish("a", String(i), { qos: 1 }).then(() => done.push(i));
    expect(r.broker.ofType(PacketType.Publish).length).toBe(2);
    expect(r.client.queued).toBe(3);
    for (let k = 0; k < 5; k++) {
      const pubs = r.broker.ofType(PacketType.Publish);
      r.broker.send({ type: PacketType.Puback, packetId: pubs[k].packetId as number });
    }
    await settle();
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(r.broker.ofType(PacketType.Publish).map((p) => String.fromCharCode(...p.payload))).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("uses distinct packet ids for outstanding messages", async () => {
    const r = await connected({ maxInflight: 100 }, { answerPublish: false });
    for (let i = 0; i < 50; i++) void r.client.publish("a", "x", { qos: 1 }).catch(() => undefined);
    const ids = r.broker.ofType(PacketType.Publish).map((p) => p.packetId);
    expect(new Set(ids).size).toBe(50);
    r.client.close();
  });

  it("refuses QoS 2 and use after close with MqttUsageError", async () => {
    const r = await connected();
    expect(() => r.client.publishWithCallback("a", "x", { qos: 2 as 1 })).toThrow(MqttUsageError);
    r.client.close();
    expect(() => r.client.publishWithCallback("a", "x", {})).toThrow(MqttUsageError);
  });

  it("fails pending messages with MqttClosedError when the link drops", async () => {
    const r = await connected({}, { answerPublish: false });
    const p = r.client.publish("a", "x", { qos: 1 });
    r.link.serverClose();
    let err: MqttClosedError | undefined;
    try {
      await p;
    } catch (e) {
      err = e as MqttClosedError;
    }
    expect(err).toBeInstanceOf(MqttClosedError);
    expect(err?.reason).toBe("transport-closed");
    expect(r.closes.length).toBe(1);
  });
});

describe("client: subscribe and incoming messages", () => {
  it("resolves granted QoS and rejects refused filters with MqttSubscribeError", async () => {
    const r = await connected({}, { grant: (t: string) => (t === "bad" ? 0x80 : 1) });
    await expect(r.client.subscribe("good")).resolves.toEqual([1]);
    let err: MqttSubscribeError | undefined;
    try {
      await r.client.subscribe([{ topic: "good", qos: 0 }, { topic: "bad", qos: 1 }]);
    } catch (e) {
      err = e as MqttSubscribeError;
    }
    expect(err).toBeInstanceOf(MqttSubscribeError);
    expect(err?.refused).toEqual(["bad"]);
  });

  it("does not hold back a publish while a SUBACK is outstanding", async () => {
    const r = await connected({}, { answerSubscribe: false });
    void r.client.subscribe("x/#");
    await r.client.publish("t", "after-subscribe", { qos: 1 });
    expect(r.broker.ofType(PacketType.Publish).length).toBe(1);
  });

  it("delivers incoming PUBLISH and PUBACKs QoS 1 after the handler", async () => {
    const r = await connected();
    r.broker.send({ type: PacketType.Publish, topic: "rpc/1", payload: utf8("hello"), qos: 1, retain: false, dup: false, packetId: 77 });
    expect(r.messages.length).toBe(1);
    expect(r.messages[0].topic).toBe("rpc/1");
    expect(hex(r.messages[0].payload)).toBe(hex(utf8("hello")));
    expect(r.broker.ofType(PacketType.Puback)[0].packetId).toBe(77);
  });

  it("survives a throwing message handler and still acknowledges", async () => {
    const r = await connected({ onMessage: () => { throw new Error("app bug"); } });
    r.broker.send({ type: PacketType.Publish, topic: "a", payload: utf8("x"), qos: 1, retain: false, dup: false, packetId: 5 });
    expect(r.client.state).toBe("connected");
    expect(r.broker.ofType(PacketType.Puback).length).toBe(1);
    expect(r.sink.lines.some((l) => l.startsWith("E (") && l.includes("app bug"))).toBe(true);
  });

  it("unsubscribes", async () => {
    const r = await connected();
    await r.client.unsubscribe("a/#");
    expect(r.broker.ofType(PacketType.Unsubscribe)[0].topics).toEqual(["a/#"]);
  });

  it("closes on malformed bytes from the server with reason protocol-error", async () => {
    const r = await connected();
    r.link.send(fromHex("4100"));
    expect(r.client.state).toBe("closed");
    expect(r.closes[0].reason).toBe("protocol-error");
    expect(r.closes[0].message).toContain("invalid header flags");
  });

  it("closes when the server sends a packet larger than maxPacketSize", async () => {
    const r = await connected({ maxPacketSize: 100 });
    r.broker.send({ type: PacketType.Publish, topic: "a", payload: new Uint8Array(200), qos: 0, retain: false, dup: false });
    expect(r.closes[0].reason).toBe("protocol-error");
    expect(r.messages.length).toBe(0);
  });
});

describe("client: keepalive", () => {
  it("sends PINGREQ after keepalive of silence and stays up when answered", async () => {
    const r = await connected({ keepaliveSec: 10 });
    r.clock.advance(10_000);
    expect(r.broker.ofType(PacketType.Pingreq).length).toBe(1);
    r.clock.advance(10_000);
    expect(r.broker.ofType(PacketType.Pingreq).length).toBe(2);
    r.clock.advance(60_000);
    expect(r.client.state).toBe("connected");
    expect(r.broker.ofType(PacketType.Pingreq).length).toBe(8);
  });

  it("does not ping while traffic flows both ways", async () => {
    const r = await connected({ keepaliveSec: 10 });
    for (let i = 0; i < 20; i++) {
      r.clock.advance(4000);
      await r.client.publish("t", "x", { qos: 1 });
    }
    expect(r.broker.ofType(PacketType.Pingreq).length).toBe(0);
  });

  it("pings when only sending QoS 0 (nothing comes back) and stays up", async () => {
    const r = await connected({ keepaliveSec: 10 });
    for (let i = 0; i < 20; i++) {
      r.clock.advance(4000);
      await r.client.publish("t", "x");
    }
    expect(r.broker.ofType(PacketType.Pingreq).length).toBeGreaterThan(0);
    expect(r.client.state).toBe("connected");
  });

  it("closes with keepalive-timeout after 1.5 x keepalive without a packet from the server", async () => {
    const r = await connected({ keepaliveSec: 10 }, { answerPing: false });
    r.clock.advance(14_999);
    expect(r.client.state).toBe("connected");
    r.clock.advance(1);
    expect(r.client.state).toBe("closed");
    expect(r.closes[0].reason).toBe("keepalive-timeout");
    expect(r.link.closedByClient).toBe(true);
    expect(r.clock.pendingTimers).toBe(0);
  });

  it("keepalive 0 sets no timer once connected", async () => {
    const r = await connected({ keepaliveSec: 0, ackTimeoutMs: 0 });
    expect(r.clock.pendingTimers).toBe(0);
    r.clock.advance(1_000_000);
    expect(r.client.state).toBe("connected");
  });
});

describe("client: close and logs", () => {
  it("close() sends DISCONNECT then closes, once", async () => {
    const r = await connected();
    r.client.close();
    r.client.close();
    expect(r.broker.received[r.broker.received.length - 1].type).toBe(PacketType.Disconnect);
    expect(r.link.closedByClient).toBe(true);
    expect(r.closes.length).toBe(1);
    expect(r.closes[0].reason).toBe("client-close");
    expect(r.clock.pendingTimers).toBe(0);
  });

  it("never logs the username or password", async () => {
    const r = await connected({ username: "TOKEN-abcdef123456", password: "hunter2-password" });
    await r.client.publish("t", "x", { qos: 1 });
    r.client.close();
    expect(r.sink.lines.length).toBeGreaterThan(3);
    const all = r.sink.lines.join("\n");
    expect(all).not.toContain("TOKEN-abcdef123456");
    expect(all).not.toContain("hunter2");
    expect(all).toContain("username=[redacted]");
  });

  it("logs one serial-style line per event", async () => {
    const r = await connected();
    for (const line of r.sink.lines) expect(line).toMatch(/^[EWIDV] \(\d+\) mqtt: \S/);
  });
});
