/**
 * The emulator's MQTT device API: aedes speaks MQTT, ThingsBoard's behaviour is layered on top.
 *
 * aedes is a broker and ThingsBoard is not; where they differ, aedes is bent as follows:
 * - packets are inspected and adjusted before aedes sees them (mqtt-intercept.ts);
 * - a client's PUBLISH is handled in authorizePublish, which aedes runs before it writes the PUBACK, so the PUBACK
 *   follows the store; an error there makes aedes drop the connection without a PUBACK (MQTT 3.1.1 has no error
 *   PUBACK);
 * - broker.publish is wrapped so a client's PUBLISH is never routed to other subscribers ("v1/devices/me/…" is
 *   per device in ThingsBoard) nor retained; the wrapper only runs the reply that must follow the PUBACK.
 *   Messages to a device are written to its own client with client.publish, never routed;
 * - aedes' queueLimit (100) closes a connection that queues more than 100 packets before its CONNACK, as
 *   ThingsBoard's transport.mqtt.msg_queue_size_per_device_limit does.
 */
import * as net from "node:net";
import { finished } from "node:stream";
import * as tls from "node:tls";
import { Aedes, type AedesOptions, type Client as AedesClient, type PublishPacket, type Subscription } from "aedes";
import type { EmulatorStore } from "./store.js";
import type { DeviceSessions, EmulatorEventListener } from "./sessions.js";
import type { ReprovisionMode } from "./provision.js";
import { NotFoundError } from "./errors.js";
import { authenticateBasic, authenticateX509, isProvisionConnect, type AuthResult } from "./mqtt-auth.js";
import { MqttConnection, type Transport } from "./mqtt-connection.js";
import { MqttDeviceSessions } from "./mqtt-device-sessions.js";
import { echoParams, handleDevicePublish, type ClientRpcHandler, type FollowUp } from "./mqtt-device-api.js";
import { handleProvisionPublish } from "./mqtt-provision.js";
import { DEVICE_SUBSCRIBE_FILTERS, grantedQos, PROVISION_RESPONSE_TOPIC } from "./mqtt-topics.js";
import { interceptPackets, type InterceptRules } from "./mqtt-intercept.js";

export const DEFAULT_PROVISION_CLOSE_MS = 60_000;
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;
/** transport.mqtt.msg_queue_size_per_device_limit */
export const PRE_AUTH_QUEUE_LIMIT = 100;

export interface MqttTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA names offered to clients when asking for a certificate. */
  ca?: string | Buffer;
  /**
   * Ask clients for a certificate (default true, like ThingsBoard's "want client auth"). A certificate is never
   * required and never checked against a CA: the device's X.509 credentials decide, at CONNECT.
   */
  requestCert?: boolean;
}

export interface MqttDeviceApiOptions {
  store: EmulatorStore;
  /** Default 127.0.0.1. */
  bind?: string;
  /** 0 picks a free port. */
  port: number;
  /** MQTTS listener port; needs `tls` (with `tls` alone, a free port is picked). */
  tlsPort?: number;
  tls?: MqttTlsOptions;
  reprovision: ReprovisionMode;
  /** Close a provision session this long after its response (ThingsBoard: 60 s). */
  provisionCloseMs?: number;
  /** Imitate ThingsBoard ≤ 3.8.1: no SUBACK in provision sessions. */
  noProvisionSuback?: boolean;
  /** PUBLISH payloads larger than this close the connection. Default 65536. */
  maxPayloadBytes?: number;
  /** Answers client-side RPC; default echoes the params. */
  clientRpcHandler?: ClientRpcHandler;
  onEvent?: EmulatorEventListener;
  now?: () => number;
}

export interface MqttDeviceApi {
  port: number;
  tlsPort?: number;
  sessions: DeviceSessions;
  close(): Promise<void>;
}

/** The option combination cannot work (e.g. a TLS port without certificates). */
export class MqttOptionsError extends Error {
  override readonly name = "MqttOptionsError";
}

type AedesPublish = (packet: PublishPacket, client?: AedesClient | null | ((err?: Error) => void), done?: (err?: Error) => void) => void;

/**
 * aedes closes a client as soon as its socket ends (FIN), dropping packets still queued behind CONNECT
 * authentication. ThingsBoard acts on every message it has fully read (only its reply is lost), so a provision
 * request followed at once by a close must still create the device. aedes' own end handlers (its 'end' listener
 * and its end-of-stream watch) are replaced by one that closes once the queue is drained (bounded: ~1 s).
 */
function finishQueuedPacketsOnEnd(socket: net.Socket, client: AedesClient, endListenersBefore: ReadonlySet<unknown>): void {
  const internals = client as unknown as {
    closed: boolean;
    connackSent: boolean;
    _parser: { _queue: unknown[] | null };
    _eos?: () => void;
    close(): void;
  };
  for (const listener of socket.listeners("end")) {
    if (!endListenersBefore.has(listener)) socket.removeListener("end", listener as () => void);
  }
  internals._eos?.(); // the cleanup function of aedes' finished(conn, close) watch
  let started = false;
  let waits = 0;
  const closeWhenDrained = () => {
    if (internals.closed) return;
    const queued = internals._parser._queue;
    const pending = socket.readableLength > 0 || (queued !== null && queued.length > 0) || !internals.connackSent;
    if (pending && waits++ < 100) {
      setTimeout(closeWhenDrained, 10);
      return;
    }
    // Let the dequeued packets' handlers (authorizePublish) run first.
    setImmediate(() => internals.close());
  };
  const onEnd = () => {
    if (started) return;
    started = true;
    closeWhenDrained();
  };
  socket.on("end", onEnd);
  finished(socket, onEnd);
}

