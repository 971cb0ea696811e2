/** Typed errors of the MQTT layer. Every error has a stable `code` a log or a program can switch on. */

import { SdkError } from "../errors.js";
import { CONNACK_CODE_NAMES } from "./constants.js";

/** Base class: `code` is a short kebab-case name, `message` says what a person can do about it. */
export class MqttError extends SdkError {
  override name = "MqttError";
}

export type ProtocolErrorCode =
  | "malformed-remaining-length"
  | "packet-too-large"
  | "unknown-packet-type"
  | "invalid-flags"
  | "unexpected-length"
  | "invalid-utf8"
  | "string-too-long"
  | "invalid-topic"
  | "invalid-qos"
  | "invalid-packet-id"
  | "invalid-return-code"
  | "empty-subscription"
  | "unsupported-protocol"
  | "invalid-connect-flags"
  | "invalid-keepalive"
  | "unexpected-packet";

/** Bytes that are not valid MQTT 3.1.1 (incoming), or a packet we refuse to encode (outgoing). */
export class MqttProtocolError extends MqttError {
  override name = "MqttProtocolError";
  declare readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(code, message);
  }
}

/** The server answered CONNECT with a non-zero return code. */
export class MqttConnectError extends MqttError {
  override name = "MqttConnectError";
  readonly returnCode: number;
  constructor(returnCode: number) {
    const name = CONNACK_CODE_NAMES[returnCode] ?? "unknown-return-code";
    super(name, `connection refused by server: ${name} (CONNACK return code ${returnCode})`);
    this.returnCode = returnCode;
  }
}

export type CloseReason =
  | "client-close"
  | "transport-closed"
  | "transport-error"
  | "keepalive-timeout"
  | "connect-timeout"
  | "connect-refused"
  | "protocol-error";

/** The session ended; pending operations fail with this. `cause` is the underlying error, if any. */
export class MqttClosedError extends MqttError {
  override name = "MqttClosedError";
  readonly reason: CloseReason;
  override readonly cause?: unknown;
  constructor(reason: CloseReason, message: string, cause?: unknown) {
    super(reason, message);
    this.reason = reason;
    if (cause !== undefined) this.cause = cause;
  }
}

/** An acknowledgement (PUBACK, SUBACK, UNSUBACK) did not arrive in time; the session stays up. */
export class MqttTimeoutError extends MqttError {
  override name = "MqttTimeoutError";
  constructor(what: string, ms: number) {
    super("ack-timeout", `no ${what} within ${ms} ms`);
  }
}

/** The server refused one or more filters of a SUBSCRIBE (return code 0x80). */
export class MqttSubscribeError extends MqttError {
  override name = "MqttSubscribeError";
  readonly granted: readonly number[];
  readonly refused: readonly string[];
  constructor(refused: string[], granted: number[]) {
    super("subscription-refused", `server refused subscription to ${refused.join(", ")}`);
    this.granted = granted;
    this.refused = refused;
  }
}

/** The caller used the client wrongly (e.g. publish after close, QoS 2, too many in flight). */
export class MqttUsageError extends MqttError {
  override name = "MqttUsageError";
}
