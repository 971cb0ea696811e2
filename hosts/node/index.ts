/** The Node host's implementations of the core's ports (src/ports.ts). */
export { tcpConnector, tlsConnector } from "./transport.js";
export type { TcpOptions, TlsOptions, TlsVersion } from "./transport.js";
export { systemClock } from "./clock.js";
export { cryptoRandom } from "./random.js";
export { stdoutSink, memorySink } from "./log-sink.js";
export type { StdoutSinkOptions, TextStream, MemorySink, LogEntry } from "./log-sink.js";
export { NvsFileStore, NvsPowerCutError, NvsLimitError, NvsFileFormatError, DEFAULT_NVS_NAMESPACE, type NvsFileOptions, type NvsStep } from "./nvs-file.js";
