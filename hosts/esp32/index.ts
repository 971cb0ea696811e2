/** The Moddable host's implementations of the core's ports, for an OEM app that wires its own agent. */
export { socketConnector, type SocketConnectorOptions, type TlsSettings } from "./transport.js";
export { caFromResource, CA_RESOURCE } from "./ca-resource.js";
export { PreferenceStore, preferenceSource } from "./preference-store.js";
export { timerClock } from "./clock.js";
export { deviceRandom } from "./random.js";
export { traceSink } from "./log-sink.js";
export { macAddress, defaultDeviceName } from "./identity.js";
export { whenNetworkReady, type NetworkReadyOptions } from "./network-ready.js";
export { memoryUsage, type MemoryUsage } from "./memory.js";
export { sampleTelemetry } from "./sample-telemetry.js";
