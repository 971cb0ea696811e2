/** Public API of the portable core: what an OEM application (Moddable or Node) imports. */
export * from "./ports.js";
export { SdkError } from "./errors.js";
export { Log, Logger, redact, REDACTED } from "./log.js";
export type { LogOptions } from "./log.js";
export * from "./mqtt/index.js";
export * from "./thingsboard/index.js";
export * from "./credentials/index.js";
export * from "./device/index.js";
export * from "./settings/index.js";
