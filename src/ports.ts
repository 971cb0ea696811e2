/**
 * Ports: the only way the portable core touches the outside world.
 * Each host (hosts/node, hosts/esp32) implements these; tests use in-memory ones.
 * Nothing here may name a Node or Moddable API.
 */

/** Why a transport ended. `error` carries the host's message (never a secret). */
export interface TransportCloseInfo {
  /** "closed" = peer closed cleanly, "error" = connect/TLS/IO failure, "local" = we called close(). */
  kind: "closed" | "error" | "local";
  message?: string;
}

/** Callbacks a transport drives. The core registers them once, before the transport opens. */
export interface TransportEvents {
  /** The byte stream is ready (TCP connected, TLS handshake done). Called at most once. */
  onOpen(): void;
  /**
   * Bytes arrived. Ownership of `chunk` passes to the receiver: the transport must not reuse or
   * mutate it afterwards (the MQTT reader keeps zero-copy views into it).
   */
  onData(chunk: Uint8Array): void;
  /** The stream is gone. Called exactly once, after which no other callback fires. */
  onClose(info: TransportCloseInfo): void;
}

/**
 * A connected byte stream (TCP or TLS), modelled on coreMQTT's transport interface but
 * callback-driven like Moddable's sockets.
 * Contract:
 * - write() before onOpen is a programming error and throws; after onClose it is ignored.
 * - write() accepts the whole chunk: the transport queues what the OS cannot take yet and keeps order.
 *   The chunk is only lent: the transport copies whatever it keeps past the call (Moddable's sockets copy
 *   into the TCP stack anyway), so the caller reuses one output buffer and a publish allocates no wire buffer.
 * - close() is idempotent; it leads to exactly one onClose({kind: "local"}) unless onClose already fired.
 */
export interface Transport {
  write(chunk: Uint8Array): void;
  close(): void;
}

/** Opens a transport; connecting starts at once and ends in events.onOpen or events.onClose. */
export type TransportConnector = (events: TransportEvents) => Transport;

/** Opaque handle of a pending timer. */
export type TimerHandle = unknown;

/** Monotonic time and one-shot timers. */
export interface Clock {
  /** Milliseconds since an arbitrary fixed origin (boot); never goes backwards. */
  now(): number;
  /** Calls `callback` once, `delayMs` (>= 0) from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a pending timer; harmless on one that fired or was cleared. */
  clearTimer(handle: TimerHandle): void;
}

/** Cryptographically strong random bytes (client ids, tokens, jitter). */
export interface RandomSource {
  fill(target: Uint8Array): void;
}

/** ESP-IDF log levels, most severe first. */
export type LogLevel = "E" | "W" | "I" | "D" | "V";

/**
 * Where finished log lines go (serial port, stdout, a test buffer).
 * The core formats and redacts; a sink only prints `line` (no trailing newline).
 */
export interface LogSink {
  write(level: LogLevel, line: string): void;
}

/** Largest key, in characters, that ESP32 NVS (Moddable's Preference) accepts. */
export const KV_MAX_KEY_LENGTH = 15;
/** Largest value, in bytes, that ESP32 NVS (Moddable's Preference) accepts. */
export const KV_MAX_VALUE_BYTES = 4000;

/**
 * A small non-volatile key-value store: ESP32 NVS through Moddable's Preference on the device, a file-backed
 * emulation on Node. One instance is one namespace (Preference's "domain").
 * Contract:
 * - keys are at most 15 characters, values at most 4000 bytes (longer → the call throws, nothing changes);
 * - set() is NOT atomic: like Preference on NVS it may erase the old value before writing the new one, so a
 *   power cut during set() can leave the key absent (never a torn value). Code that must not lose data keeps
 *   two copies under different keys (see src/credentials);
 * - get() returns a fresh copy, or undefined for an absent key; delete() of an absent key is harmless;
 * - every call is synchronous and durable when it returns.
 */
export interface KeyValueStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
}