export async function startMqttDeviceApi(options: MqttDeviceApiOptions): Promise<MqttDeviceApi> {
  if (options.tlsPort !== undefined && !options.tls) throw new MqttOptionsError("tlsPort needs tls certificates");
  const { store } = options;
  const bind = options.bind ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const onEvent: EmulatorEventListener = options.onEvent ?? (() => {});
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const sessions = new MqttDeviceSessions(onEvent);
  const connections = new Map<AedesClient, MqttConnection>();
  /** Replies to run once aedes has written the PUBACK, keyed by the PUBLISH packet object aedes passes along. */
  const followUps = new WeakMap<PublishPacket, FollowUp>();
  const provisionCtx = {
    store,
    reprovision: options.reprovision,
    provisionCloseMs: options.provisionCloseMs ?? DEFAULT_PROVISION_CLOSE_MS,
    now,
    onEvent,
  };
  const deviceCtx = { store, sessions, clientRpcHandler: options.clientRpcHandler ?? echoParams, now, onEvent };

  /** Activity attributes may race a REST delete of the device; that must not break the connection. */
  const setActivity = (deviceId: string, values: Record<string, number | boolean>) => {
    try {
      store.setAttributes(deviceId, "SERVER_SCOPE", values, now());
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  };

  const aedesOptions: AedesOptions = {
    queueLimit: PRE_AUTH_QUEUE_LIMIT,
    // The 23-character limit of MQTT 3.1 would apply to our internal ids; client ids are not checked here.
    maxClientsIdLength: Number.MAX_SAFE_INTEGER,

    authenticate(client, _username, _password, done) {
      const conn = connections.get(client);
      const credentials = conn?.credentials;
      if (!conn || !credentials) return done(Object.assign(new Error("no connection state"), { returnCode: 3 }), false);
      conn.credentials = undefined;
      if (isProvisionConnect(credentials)) {
        conn.kind = "provision"; // no credential lookup, password ignored, even on MQTTS
        return done(null, true);
      }
      const result: AuthResult = conn.peerCertificate
        ? authenticateX509(store, conn.peerCertificate, now())
        : authenticateBasic(store, credentials);
      if (!result.ok) {
        onEvent({ type: "auth-failed", clientId: credentials.clientId, returnCode: result.returnCode });
        return done(Object.assign(new Error("not authorized"), { returnCode: result.returnCode }), false);
      }
      conn.kind = "device";
      conn.deviceId = result.device.id.id;
      conn.deviceName = result.device.name;
      sessions.add(conn);
      const t = now();
      setActivity(conn.deviceId, { active: true, lastConnectTime: t, lastActivityTime: t });
      onEvent({ type: "connected", deviceId: conn.deviceId, deviceName: conn.deviceName, transport: conn.transport });
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      const conn = client && connections.get(client);
      if (!conn) return done(new Error("no connection state"));
      try {
        const followUp =
          conn.kind === "provision"
            ? handleProvisionPublish(provisionCtx, conn, packet.topic, packet.payload as Buffer)
            : handleDevicePublish(deviceCtx, conn, packet.topic, packet.payload as Buffer);
        if (followUp) followUps.set(packet, followUp);
        done(null);
      } catch (e) {
        conn.closeReason = e instanceof Error ? e.message : String(e);
        done(e instanceof Error ? e : new Error(String(e))); // aedes closes without a PUBACK
      }
    },

    authorizeSubscribe(client, sub, done) {
      const conn = connections.get(client);
      const allowed =
        conn?.kind === "provision" ? sub.topic === PROVISION_RESPONSE_TOPIC : conn?.kind === "device" && DEVICE_SUBSCRIBE_FILTERS.has(sub.topic);
      if (!conn || !allowed) return done(null, null); // SUBACK 0x80 for this filter
      const qos = grantedQos(sub.qos);
      conn.subscriptions.set(sub.topic, qos);
      done(null, { ...sub, qos } as Subscription);
    },
  };
  const broker = await Aedes.createBroker(aedesOptions);

  // A client's PUBLISH was handled in authorizePublish; never route it, only run its reply.
  const routeBrokerMessage = broker.publish.bind(broker) as AedesPublish;
  // aedes' per-client notifications ($SYS/<broker>/new/clients, …/disconnect/clients, …/new/subscribes,
  // …/new/unsubscribes) have no subscriber here (clients may not subscribe to $SYS, and aedes' own
  // closeSameClients only acts on other brokers' ids); routing them cost a Packet, a qlobber match and a series of
  // callbacks per connect, subscribe and close, so they are dropped. Heartbeat and birth still go through.
  const sysClientTopics = new Set(["new/clients", "disconnect/clients", "new/subscribes", "new/unsubscribes"].map((t) => `$SYS/${broker.id}/${t}`));
  (broker as unknown as { publish: AedesPublish }).publish = (packet, client, done) => {
    if (typeof client === "function" || !client) {
      if (sysClientTopics.has(packet.topic)) return (typeof client === "function" ? client : done)?.();
      return routeBrokerMessage(packet, client, done);
    }
    const followUp = followUps.get(packet);
    followUps.delete(packet);
    followUp?.();
    done?.();
  };

  broker.on("subscribe", (_subs, client) => {
    const conn = connections.get(client);
    if (conn?.kind === "device") sessions.onSubscribed(conn); // RPCs that waited for a subscription
  });
  broker.on("unsubscribe", (topics, client) => {
    const conn = connections.get(client);
    for (const t of topics) conn?.subscriptions.delete(t);
  });
  // Broker-level errors (e.g. will cleanup) concern no device session; with no listener they would crash the process.
  (broker as unknown as NodeJS.EventEmitter).on("error", () => {});
  broker.on("clientError", (client, err) => {
    const conn = connections.get(client);
    if (conn && conn.closeReason === "connection closed") conn.closeReason = err.message;
  });

  const interceptRules: InterceptRules = {
    maxPayloadBytes,
    noProvisionSuback: options.noProvisionSuback ?? false,
    onDeviceActivity: (conn) => setActivity(conn.deviceId, { lastActivityTime: now() }),
  };
  let serial = 0;
  const sockets = new Set<net.Socket>();

  // Write coalescing: aedes writes every packet with its own cork/uncork, i.e. one writev system call per packet
  // (CONNACK, SUBACK, each PUBACK, each reply). A socket is corked at its first write and uncorked by one
  // setImmediate shared by all sockets, so what aedes writes to a connection within one turn of the event loop
  // (e.g. the PUBACKs of all PUBLISHes read in one chunk) goes out in one system call. Order is unchanged, and
  // the flush runs before aedes' own write callbacks (queued after it), so before any close that follows a write;
  // a destroy while corked flushes first, as an uncorked socket would have written already.
  const corked = new Set<net.Socket>();
  let flushScheduled = false;
  const flushWrites = () => {
    flushScheduled = false;
    for (const s of corked) s.uncork();
    corked.clear();
  };
  const coalesceWrites = (socket: net.Socket) => {
    const write = socket.write;
    const destroy = socket.destroy;
    socket.write = function (this: net.Socket, ...args: unknown[]) {
      if (!corked.has(socket) && !socket.destroyed) {
        socket.cork();
        corked.add(socket);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushWrites);
        }
      }
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof socket.write;
    socket.destroy = function (this: net.Socket, error?: Error) {
      if (corked.delete(socket)) socket.uncork();
      return destroy.call(this, error);
    } as typeof socket.destroy;
  };

  const accept = (socket: net.Socket, transport: Transport) => {
    sockets.add(socket);
    coalesceWrites(socket);
    const peerCertificate = socket instanceof tls.TLSSocket ? socket.getPeerX509Certificate() : undefined;
    const endListenersBefore = new Set(socket.listeners("end"));
    const client = broker.handle(socket);
    finishQueuedPacketsOnEnd(socket, client, endListenersBefore);
    const conn = new MqttConnection(++serial, transport, socket, client, peerCertificate);
    connections.set(client, conn);
    interceptPackets(client, conn, interceptRules);
    socket.once("close", () => {
      sockets.delete(socket);
      corked.delete(socket);
      connections.delete(client);
      conn.clearTimers();
      if (conn.kind !== "device") return;
      if (sessions.remove(conn)) setActivity(conn.deviceId, { active: false, lastDisconnectTime: now() });
      onEvent({ type: "disconnected", deviceId: conn.deviceId, deviceName: conn.deviceName, reason: conn.closeReason });
    });
  };

  const plain = net.createServer((socket) => accept(socket, "mqtt"));
  const servers: net.Server[] = [plain];
  let secure: tls.Server | undefined;
  if (options.tls) {
    secure = tls.createServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
        requestCert: options.tls.requestCert ?? true,
        rejectUnauthorized: false,
      },
      (socket) => accept(socket, "mqtts"),
    );
    secure.on("tlsClientError", () => {}); // a failed handshake concerns that client only
    servers.push(secure);
  }

  try {
    const port = await listen(plain, options.port, bind);
    const tlsPort = secure ? await listen(secure, options.tlsPort ?? 0, bind) : undefined;
    let closing: Promise<void> | undefined;
    return {
      port,
      ...(tlsPort !== undefined ? { tlsPort } : {}),
      sessions,
      close() {
        closing ??= (async () => {
          const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
          for (const s of sockets) s.destroy();
          sessions.close();
          await Promise.all(closed);
          await new Promise<void>((resolve) => broker.close(() => resolve()));
        })();
        return closing;
      },
    };
  } catch (e) {
    for (const s of servers) s.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw e;
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      server.on("error", () => {}); // e.g. EMFILE on accept: that client fails, the listener keeps serving
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
