/**
 * The power-safe credential store: a versioned, CRC-checked record kept in two slots on the key-value port.
 * (CredentialsType, the same union, is exported by src/thingsboard; record.ts has its own to stay independent.)
 */
export { CredentialStore, DEFAULT_KEY_PREFIX, DEFAULT_MAX_PARTS, MAX_PARTS_LIMIT } from "./store.js";
export type { CredentialLoadResult, CredentialSaveResult, CredentialStoreOptions, SlotName, SlotReport, SlotState } from "./store.js";
export {
  decodeRecord,
  encodeRecord,
  encodedRecordLength,
  isNewerSequence,
  readRecordHeader,
  RECORD_FORMAT_VERSION,
  RECORD_HEADER_BYTES,
  RECORD_MAX_BYTES,
} from "./record.js";
export type {
  AccessTokenCredentials,
  CredentialRecord,
  DecodedRecord,
  DeviceCredentials,
  MqttBasicCredentials,
  RecordHeader,
  RecordProblem,
  X509Credentials,
} from "./record.js";
export { CredentialStoreError, CredentialTooLargeError, InvalidCredentialRecordError } from "./errors.js";
export type { CredentialStoreErrorCode } from "./errors.js";
export { crc32 } from "./crc32.js";
