/**
 * The device agent: the lifecycle that takes a freshly flashed board to a provisioned device sending telemetry,
 * and keeps it there (../shared/thingsboard-device-api.md §1 and §3).
 *
 *   boot → load credentials → provision if none → connect with them → online → on loss, back off and reconnect
 *
 * Provisioning is one pipelined write: CONNECT (user name "provision") + SUBSCRIBE /provision/response +
 * PUBLISH QoS 1 /provision/request. Nothing waits for the SUBACK (servers up to 3.8.1 send none); the response is
 * accepted whether or not one came. A response timeout ends the attempt.
 *
 * Recoverable by default: the device chooses its own access token and stores it as *pending* before the request
 * leaves. If the response is lost, the next attempt connects with the pending token: CONNACK 0 means the server
 * created it (the record is confirmed); CONNACK 4/5 means it never did, and the device provisions again (with the
 * same token). What happens under each server strategy:
 * - ALLOW_CREATE_NEW_DEVICES: the server creates the device with the device's token, so a lost response is
 *   recovered by the pending connect. A second request would get FAILURE (the name exists), which is why the
 *   pending connect comes first.
 * - CHECK_PRE_PROVISIONED_DEVICES: the server ignores the device's token and answers with the device's existing
 *   credentials (ACCESS_TOKEN or MQTT_BASIC are accepted, whatever was asked). If that response is lost, the
 *   pending token is refused; asking again succeeds on ThingsBoard up to 4.2.1 and gets FAILURE from 4.2.1.1 on,
 *   where only an operator can help (reset the device's provisionState): the log says exactly that and the agent
 *   retries only at the back-off cap.
 * NOT_FOUND (wrong key or secret, provisioning disabled) is a configuration error: logged once, then retried only
 * at the back-off cap. CONNACK 4/5 with confirmed credentials (device deleted, credentials changed) → factory
 * reset of the credential store and provisioning again (reprovisionOnAuthFailure, on by default).
 *
 * Telemetry and client attributes go through a bounded RAM queue at QoS 1; on every (re)connect the waiting
 * messages are handed to the new MQTT client before connect(), so they leave in the same write as CONNECT.
 *
 * Core only: every host service arrives through a port (clock, random, key-value store via CredentialStore,
 * log sink via Log, transports via the `connect` factory).
 */

import type { CredentialSaveResult, CredentialStore } from "../credentials/store.js";
import type { CredentialRecord, DeviceCredentials } from "../credentials/record.js";
import type { Log, Logger } from "../log.js";
import { MqttClient } from "../mqtt/client.js";
import { MqttClosedError, MqttConnectError, MqttError, MqttTimeoutError } from "../mqtt/errors.js";
import type { PublishPacket } from "../mqtt/packets.js";
import type { Clock, RandomSource, TimerHandle, TransportConnector } from "../ports.js";
import { ProvisionFailedError, ProvisionNotFoundError, ProvisionRequestError, ProvisionResponseError } from "../thingsboard/errors.js";
import { attributesPayload, telemetryPayload, type KvValues, type Telemetry } from "../thingsboard/payloads.js";
import {
  expectedCredentialsType,
  generateAccessToken,
  provisionRequestBytes,
  DEFAULT_TOKEN_LENGTH,
  type CredentialsType,
  type ProvisionRequest,
} from "../thingsboard/provision-request.js";
import { parseProvisionResponse, type ProvisionExpectation, type ProvisionedCredentials } from "../thingsboard/provision-response.js";
import { ATTRIBUTES_TOPIC, PROVISION_REQUEST_TOPIC, PROVISION_RESPONSE_TOPIC, PROVISION_USERNAME, TELEMETRY_TOPIC } from "../thingsboard/topics.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { TelemetryQueue, type FateCallback, type QueuedMessage } from "./telemetry-queue.js";

export interface ServerEndpoint {
  host: string;
  port: number;
}

/**
 * Opens connections for the agent. `credentials` is undefined for a provisioning session. For X509_CERTIFICATE
 * the host must present `credentials.certificatePem` / `privateKeyPem` as the TLS client certificate: on
 * ThingsBoard that certificate is the MQTT credential.
 */
