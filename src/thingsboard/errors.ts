/**
 * Typed errors of the ThingsBoard layer. Like the MQTT layer's (src/mqtt/errors.ts), every error has a stable
 * kebab-case `code` a log or a program can switch on, and a `message` that says what a person can do about it.
 *
 * No message ever contains a credential, a provision key or secret, or any other value taken from a request or
 * a response, except the server's own `errorMsg` (bounded and flattened to one line). Messages name fields.
 */

import { SdkError } from "../errors.js";

/** Base class of every error thrown by src/thingsboard. */
export class ThingsBoardError extends SdkError {
  override name = "ThingsBoardError";
}

export type ProvisionRequestErrorCode =
  | "invalid-device-name"
  | "missing-provision-key"
  | "missing-provision-secret"
  | "invalid-field"
  | "credential-too-large"
  | "mqtt-basic-no-identity"
  | "mqtt-basic-password-needs-username"
  | "private-key-in-certificate"
  | "invalid-token-length"
  | "random-source-stuck";

/** The provision request would be refused by ThingsBoard, or could never succeed: refused before sending. */
export class ProvisionRequestError extends ThingsBoardError {
  override name = "ProvisionRequestError";
  declare readonly code: ProvisionRequestErrorCode;
  constructor(code: ProvisionRequestErrorCode, message: string) {
    super(code, message);
  }
}

/** Longest server `errorMsg` kept (ThingsBoard's own are about 30 characters). */
export const MAX_ERROR_MSG_LENGTH = 200;

/** The server's errorMsg, bounded and on one line, for a message and a log. */
function serverText(errorMsg: string): string {
  const short = errorMsg.length > MAX_ERROR_MSG_LENGTH ? errorMsg.slice(0, MAX_ERROR_MSG_LENGTH) + "…" : errorMsg;
  return short.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ");
}

/**
 * NOT_FOUND: ThingsBoard found no device profile for this provision key, the secret did not match, or
 * provisioning is disabled on the profile. A configuration error: asking again will not help.
 */
export class ProvisionNotFoundError extends ThingsBoardError {
  override name = "ProvisionNotFoundError";
  /** The server's errorMsg (bounded, one line); "" when it sent none. */
  readonly errorMsg: string;
  constructor(errorMsg: string) {
    const text = serverText(errorMsg);
    super(
      "provision-not-found",
      `provisioning refused (NOT_FOUND${text ? `: "${text}"` : ""}): check the provision device key and secret ` +
        "against the device profile, and that provisioning is enabled on that profile",
    );
    this.errorMsg = text;
  }
}

/**
 * FAILURE: the profile was found but the server would not provision: the device name exists already (or, under
 * "check pre-provisioned devices", does not exist or was provisioned before), or the credentials were refused.
 */
export class ProvisionFailedError extends ThingsBoardError {
  override name = "ProvisionFailedError";
  /** The server's errorMsg (bounded, one line); "" when it sent none. */
  readonly errorMsg: string;
  constructor(errorMsg: string) {
    const text = serverText(errorMsg);
    super(
      "provision-failed",
      `provisioning failed (FAILURE${text ? `: "${text}"` : ""}): the device name may exist already or have been ` +
        "provisioned before (an operator can reset its provisionState), or the server refused the credentials",
    );
    this.errorMsg = text;
  }
}

export type ProvisionResponseErrorCode =
  | "payload-too-large"
  | "invalid-utf8"
  | "invalid-json"
  | "too-deep"
  | "not-an-object"
  | "missing-field"
  | "invalid-field"
  | "unknown-status"
  | "credentials-type-mismatch"
  | "credential-too-large";

/** The provision response is malformed or hostile. Nothing from it may be used or stored. */
export class ProvisionResponseError extends ThingsBoardError {
  override name = "ProvisionResponseError";
  declare readonly code: ProvisionResponseErrorCode;
  constructor(code: ProvisionResponseErrorCode, message: string) {
    super(code, message);
  }
}

export type PayloadErrorCode =
  | "invalid-key"
  | "invalid-value"
  | "invalid-timestamp"
  | "too-deep"
  | "empty"
  | "invalid-id";

/** A telemetry/attribute payload or a topic id that ThingsBoard would refuse or misread; nothing was sent. */
export class PayloadError extends ThingsBoardError {
  override name = "PayloadError";
  declare readonly code: PayloadErrorCode;
  constructor(code: PayloadErrorCode, message: string) {
    super(code, message);
  }
}
