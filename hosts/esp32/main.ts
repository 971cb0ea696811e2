/**
 * The firmware app: every board runs this same image. Settings come from the factory NVS namespace (written per
 * device by `tbsdk factory`), falling back to mc/config (the manifest's config and `mcconfig … key=value`).
 * Then: wait for Wi-Fi and the clock → the SDK's DeviceAgent provisions (first boot) or connects with the
 * credentials it stored in NVS → sample telemetry every tm_interval ms.
 */
import config from "mc/config";
import Debug from "debug";
import Time from "time";
import Timer from "timer";
import { CredentialStore } from "tbsdk/credentials/store";
import { DeviceAgent } from "tbsdk/device/agent";
import { Log } from "tbsdk/log";
import { CREDENTIALS_NAMESPACE, FACTORY_NAMESPACE } from "tbsdk/settings/keys";
import { pemToDer } from "tbsdk/settings/pem";
import { provisionCredentials } from "tbsdk/settings/provision-credentials";
import { describeSettings, objectSource, resolveSettings, SettingsError, type ResolvedSettings } from "tbsdk/settings/resolve";
import { caFromResource, CA_RESOURCE } from "tbsdk/esp32/ca-resource";
import { timerClock } from "tbsdk/esp32/clock";
import { defaultDeviceName, macAddress } from "tbsdk/esp32/identity";
import { traceSink } from "tbsdk/esp32/log-sink";
import { whenNetworkReady } from "tbsdk/esp32/network-ready";
import { PreferenceStore, preferenceSource } from "tbsdk/esp32/preference-store";
import { memoryUsage } from "tbsdk/esp32/memory";
import { deviceRandom } from "tbsdk/esp32/random";
import { sampleTelemetry } from "tbsdk/esp32/sample-telemetry";
import { socketConnector, type TlsSettings } from "tbsdk/esp32/transport";

/** The SDK release this firmware is built from (package.json "version"; test/node/manifest.test.ts keeps them equal). */
export const FIRMWARE_VERSION = "0.6.0";

export default function main(): void {
  const clock = timerClock();
  const log = new Log(traceSink(), clock);
  const boot = log.tag("boot");
  Debug.gc(); // so the boot line shows the live baseline (runtime + loaded modules), not start-up garbage
  const m = memoryUsage();
  boot.info(`tbsdk firmware ${FIRMWARE_VERSION}${m.slotHeapBytes !== undefined ? ` (XS heap in use: slots ${m.slotHeapBytes} B, chunks ${m.chunkHeapBytes} B)` : ""}`);

  let resolved: ResolvedSettings;
  try {
    resolved = resolveSettings([preferenceSource(FACTORY_NAMESPACE), objectSource("mc/config", config as Record<string, unknown>)]);
  } catch (e) {
    // Nothing sensible to do without a server or provision key: say exactly what is missing, once, and stay idle.
    boot.error(e instanceof SettingsError ? `${e.message}; not starting` : `could not read the settings: ${String(e)}`);
    return;
  }
  const s = resolved.settings;
  log.setLevel(s.logLevel);
  for (const secret of [s.provisionKey, s.provisionSecret, s.mqttPassword, s.deviceKey]) log.addSecret(secret);
  boot.info(`settings: ${describeSettings(resolved)}`);

  const mac = macAddress();
  const deviceName = s.deviceName ?? (mac ? defaultDeviceName(mac) : undefined);
  let ca = s.caCert;
  if (s.tls && !ca) {
    ca = caFromResource();
    if (ca) boot.info(`tb_ca: ${ca.length} B DER from the firmware's resource ${CA_RESOURCE}`);
  }
  if (!s.tls) boot.warn("tb_tls=0: credentials will cross the network in clear text");
  else if (!ca) boot.warn(`no tb_ca (NVS, mc/config or resource ${CA_RESOURCE}): the server's certificate is NOT verified`);

  const random = deviceRandom();
  const agent = new DeviceAgent({
    server: { host: s.host, port: s.port },
    connect: (endpoint, credentials) => {
      let tls: TlsSettings | undefined;
      if (s.tls) {
        tls = {};
        if (ca) tls.ca = ca;
        if (s.serverName) tls.serverName = s.serverName;
        if (credentials?.type === "X509_CERTIFICATE") {
          tls.clientCertificate = pemToDer(credentials.certificatePem, "CERTIFICATE");
          tls.clientKey = pemToDer(credentials.privateKeyPem, "PRIVATE KEY");
        }
      }
      return socketConnector({ host: endpoint.host, port: endpoint.port, ...(tls ? { tls } : {}) });
    },
    clock,
    random,
    log,
    store: new CredentialStore(new PreferenceStore(CREDENTIALS_NAMESPACE)),
    provisionDeviceKey: s.provisionKey,
    provisionDeviceSecret: s.provisionSecret,
    ...(deviceName ? { deviceName } : {}),
    credentials: provisionCredentials(s, deviceName, random),
    epochMs: () => Date.now(),
  });

  const tlog = log.tag("app");
  const started = Time.ticks;
  let sequence = 0;
  whenNetworkReady({ clock, log: boot, needClock: s.tls }, () => {
    agent.start();
    Timer.repeat(() => {
      if (s.telemetryGc) Debug.gc();
      const values = sampleTelemetry(Time.ticks - started, ++sequence);
      try {
        agent.sendTelemetry(values);
      } catch (e) {
        tlog.warn(`telemetry not queued: ${String(e)}`);
      }
    }, s.telemetryIntervalMs);
  });
}