export type ConnectorFactory = (endpoint: ServerEndpoint, credentials: DeviceCredentials | undefined) => TransportConnector;

/** What the device asks the server for when it provisions. */
export type ProvisionCredentialsOption =
  /** Default: the device generates its own access token (generateAccessToken) and stores it before asking. */
  | { type: "ACCESS_TOKEN"; tokenLength?: number }
  /** The server chooses the token. Not recoverable if the response is lost. */
  | { type: "SERVER_GENERATED_TOKEN" }
  /** Device-chosen MQTT basic credentials (stored before asking, like a device token). */
  | { type: "MQTT_BASIC"; clientId?: string; username?: string; password?: string }
  /** Device certificate (sent in `hash`) and its private key (never sent; kept for TLS). */
  | { type: "X509_CERTIFICATE"; certificatePem: string; privateKeyPem: string };

export type AgentState = "idle" | "provisioning" | "connecting" | "online" | "waiting" | "failed" | "stopped";

export interface DeviceAgentOptions {
  server: ServerEndpoint;
  connect: ConnectorFactory;
  clock: Clock;
  random: RandomSource;
  store: CredentialStore;
  log: Log;
  provisionDeviceKey: string;
  provisionDeviceSecret: string;
  /** Absent → the server invents a name (ThingsBoard: 20 random characters). */
  deviceName?: string;
  /** Default { type: "ACCESS_TOKEN" } (device-chosen, recoverable). */
  credentials?: ProvisionCredentialsOption;
  /** Provision as a gateway. */
  gateway?: boolean;
  /** MQTT client id; default deviceName, else "esp32-" + 12 random hex digits. */
  clientId?: string;
  /** No provision response within this (from the start of the attempt) ends it. Default 15000. */
  provisionTimeoutMs?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** Default 60. */
  keepaliveSec?: number;
  /** No PUBACK within this closes the connection and the message is sent again after reconnecting. Default 20000. */
  ackTimeoutMs?: number;
  backoff?: BackoffOptions;
  queue?: { maxMessages?: number; maxBytes?: number };
  /** CONNACK 4/5 with confirmed credentials → factory reset and provision again. Default true. */
  reprovisionOnAuthFailure?: boolean;
  /**
   * Wall-clock time, ms since the Unix epoch (SNTP on the device). Used for provisionedAt and, unless
   * timestampTelemetry is false, to send `sendTelemetry(values)` as {ts, values} stamped when it was called:
   * a message sent again after a lost PUBACK then keeps its time instead of getting the server's.
   */
  epochMs?: () => number;
  timestampTelemetry?: boolean;
  /** Every state change. */
  onStateChange?: (state: AgentState, previous: AgentState) => void;
  /** Every queued message's fate (acked / dropped / failed), once. */
  onMessageFate?: FateCallback;
  /** Incoming PUBLISH on the device session (shared attributes, RPC), if subscribed through `subscriptions`. */
  onMessage?: (topic: string, payload: Uint8Array) => void;
  /** Topic filters subscribed (QoS 1) on every device connection, pipelined with CONNECT. */
  subscriptions?: readonly string[];
}

export interface AgentStats {
  /** Provision requests sent (attempts started). */
  provisionRequests: number;
  /** Device connections attempted / accepted (CONNACK 0). */
  connectAttempts: number;
  connects: number;
}

const DEFAULT_PROVISION_TIMEOUT_MS = 15_000;
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;
const RECOVERABLE_TYPES: readonly CredentialsType[] = Object.freeze(["ACCESS_TOKEN", "MQTT_BASIC"] as const);

