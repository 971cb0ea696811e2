/** The device agent: provisioning, credentials, reconnect with back-off, and the telemetry queue. */
export { DeviceAgent } from "./agent.js";
export type { AgentState, AgentStats, ConnectorFactory, DeviceAgentOptions, ProvisionCredentialsOption, ServerEndpoint } from "./agent.js";
export { Backoff, uniformInt, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { TelemetryQueue, DEFAULT_QUEUE_MAX_BYTES, DEFAULT_QUEUE_MAX_MESSAGES } from "./telemetry-queue.js";
export type { FateCallback, MessageFate, QueuedMessage, QueueStats, TelemetryQueueOptions } from "./telemetry-queue.js";
