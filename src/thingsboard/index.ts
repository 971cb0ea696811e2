/** ThingsBoard device API: topics, provisioning request/response, telemetry and attribute payloads. */
export * from "./errors.js";
export * from "./topics.js";
export * from "./provision-request.js";
export * from "./provision-response.js";
export * from "./payloads.js";