export class DeviceAgent {
  readonly stats: AgentStats = { provisionRequests: 0, connectAttempts: 0, connects: 0 };
  readonly queue: TelemetryQueue;
  private readonly o: DeviceAgentOptions;
  private readonly log: Logger;
  private readonly plog: Logger;
  private readonly tlog: Logger;
  private readonly mlog: Logger;
  private readonly backoff: Backoff;
  private readonly clientId: string;
  private current: AgentState = "idle";
  private record: CredentialRecord | undefined;
  private client: MqttClient | null = null;
  private timer: TimerHandle | null = null;
  /** Every attempt and every wait gets a new generation; callbacks of older ones are ignored. */
  private generation = 0;
  /** The configuration error last logged in full ("not-found" / "failure"), so it is said once. */
  private loggedConfigError: string | undefined;
  /** A provisioning attempt ended without a response since the last success. */
  private responseLost = false;

  constructor(options: DeviceAgentOptions) {
    this.o = options;
    this.log = options.log.tag("device");
    this.plog = options.log.tag("provision");
    this.tlog = options.log.tag("telemetry");
    this.mlog = options.log.tag("mqtt");
    this.backoff = new Backoff(options.random, options.backoff);
    const fate = options.onMessageFate;
    this.queue = new TelemetryQueue({ ...options.queue, ...(fate ? { onFate: fate } : {}) });
    options.log.addSecret(options.provisionDeviceSecret);
    options.log.addSecret(options.provisionDeviceKey);
    const c = options.credentials;
    if (c?.type === "MQTT_BASIC") this.addCredentialSecrets(c);
    if (c?.type === "X509_CERTIFICATE") options.log.addSecret(c.privateKeyPem);
    this.clientId = options.clientId ?? options.deviceName ?? `esp32-${randomHex(options.random, 6)}`;
  }

  get state(): AgentState {
    return this.current;
  }

  /** The credentials in use (a copy of the record), or undefined before provisioning. */
  get credentials(): CredentialRecord | undefined {
    return this.record ? { ...this.record } : undefined;
  }

  /** Boots: loads the stored credentials and provisions or connects. */
  start(): void {
    if (this.current !== "idle" && this.current !== "stopped" && this.current !== "failed") {
      throw new Error(`DeviceAgent.start() called while ${this.current}`);
    }
    const { host, port } = this.o.server;
    this.log.info(`boot: server ${host}:${port}, device ${this.o.deviceName ? `"${this.o.deviceName}"` : "(name chosen by the server)"}`);
    this.backoff.reset();
    this.record = this.loadRecord();
    this.proceed();
  }

  /** Closes the connection and cancels timers. Queued messages stay in RAM (start() again sends them). */
  stop(): void {
    this.generation++;
    this.cancelTimer();
    const client = this.client;
    this.client = null;
    client?.close();
    this.queue.requeueAll();
    this.setState("stopped");
  }

  /**
   * Queues telemetry (`{k: v}`, `{ts, values}` or an array) for QoS 1; returns the message id. Throws
   * PayloadError for values ThingsBoard would refuse. `done` gets the message's fate, once.
   */
  sendTelemetry(telemetry: Telemetry, done?: FateCallback): number {
    let t = telemetry;
    const epoch = this.o.epochMs;
    if (epoch && this.o.timestampTelemetry !== false && !Array.isArray(t) && !isTimestamped(t)) {
      t = { ts: Math.floor(epoch()), values: t as KvValues };
    }
    return this.enqueue(TELEMETRY_TOPIC, telemetryPayload(t), done);
  }

  /** Queues client attributes for QoS 1; returns the message id. Throws PayloadError. */
  sendAttributes(values: KvValues, done?: FateCallback): number {
    return this.enqueue(ATTRIBUTES_TOPIC, attributesPayload(values), done);
  }

  // ---- lifecycle ------------------------------------------------------------------------------------

