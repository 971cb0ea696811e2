/**
 * Typed errors of the credential store. Like the other layers' errors, each has a stable kebab-case `code`, and a
 * message that names the field and the limit but never contains a credential, a key or any other stored value.
 */

import { SdkError } from "../errors.js";

export type CredentialStoreErrorCode = "too-large" | "invalid-record" | "nothing-to-confirm" | "invalid-options";

/** Base class of every error thrown by src/credentials (errors of the key-value store itself pass through). */
export class CredentialStoreError extends SdkError {
  override name = "CredentialStoreError";
  declare readonly code: CredentialStoreErrorCode;
  constructor(code: CredentialStoreErrorCode, message: string) {
    super(code, message);
  }
}

/** The encoded record would not fit the values the store may use. Thrown before anything is written. */
export class CredentialTooLargeError extends CredentialStoreError {
  override name = "CredentialTooLargeError";
  /** Bytes the encoded record needs. */
  readonly bytes: number;
  /** Bytes the store can hold for one record (maxParts × 4000). */
  readonly limit: number;
  constructor(bytes: number, limit: number) {
    super(
      "too-large",
      `the credential record needs ${bytes} bytes but this store holds at most ${limit} ` +
        `(${Math.ceil(limit / 4000)} NVS value(s) of 4000 bytes): use a shorter certificate chain or an RSA-2048 key, ` +
        "or give the CredentialStore a larger maxParts",
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A field of the record is missing, of the wrong type or out of range. Thrown before anything is written. */
export class InvalidCredentialRecordError extends CredentialStoreError {
  override name = "InvalidCredentialRecordError";
  /** The offending field, e.g. "credentials.token" or "port". */
  readonly field: string;
  constructor(field: string, problem: string) {
    super("invalid-record", `credential record field "${field}" ${problem}`);
    this.field = field;
  }
}
