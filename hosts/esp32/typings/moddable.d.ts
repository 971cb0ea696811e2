/**
 * Ambient declarations of exactly the Moddable SDK modules hosts/esp32 imports, written from Moddable's documented
 * APIs (documentation/network/network.md, files/files.md, base/timer.md, base/time.md, base/instrumentation.md),
 * so `tsc -p hosts/esp32/tsconfig.json` can check the adapters in CI without the Moddable SDK installed.
 * A real build (`mcconfig`) type-checks the same code against Moddable's own typings instead.
 */

/** Moddable's global debug output: a debug build sends it to xsbug, an instrumented one to the console. */
declare function trace(...values: unknown[]): void;

declare module "socket" {
  type SocketData = ArrayBuffer | ArrayBufferView | string | number;
  export interface SocketOptions {
    host?: string;
    address?: string;
    port: number;
    noDelay?: boolean;
    keepalive?: { idle: number; interval: number; count: number };
  }
  export class Socket {
    constructor(options: SocketOptions);
    /** message: -2 error, -1 disconnected, 1 connected, 2 readable (value = bytes), 3 written (value = bytes free). */
    callback: (message: number, value?: number) => void;
    read(type: typeof ArrayBuffer, count?: number): ArrayBuffer | undefined;
    read(type: typeof String, count?: number): string | undefined;
    /** With no argument: bytes the socket can take now. Throws when the data does not fit. */
    write(): number;
    write(...data: SocketData[]): void;
    close(): void;
  }
}

declare module "securesocket" {
  /** A Socket with TLS (1.2 at most); `secure` holds protocolVersion, certificate, clientCertificates, clientKey, verify, serverName. */
  export default class SecureSocket {
    constructor(options: { host?: string; address?: string; port: number; secure: Record<string, unknown> });
    read(type: typeof ArrayBuffer, count?: number): ArrayBuffer | undefined;
    write(...data: (ArrayBuffer | ArrayBufferView | string | number)[]): void;
    close(): void;
  }
}

declare module "preference" {
  /** NVS on ESP32 (domain = namespace; domain and key ≤ 15 characters; values ≤ 4000 bytes). */
  const Preference: {
    set(domain: string, key: string, value: boolean | number | string | ArrayBuffer): void;
    get(domain: string, key: string): boolean | number | string | ArrayBuffer | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}

declare module "timer" {
  class Timer {
    private constructor();
    private brand: boolean;
    static set(callback: (timer: Timer) => void, interval?: number, repeat?: number): Timer;
    static repeat(callback: (timer: Timer) => void, interval: number): Timer;
    static schedule(timer: Timer, interval?: number, repeat?: number): void;
    static clear(timer: Timer | undefined | null): void;
    static delay(ms: number): void;
  }
  export default Timer;
}

declare module "time" {
  const Time: {
    /** Milliseconds since boot, monotonic. */
    readonly ticks: number;
    set(seconds: number): void;
    timezone: number;
    dst: number;
    delta(start: number, end?: number): number;
  };
  export default Time;
}

declare module "net" {
  const Net: {
    get(what: "IP" | "MAC" | "SSID" | "BSSID", mode?: string): string;
    get(what: "RSSI"): number;
  };
  export default Net;
}

declare module "instrumentation" {
  const Instrumentation: {
    map(name: string): number | undefined;
    get(id: number | undefined): number | undefined;
    name(id: number | undefined): string | undefined;
  };
  export default Instrumentation;
}

declare module "debug" {
  const Debug: {
    /** Collects garbage now. */
    gc(enable?: boolean): void;
  };
  export default Debug;
}

declare module "mc/config" {
  /** The manifest's "config" merged with `mcconfig … key=value` arguments (values from the command line are strings). */
  const config: Record<string, unknown>;
  export default config;
}

declare module "Resource" {
  /** Data built into the firmware image (the manifest's "resources"), read from flash. */
  const Resource: {
    new (path: string): { readonly byteLength: number; slice(begin: number, end?: number): ArrayBuffer };
    exists(path: string): boolean;
  };
  export default Resource;
}