  private loadRecord(): CredentialRecord | undefined {
    let loaded;
    try {
      loaded = this.o.store.load();
    } catch (e) {
      this.log.error(`could not read the credential store: ${errorText(e)}; provisioning`);
      return undefined;
    }
    for (const s of loaded.slots) {
      if (s.state !== "valid" && s.state !== "empty") this.log.warn(`credential slot ${s.slot}: ${s.state}${s.detail ? ` (${s.detail})` : ""}`);
    }
    const r = loaded.record;
    if (!r) {
      this.log.info("no stored credentials");
      return undefined;
    }
    this.addCredentialSecrets(r.credentials);
    const { host, port } = this.o.server;
    if (r.host !== host || r.port !== port) {
      this.log.warn(`stored credentials are for ${r.host}:${r.port}, not ${host}:${port}: provisioning again`);
      return undefined;
    }
    this.log.info(
      `stored credentials loaded: ${r.credentials.type}${r.pending ? " (pending: not yet confirmed by the server)" : ""}, ` +
        `slot ${loaded.slot}, sequence ${loaded.sequence}`,
    );
    return r;
  }

  private proceed(): void {
    if (this.record) this.connectDevice();
    else this.provision();
  }

  private setState(next: AgentState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.log.info(`state ${previous} -> ${next}`);
    this.o.onStateChange?.(next, previous);
  }

  /** Claims the outcome of attempt `gen`: false when it is stale or already decided. */
  private claim(gen: number): boolean {
    if (gen !== this.generation) return false;
    this.generation++;
    this.cancelTimer();
    return true;
  }

  /** Waits (back-off with full jitter, or the cap) and then proceeds; gives up after maxAttempts. */
  private retry(atCap = false): void {
    const delay = atCap ? this.backoff.nextAtCap() : this.backoff.next();
    if (delay === undefined) {
      this.log.error(`giving up after ${this.backoff.attempts} failed attempts in a row (backoff maxAttempts)`);
      this.setState("failed");
      return;
    }
    this.setState("waiting");
    this.log.info(`retrying in ${delay} ms (failure ${this.backoff.attempts} in a row)`);
    const gen = ++this.generation;
    this.armTimer(delay, () => {
      if (gen === this.generation) this.proceed();
    });
  }

  // ---- provisioning ---------------------------------------------------------------------------------

  private provision(): void {
    const gen = ++this.generation;
    this.setState("provisioning");
    const { host, port } = this.o.server;
    let request: ProvisionRequest;
    let chosen: DeviceCredentials | undefined;
    let bytes: Uint8Array;
    try {
      chosen = this.chooseCredentials();
      request = {
        provisionDeviceKey: this.o.provisionDeviceKey,
        provisionDeviceSecret: this.o.provisionDeviceSecret,
        credentials: requestCredentials(chosen),
      };
      if (this.o.deviceName !== undefined) request.deviceName = this.o.deviceName;
      if (this.o.gateway === true) request.gateway = true;
      bytes = provisionRequestBytes(request);
    } catch (e) {
      if (e instanceof ProvisionRequestError) {
        this.plog.error(`configuration error, not sending a provision request: ${e.message}`);
        this.setState("failed");
        return;
      }
      throw e;
    }
    if (chosen && !(this.record?.pending && sameCredentials(this.record.credentials, chosen))) {
      // Stored BEFORE the request leaves: if the response is lost, these are what the server may now hold.
      const pending: CredentialRecord = {
        credentials: chosen,
        host,
        port,
        deviceName: this.o.deviceName ?? "",
        provisionedAtMs: this.epoch(),
        pending: true,
      };
      const saved = this.save(pending, "pending credentials stored before the provision request");
      if (!saved) {
        // Without a pending record a lost response could not be recovered: do not ask yet.
        this.retry();
        return;
      }
      this.record = pending;
    }
    const expectation: ProvisionExpectation = {
      credentialsType: expectedCredentialsType(request),
      alsoAccept: RECOVERABLE_TYPES.filter((t) => t !== expectedCredentialsType(request)),
    };

    this.plog.info(`Starting provision to ${host}:${port}`);
    this.stats.provisionRequests++;
    const client: MqttClient = new MqttClient({
      connector: this.connector(undefined),
      clock: this.o.clock,
      clientId: this.clientId,
      username: PROVISION_USERNAME,
      keepaliveSec: this.o.keepaliveSec ?? 60,
      connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
      // The response timeout governs the attempt; a SUBACK that never comes (ThingsBoard <= 3.8.1) is fine.
      ackTimeoutMs: 0,
      log: this.mlog,
      onMessage: (m) => this.onProvisionMessage(gen, client, m, expectation, chosen),
      onClose: (error) => this.onProvisionClosed(gen, error),
    });
    this.client = client;
    // Queued before connect(): CONNECT + SUBSCRIBE + PUBLISH leave in one write. Nobody waits for the acks.
    client.subscribeWithCallback(PROVISION_RESPONSE_TOPIC, 1, (error, granted) => {
      if (error) this.plog.debug(`SUBSCRIBE ${PROVISION_RESPONSE_TOPIC} not acknowledged (${error.code}): not needed`);
      else this.plog.debug(`SUBACK granted ${granted?.join(",")}`);
    });
    client.publishWithCallback(PROVISION_REQUEST_TOPIC, bytes, { qos: 1 }, noop);
    const timeoutMs = this.o.provisionTimeoutMs ?? DEFAULT_PROVISION_TIMEOUT_MS;
    this.armTimer(timeoutMs, () => {
      if (!this.claim(gen)) return;
      this.plog.warn(`no provision response within ${timeoutMs} ms`);
      this.closeClient(client);
      this.afterLostResponse();
    });
    client.connectWithCallback(noop); // failures arrive through onClose
  }

