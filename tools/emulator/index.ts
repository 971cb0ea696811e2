/**
 * The ThingsBoard-compatible emulator: store (optionally persisted), MQTT device API on aedes, REST subset
 * and web page, wired together with one event bus that feeds the console log and the page.
 */
import * as fs from "node:fs";
import type { Log } from "../../src/log.js";
import { logEmulatorEvent } from "./event-log.js";
import { startHttpApi } from "./http-server.js";
import { startMqttDeviceApi } from "./mqtt-server.js";
import type { ReprovisionMode } from "./provision.js";
import { seedStore } from "./seed.js";
import type { EmulatorEvent, EmulatorEventListener } from "./sessions.js";
import { EmulatorStore } from "./store.js";
import type { TlsFiles } from "./tls-files.js";

export interface EmulatorOptions {
  bind: string;
  mqttPort: number;
  /** MQTTS listener (needs `tls`). */
  mqttsPort?: number;
  tls?: TlsFiles;
  httpPort: number;
  /** State file: loaded at start, saved every `saveIntervalMs` and on close (atomic replace). */
  dataFile?: string;
  /** Seed profiles and devices (the --config JSON); entries whose names exist are left alone. */
  config?: unknown;
  reprovision: ReprovisionMode;
  noProvisionSuback?: boolean;
  provisionCloseMs?: number;
  maxPayloadBytes?: number;
  saveIntervalMs?: number;
  /** Timeseries points kept per device and key (oldest dropped), so memory stays flat under load. */
  maxPointsPerKey?: number;
  /** The REST login (default tenant@thingsboard.org / tenant). */
  tenant?: { username?: string; password?: string };
  log: Log;
}

export interface RunningEmulator {
  store: EmulatorStore;
  mqttPort: number;
  mqttsPort?: number;
  httpPort: number;
  /** Subscribe to events (returns an unsubscribe function). */
  subscribe(listener: EmulatorEventListener): () => void;
  close(): Promise<void>;
}

export async function startEmulator(o: EmulatorOptions): Promise<RunningEmulator> {
  const log = o.log.tag("emulator");
  const storeOptions = o.maxPointsPerKey !== undefined ? { maxPointsPerKey: o.maxPointsPerKey } : {};
  const store = o.dataFile && fs.existsSync(o.dataFile) ? await EmulatorStore.load(o.dataFile, storeOptions) : new EmulatorStore(storeOptions);
  if (o.dataFile) log.info(`state file ${o.dataFile}: ${store.listDevices().length} devices, ${store.listProfiles().length} profiles`);
  if (o.config !== undefined) {
    const report = seedStore(store, o.config);
    log.info(`seeded ${report.createdProfiles.length} profiles and ${report.createdDevices.length} devices` +
      (report.skipped.length ? ` (${report.skipped.length} already present)` : ""));
  }

  const listeners = new Set<EmulatorEventListener>();
  const emit = (e: EmulatorEvent) => {
    logEmulatorEvent(log, e);
    for (const l of listeners) l(e);
  };
  const subscribe = (l: EmulatorEventListener) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };

  const mqtt = await startMqttDeviceApi({
    store, bind: o.bind, port: o.mqttPort, reprovision: o.reprovision, onEvent: emit,
    ...(o.mqttsPort !== undefined && o.tls ? { tlsPort: o.mqttsPort, tls: { cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca } } : {}),
    ...(o.noProvisionSuback ? { noProvisionSuback: true } : {}),
    ...(o.provisionCloseMs !== undefined ? { provisionCloseMs: o.provisionCloseMs } : {}),
    ...(o.maxPayloadBytes !== undefined ? { maxPayloadBytes: o.maxPayloadBytes } : {}),
  });
  let http;
  try {
    http = await startHttpApi({ store, sessions: mqtt.sessions, bind: o.bind, port: o.httpPort, reprovision: o.reprovision, events: subscribe, onEvent: emit, ...(o.tenant ? { tenant: o.tenant } : {}) });
  } catch (e) {
    await mqtt.close();
    throw e;
  }
  log.info(`MQTT listening on ${o.bind}:${mqtt.port}`);
  if (mqtt.tlsPort !== undefined) log.info(`MQTTS listening on ${o.bind}:${mqtt.tlsPort} (certificate ${o.tls?.source})`);
  log.info(`HTTP listening on ${o.bind}:${http.port} (web page http://${o.bind}:${http.port}/)`);

  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    if (!o.dataFile) return saving;
    const file = o.dataFile;
    saving = saving.then(() => store.save(file)).catch((e) => log.error(`could not save state to ${file}: ${(e as Error).message}`));
    return saving;
  };
  const timer = o.dataFile ? setInterval(() => void save(), o.saveIntervalMs ?? 5000) : undefined;

  let closing: Promise<void> | undefined;
  return {
    store,
    mqttPort: mqtt.port,
    ...(mqtt.tlsPort !== undefined ? { mqttsPort: mqtt.tlsPort } : {}),
    httpPort: http.port,
    subscribe,
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        await Promise.all([mqtt.close(), http.close()]);
        await save();
        log.info("stopped");
      })();
      return closing;
    },
  };
}