  /** The credentials the device chooses itself (reusing a pending choice), or undefined for a server token. */
  private chooseCredentials(): DeviceCredentials | undefined {
    const mode = this.o.credentials ?? { type: "ACCESS_TOKEN" };
    const pending = this.record?.pending ? this.record.credentials : undefined;
    let chosen: DeviceCredentials | undefined;
    switch (mode.type) {
      case "SERVER_GENERATED_TOKEN":
        return undefined;
      case "ACCESS_TOKEN":
        chosen = pending?.type === "ACCESS_TOKEN"
          ? pending
          : { type: "ACCESS_TOKEN", token: generateAccessToken(this.o.random, mode.tokenLength ?? DEFAULT_TOKEN_LENGTH) };
        break;
      case "MQTT_BASIC": {
        const basic: DeviceCredentials = { type: "MQTT_BASIC" };
        if (mode.clientId) basic.clientId = mode.clientId;
        if (mode.username) basic.username = mode.username;
        if (mode.password) basic.password = mode.password;
        chosen = basic;
        break;
      }
      case "X509_CERTIFICATE":
        chosen = { type: "X509_CERTIFICATE", certificatePem: mode.certificatePem, privateKeyPem: mode.privateKeyPem };
        break;
    }
    this.addCredentialSecrets(chosen);
    return chosen;
  }

  private onProvisionMessage(
    gen: number,
    client: MqttClient,
    m: PublishPacket,
    expectation: ProvisionExpectation,
    chosen: DeviceCredentials | undefined,
  ): void {
    if (m.topic !== PROVISION_RESPONSE_TOPIC) {
      this.plog.warn(`ignoring a message on ${m.topic} in the provisioning session`);
      return;
    }
    if (!this.claim(gen)) return;
    // Closed once this handler has returned, so the PUBACK of the response is written first.
    void Promise.resolve().then(() => this.closeClient(client));
    let granted: ProvisionedCredentials;
    try {
      granted = parseProvisionResponse(m.payload as Uint8Array, expectation);
    } catch (e) {
      this.onProvisionError(e);
      return;
    }
    this.plog.info(`Provision response credential type: ${granted.credentialsType}`);
    this.responseLost = false;
    this.loggedConfigError = undefined;
    const credentials = toDeviceCredentials(granted, chosen);
    this.addCredentialSecrets(credentials);
    const record: CredentialRecord = {
      credentials,
      host: this.o.server.host,
      port: this.o.server.port,
      deviceName: this.o.deviceName ?? "",
      provisionedAtMs: this.epoch(),
      pending: false,
    };
    // If saving fails the device still connects with the credentials in RAM (a pending record, if any, recovers
    // them after a reboot).
    this.save(record, "credentials stored");
    this.record = record;
    this.connectDevice();
  }

  private onProvisionError(e: unknown): void {
    const cap = this.backoff.capMs;
    if (e instanceof ProvisionNotFoundError) {
      if (this.loggedConfigError !== "not-found") {
        this.loggedConfigError = "not-found";
        this.plog.error(
          `Provisioning refused: NOT_FOUND${e.errorMsg ? ` ("${e.errorMsg}")` : ""}. This is a configuration error: ` +
            "check the provision device key and secret against the device profile, and that provisioning is enabled " +
            `on that profile. Retrying every ${cap} ms.`,
        );
      } else this.plog.debug("NOT_FOUND again");
      this.retry(true);
      return;
    }
    if (e instanceof ProvisionFailedError) {
      if (this.loggedConfigError !== "failure") {
        this.loggedConfigError = "failure";
        const name = this.o.deviceName ? `"${this.o.deviceName}"` : "this device";
        this.plog.error(
          `Provisioning refused: FAILURE${e.errorMsg ? ` ("${e.errorMsg}")` : ""}. ` +
            (this.responseLost
              ? "An earlier provision response was lost, so the server has probably provisioned this device already: " +
                "under CHECK_PRE_PROVISIONED_DEVICES, ThingsBoard 4.2.1.1 and later refuse a second request. An operator " +
                `must reset the provisionState of ${name} (delete its server attribute provisionState) before it can ` +
                "provision again. "
              : `Under ALLOW_CREATE_NEW_DEVICES a device named ${name} exists already (delete it or change the name); ` +
                `under CHECK_PRE_PROVISIONED_DEVICES ${name} is not pre-provisioned in this profile, or was provisioned ` +
                "before: an operator must reset its provisionState (delete its server attribute provisionState). ") +
            `Retrying every ${cap} ms.`,
        );
      } else this.plog.debug("FAILURE again");
      this.retry(true);
      return;
    }
    if (e instanceof ProvisionResponseError) {
      this.plog.error(`provision response refused (${e.code}): ${e.message}; nothing stored`);
      this.retry();
      return;
    }
    throw e;
  }

  private onProvisionClosed(gen: number, error: MqttClosedError): void {
    if (!this.claim(gen)) return;
    this.plog.warn(`provisioning session ended without a response: ${error.message}`);
    this.afterLostResponse();
  }

  /** No response: if the device stored its choice, the next attempt first connects with it (see proceed()). */
  private afterLostResponse(): void {
    this.client = null;
    this.responseLost = true;
    if (this.record?.pending) this.plog.info("the server may have acted on the request: the next attempt connects with the pending credentials");
    this.retry();
  }

  // ---- device connection ----------------------------------------------------------------------------

  private connectDevice(): void {
    const gen = ++this.generation;
    const record = this.record as CredentialRecord;
    const c = record.credentials;
    const { host, port } = this.o.server;
    this.setState("connecting");
    this.log.info(
      record.pending
        ? `connecting to ${host}:${port} with the pending ${c.type} credentials (did the server create them?)`
        : `connecting to ${host}:${port} with ${c.type} credentials`,
    );
    this.stats.connectAttempts++;
    let clientId = this.clientId;
    let username: string | undefined;
    let password: string | undefined;
    if (c.type === "ACCESS_TOKEN") username = c.token;
    else if (c.type === "MQTT_BASIC") {
      if (c.clientId) clientId = c.clientId;
      username = c.username;
      password = c.password;
    }
    const client: MqttClient = new MqttClient({
      connector: this.connector(c),
      clock: this.o.clock,
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      keepaliveSec: this.o.keepaliveSec ?? 60,
      connectTimeoutMs: this.o.connectTimeoutMs ?? 10_000,
      ackTimeoutMs: this.o.ackTimeoutMs ?? 20_000,
      log: this.mlog,
      onMessage: (m) => this.o.onMessage?.(m.topic, m.payload as Uint8Array),
      onClose: (error) => this.onDeviceClosed(gen, record, error),
    });
    this.client = client;
    // Pipelined behind CONNECT: subscriptions, then every waiting message.
    const subs = this.o.subscriptions ?? [];
    for (let i = 0; i < subs.length; i++) client.subscribeWithCallback(subs[i], 1, noop);
    this.pump(client);
    client.connectWithCallback((error) => {
      if (!error && gen === this.generation) this.onConnected(record);
    });
  }

  private onConnected(record: CredentialRecord): void {
    this.backoff.reset();
    this.loggedConfigError = undefined;
    this.stats.connects++;
    if (record.pending) {
      this.log.info("the server accepted the pending credentials: provisioned");
      let saved: CredentialSaveResult | undefined;
      try {
        saved = this.o.store.confirm(this.epoch());
      } catch (e) {
        this.log.error(`could not confirm the stored credentials: ${errorText(e)}`);
      }
      if (saved) this.log.info(`credentials confirmed (slot ${saved.slot}, sequence ${saved.sequence})`);
      record.pending = false;
      this.responseLost = false;
    }
    const { host, port } = this.o.server;
    this.log.info(`connected to ${host}:${port}${this.o.deviceName ? ` as "${this.o.deviceName}"` : ""}`);
    this.setState("online");
  }

  private onDeviceClosed(gen: number, record: CredentialRecord, error: MqttClosedError): void {
    if (!this.claim(gen)) return;
    this.client = null;
    this.queue.requeueAll();
    const rc = error.cause instanceof MqttConnectError ? error.cause.returnCode : -1;
    if (rc === CONNACK_BAD_CREDENTIALS || rc === CONNACK_NOT_AUTHORIZED) {
      if (record.pending) {
        this.log.warn(`the server refused the pending credentials (CONNACK ${rc}): it never created them; provisioning again`);
        this.provision();
        return;
      }
      if (this.o.reprovisionOnAuthFailure !== false) {
        this.log.warn(
          `the server refused the stored credentials (CONNACK ${rc}): the device was deleted or its credentials ` +
            "changed; erasing them and provisioning again",
        );
        try {
          this.o.store.factoryReset();
        } catch (e) {
          this.log.error(`could not erase the credential store: ${errorText(e)}`);
        }
        this.record = undefined;
        this.provision();
        return;
      }
      this.log.error(`the server refused the stored credentials (CONNACK ${rc}); reprovisionOnAuthFailure is off`);
    }
    this.retry();
  }

  // ---- messages -------------------------------------------------------------------------------------

  private enqueue(topic: string, payload: string, done: FateCallback | undefined): number {
    const id = this.queue.push(topic, payload, done);
    const client = this.client;
    if (client && (this.current === "online" || this.current === "connecting")) this.pump(client);
    return id;
  }

  /** Hands every waiting message to `client` (before connect(): they ride along with CONNECT). */
  private pump(client: MqttClient): void {
    if (client.state === "closed") return;
    const waiting = this.queue.waiting();
    for (let i = 0; i < waiting.length; i++) {
      const m = waiting[i];
      this.queue.markSent(m);
      try {
        client.publishWithCallback(m.topic, m.payload, { qos: 1 }, (error) => this.onPublished(client, m, error));
      } catch (e) {
        this.queue.fail(m, e as Error);
      }
    }
  }

  private onPublished(client: MqttClient, m: QueuedMessage, error: MqttError | null): void {
    if (!error) {
      this.queue.ack(m);
      this.tlog.info(`${m.topic === TELEMETRY_TOPIC ? "telemetry" : "attributes"} #${m.id} acked`);
      return;
    }
    this.queue.requeue(m);
    if (error instanceof MqttTimeoutError && client === this.client) {
      this.tlog.warn(`#${m.id}: ${error.message}; reconnecting to send it again`);
      client.close(); // onClose → back-off → reconnect → resent behind CONNECT
    }
  }

  // ---- helpers --------------------------------------------------------------------------------------

  private save(record: CredentialRecord, what: string): boolean {
    try {
      const r = this.o.store.save(record);
      this.log.info(`${what} (${record.credentials.type}, slot ${r.slot}, sequence ${r.sequence}, ${r.bytes} bytes)`);
      return true;
    } catch (e) {
      this.log.error(`could not store credentials: ${errorText(e)}`);
      return false;
    }
  }

  /** The host's connector, asked for only when the client connects: a factory that throws fails like a socket. */
  private connector(credentials: DeviceCredentials | undefined): TransportConnector {
    return (events) => this.o.connect(this.o.server, credentials)(events);
  }

  private closeClient(client: MqttClient): void {
    if (this.client === client) this.client = null;
    client.close();
  }

  private epoch(): number {
    const e = this.o.epochMs;
    const t = e ? Math.floor(e()) : 0;
    return Number.isSafeInteger(t) && t > 0 ? t : 0;
  }

  private addCredentialSecrets(c: DeviceCredentials | undefined): void {
    if (!c) return;
    const log = this.o.log;
    if (c.type === "ACCESS_TOKEN") log.addSecret(c.token);
    else if (c.type === "MQTT_BASIC") {
      log.addSecret(c.password);
      log.addSecret(c.username);
      // A client id alone is the whole credential.
      if (!c.username && !c.password) log.addSecret(c.clientId);
    } else log.addSecret(c.privateKeyPem);
  }

  private armTimer(delayMs: number, callback: () => void): void {
    this.cancelTimer();
    const handle = this.o.clock.setTimer(() => {
      if (this.timer === handle) this.timer = null;
      callback();
    }, delayMs);
    this.timer = handle;
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.o.clock.clearTimer(this.timer);
    this.timer = null;
  }
}

function noop(): void {}

function isTimestamped(t: Telemetry): boolean {
  const o = t as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(o, "ts") && Object.prototype.hasOwnProperty.call(o, "values");
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

function randomHex(random: RandomSource, bytes: number): string {
  const b = new Uint8Array(bytes);
  random.fill(b);
  let s = "";
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}

function requestCredentials(chosen: DeviceCredentials | undefined): NonNullable<ProvisionRequest["credentials"]> {
  if (!chosen) return { type: "SERVER_GENERATED_TOKEN" };
  switch (chosen.type) {
    case "ACCESS_TOKEN":
      return { type: "ACCESS_TOKEN", token: chosen.token };
    case "MQTT_BASIC": {
      const r: { type: "MQTT_BASIC"; clientId?: string; username?: string; password?: string } = { type: "MQTT_BASIC" };
      if (chosen.clientId) r.clientId = chosen.clientId;
      if (chosen.username) r.username = chosen.username;
      if (chosen.password) r.password = chosen.password;
      return r;
    }
    case "X509_CERTIFICATE":
      return { type: "X509_CERTIFICATE", certificatePem: chosen.certificatePem };
  }
}

function sameCredentials(a: DeviceCredentials, b: DeviceCredentials): boolean {
  if (a.type !== b.type) return false;
  if (a.type === "ACCESS_TOKEN") return a.token === (b as typeof a).token;
  if (a.type === "MQTT_BASIC") {
    const o = b as typeof a;
    return (a.clientId ?? "") === (o.clientId ?? "") && (a.username ?? "") === (o.username ?? "") && (a.password ?? "") === (o.password ?? "");
  }
  const x = b as typeof a;
  return a.certificatePem === x.certificatePem && a.privateKeyPem === x.privateKeyPem;
}

/** The response's credentials in the store's shape (X.509: the device's own certificate and key). */
function toDeviceCredentials(granted: ProvisionedCredentials, chosen: DeviceCredentials | undefined): DeviceCredentials {
  switch (granted.credentialsType) {
    case "ACCESS_TOKEN":
      return { type: "ACCESS_TOKEN", token: granted.token };
    case "MQTT_BASIC": {
      const c: DeviceCredentials = { type: "MQTT_BASIC" };
      if (granted.clientId) c.clientId = granted.clientId;
      if (granted.userName) c.username = granted.userName;
      if (granted.password) c.password = granted.password;
      return c;
    }
    case "X509_CERTIFICATE":
      // Only accepted when the device asked for X.509 (alsoAccept never lists it), so `chosen` holds the key.
      return chosen as DeviceCredentials;
  }
}
