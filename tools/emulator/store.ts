/**
 * EmulatorStore: all emulator state in memory (one tenant), with the lookups the provisioning logic, the MQTT
 * layer and the REST layer need, and crash-safe persistence to one JSON file.
 *
 * Every mutating method checks all its rules before changing anything, so a thrown error leaves the store as it
 * was (ThingsBoard gets the same from a database transaction). Returned objects are copies: callers cannot
 * change the store by editing them.
 */
import { promises as fs } from "node:fs";
import { randomUUID } from "node:crypto";
import {
  PROVISION_STATE_KEY,
  type AttributeKv,
  type AttributeScope,
  type Device,
  type DeviceAdditionalInfo,
  type DeviceCredentials,
  type DeviceId,
  type DeviceProfile,
  type KvValue,
  type ProvisionType,
  type TenantId,
  type TsPoint,
} from "./model.js";
import { generateAccessToken, type CredentialsSpec } from "./credentials.js";
import { BoundedSeries, type RangeQuery } from "./timeseries.js";
import { ConflictError, NotFoundError, StateFileCorruptError, ValidationError } from "./errors.js";
import { removeStaleTempFiles, writeFileAtomic, type AtomicWriteHooks } from "./atomic-file.js";
import { parseSnapshot, type StateSnapshot } from "./snapshot.js";

export const DEFAULT_MAX_POINTS_PER_KEY = 1000;
/** ThingsBoard creates this profile with every tenant; devices created without a type get it. */
export const DEFAULT_PROFILE_NAME = "default";

export interface StoreOptions {
  /** Points kept per telemetry key and device; older ones are dropped. Default 1000. */
  maxPointsPerKey?: number;
  /** Clock for createdTime and attribute/telemetry timestamps; injectable for tests. */
  now?: () => number;
}

export interface NewDeviceProfile {
  name: string;
  provisionType?: ProvisionType;
  provisionDeviceKey?: string | null;
  provisionDeviceSecret?: string | null;
  default?: boolean;
  description?: string | null;
}

export interface NewDevice {
  name: string;
  /** Defaults to the tenant's default profile. */
  deviceProfileId?: string;
  label?: string | null;
  additionalInfo?: DeviceAdditionalInfo | null;
  /** Defaults to a fresh random 20-character access token. */
  credentials?: CredentialsSpec;
}

export interface DeviceChanges {
  name?: string;
  label?: string | null;
  deviceProfileId?: string;
  additionalInfo?: DeviceAdditionalInfo | null;
}

export interface DeviceWithCredentials {
  device: Device;
  credentials: DeviceCredentials;
}

interface DeviceData {
  attributes: Record<AttributeScope, Map<string, AttributeKv>>;
  timeseries: Map<string, BoundedSeries>;
}

const clone = <T>(v: T): T => structuredClone(v);
/** Values are mostly primitives on the telemetry hot path; only objects need a copy. */
const copyValue = (v: KvValue): KvValue => (typeof v === "object" ? structuredClone(v) : v);

export class EmulatorStore {
  readonly maxPointsPerKey: number;
  private readonly now: () => number;
  private tenant: TenantId = { entityType: "TENANT", id: randomUUID() };

  private readonly profiles = new Map<string, DeviceProfile>();
  private readonly profileIdByName = new Map<string, string>();
  private readonly profileIdByKey = new Map<string, string>();
  private readonly devices = new Map<string, Device>();
  private readonly deviceIdByName = new Map<string, string>();
  private readonly credentialsByDeviceId = new Map<string, DeviceCredentials>();
  private readonly deviceIdByCredentialsId = new Map<string, string>();
  private readonly data = new Map<string, DeviceData>();
  /** Saves run one after another so an older snapshot can never be renamed over a newer one. */
  private saveQueue: Promise<void> = Promise.resolve();

  constructor(options: StoreOptions = {}) {
    this.maxPointsPerKey = checkedMaxPoints(options);
    this.now = options.now ?? Date.now;
    this.createProfile({ name: DEFAULT_PROFILE_NAME, provisionType: "DISABLED", default: true });
  }

  get tenantId(): TenantId {
    return { ...this.tenant };
  }

  // ---- device profiles ----

  createProfile(input: NewDeviceProfile): DeviceProfile {
    const provisionType = input.provisionType ?? "DISABLED";
    const disabled = provisionType === "DISABLED";
    const profile: DeviceProfile = {
      id: { entityType: "DEVICE_PROFILE", id: randomUUID() },
      createdTime: this.now(),
      tenantId: this.tenantId,
      name: input.name,
      description: input.description ?? null,
      default: input.default ?? false,
      provisionType,
      // ThingsBoard stores a DISABLED profile with null key and secret.
      provisionDeviceKey: disabled ? null : (input.provisionDeviceKey ?? null),
      provisionDeviceSecret: disabled ? null : (input.provisionDeviceSecret ?? null),
    };
    this.insertProfile(profile);
    return clone(profile);
  }

  getProfile(id: string): DeviceProfile | undefined {
    const p = this.profiles.get(id);
    return p && clone(p);
  }

  findProfileByName(name: string): DeviceProfile | undefined {
    const id = this.profileIdByName.get(name);
    return id === undefined ? undefined : this.getProfile(id);
  }

  /** Provision keys are unique across all profiles, as in ThingsBoard (across tenants, even). */
  findProfileByProvisionKey(key: string): DeviceProfile | undefined {
    const id = this.profileIdByKey.get(key);
    return id === undefined ? undefined : this.getProfile(id);
  }

  getDefaultProfile(): DeviceProfile {
    for (const p of this.profiles.values()) if (p.default) return clone(p);
    throw new NotFoundError("The tenant has no default device profile");
  }

  listProfiles(): DeviceProfile[] {
    return [...this.profiles.values()].map(clone);
  }

  // ---- devices ----

  createDevice(input: NewDevice): DeviceWithCredentials {
    const profile =
      input.deviceProfileId === undefined ? this.getDefaultProfile() : this.profiles.get(input.deviceProfileId);
    if (!profile) throw new NotFoundError(`Device profile ${input.deviceProfileId} was not found`);
    const now = this.now();
    const device: Device = {
      id: { entityType: "DEVICE", id: randomUUID() },
      createdTime: now,
      tenantId: this.tenantId,
      name: input.name,
      type: profile.name,
      label: input.label ?? null,
      deviceProfileId: clone(profile.id),
      additionalInfo: input.additionalInfo ? clone(input.additionalInfo) : null,
    };
    const spec = input.credentials ?? this.freshAccessToken();
    const credentials: DeviceCredentials = {
      id: { id: randomUUID() },
      createdTime: now,
      deviceId: clone(device.id),
      ...spec,
    };
    this.insertDevice(device, credentials);
    return { device: clone(device), credentials: clone(credentials) };
  }

  getDevice(id: string): Device | undefined {
    const d = this.devices.get(id);
    return d && clone(d);
  }

  findDeviceByName(name: string): Device | undefined {
    const id = this.deviceIdByName.get(name);
    return id === undefined ? undefined : this.getDevice(id);
  }

  listDevices(): Device[] {
    return [...this.devices.values()].map(clone);
  }

  /** Renames, relabels, moves to another profile (type follows) or replaces additionalInfo; ids and times stay. */
  updateDevice(id: string, changes: DeviceChanges): Device {
    const current = this.devices.get(id);
    if (!current) throw new NotFoundError(`Device with id ${id} was not found`);
    const profile = changes.deviceProfileId === undefined ? undefined : this.profiles.get(changes.deviceProfileId);
    if (changes.deviceProfileId !== undefined && !profile) {
      throw new NotFoundError(`Device profile ${changes.deviceProfileId} was not found`);
    }
    const name = changes.name ?? current.name;
    if (name.trim() === "") throw new ValidationError("Device name should be specified!");
    const holder = this.deviceIdByName.get(name);
    if (holder !== undefined && holder !== id) {
      throw new ConflictError("DUPLICATE_DEVICE_NAME", "Device with such name already exists!");
    }
    const updated: Device = {
      ...current,
      name,
      label: changes.label === undefined ? current.label : changes.label,
      additionalInfo: changes.additionalInfo === undefined ? current.additionalInfo : clone(changes.additionalInfo),
      ...(profile ? { deviceProfileId: clone(profile.id), type: profile.name } : {}),
    };
    this.deviceIdByName.delete(current.name);
    this.deviceIdByName.set(name, id);
    this.devices.set(id, updated);
    return clone(updated);
  }

  /** Removes the device with its credentials, attributes and telemetry. False when there was no such device. */
  deleteDevice(id: string): boolean {
    const device = this.devices.get(id);
    if (!device) return false;
    const creds = this.credentialsByDeviceId.get(id);
    if (creds) this.deviceIdByCredentialsId.delete(creds.credentialsId);
    this.credentialsByDeviceId.delete(id);
    this.deviceIdByName.delete(device.name);
    this.devices.delete(id);
    this.data.delete(id);
    return true;
  }

  // ---- credentials ----

  getCredentialsByDeviceId(deviceId: string): DeviceCredentials | undefined {
    const c = this.credentialsByDeviceId.get(deviceId);
    return c && clone(c);
  }

  /** The connect-time lookup: credentials id (token, SHA3 hex or MQTT user name) → device and credentials. */
  findByCredentialsId(credentialsId: string): DeviceWithCredentials | undefined {
    const deviceId = this.deviceIdByCredentialsId.get(credentialsId);
    if (deviceId === undefined) return undefined;
    return { device: clone(this.devices.get(deviceId)!), credentials: clone(this.credentialsByDeviceId.get(deviceId)!) };
  }

  /** Replaces a device's credentials, keeping the credentials record's id. */
  updateCredentials(deviceId: string, spec: CredentialsSpec): DeviceCredentials {
    const current = this.credentialsByDeviceId.get(deviceId);
    if (!current) throw new NotFoundError(`Device ${deviceId} was not found`);
    const owner = this.deviceIdByCredentialsId.get(spec.credentialsId);
    if (owner !== undefined && owner !== deviceId) {
      throw new ConflictError("CREDENTIALS_IN_USE", "Specified credentials are already registered!");
    }
    const updated: DeviceCredentials = { ...current, ...spec };
    this.deviceIdByCredentialsId.delete(current.credentialsId);
    this.deviceIdByCredentialsId.set(updated.credentialsId, deviceId);
    this.credentialsByDeviceId.set(deviceId, updated);
    return clone(updated);
  }

  /** True when no device holds this credentials id; provisioning checks this before creating anything. */
  isCredentialsIdFree(credentialsId: string): boolean {
    return !this.deviceIdByCredentialsId.has(credentialsId);
  }

  // ---- attributes ----

  /** Upserts attributes, all with the same lastUpdateTs (default: now). */
  setAttributes(deviceId: string, scope: AttributeScope, values: Record<string, KvValue>, ts = this.now()): AttributeKv[] {
    const attrs = this.deviceData(deviceId).attributes[scope];
    const written: AttributeKv[] = [];
    for (const [key, value] of Object.entries(values)) {
      attrs.set(key, { lastUpdateTs: ts, key, value: copyValue(value) });
      written.push({ lastUpdateTs: ts, key, value: copyValue(value) });
    }
    return written;
  }

  getAttribute(deviceId: string, scope: AttributeScope, key: string): AttributeKv | undefined {
    const kv = this.deviceData(deviceId).attributes[scope].get(key);
    return kv && clone(kv);
  }

  /** All attributes of the scope, or only the given keys (unknown keys are skipped, as ThingsBoard does). */
  getAttributes(deviceId: string, scope: AttributeScope, keys?: readonly string[]): AttributeKv[] {
    const attrs = this.deviceData(deviceId).attributes[scope];
    const list = keys === undefined ? [...attrs.values()] : keys.flatMap((k) => attrs.get(k) ?? []);
    return list.map(clone);
  }

  /** Returns the keys that existed and were removed. */
  deleteAttributes(deviceId: string, scope: AttributeScope, keys: readonly string[]): string[] {
    const attrs = this.deviceData(deviceId).attributes[scope];
    return keys.filter((k) => attrs.delete(k));
  }

  // ---- timeseries ----

  /** Stores one telemetry record: every key gets a point at `ts`. */
  appendTimeseries(deviceId: string, ts: number, values: Record<string, KvValue>): void {
    const series = this.deviceData(deviceId).timeseries;
    for (const [key, value] of Object.entries(values)) {
      let s = series.get(key);
      if (!s) series.set(key, (s = new BoundedSeries(this.maxPointsPerKey)));
      s.put(ts, copyValue(value));
    }
  }

  /** Latest point per key; all keys when `keys` is omitted, unknown keys skipped. */
  latestTimeseries(deviceId: string, keys?: readonly string[]): Record<string, TsPoint> {
    const series = this.deviceData(deviceId).timeseries;
    const out: Record<string, TsPoint> = {};
    for (const key of keys ?? [...series.keys()]) {
      const p = series.get(key)?.latest();
      if (p) out[key] = p;
    }
    return out;
  }

  queryTimeseries(deviceId: string, key: string, query: RangeQuery): TsPoint[] {
    return this.deviceData(deviceId).timeseries.get(key)?.range(query) ?? [];
  }

  timeseriesKeys(deviceId: string): string[] {
    return [...this.deviceData(deviceId).timeseries.keys()];
  }

  /** Points currently held for a key (for tests and memory accounting). */
  timeseriesSize(deviceId: string, key: string): number {
    return this.deviceData(deviceId).timeseries.get(key)?.size ?? 0;
  }

  // ---- persistence ----

  /** The whole state as plain data; `timeseries: false` leaves telemetry out (cheap copies for dry runs). */
  toSnapshot(options: { timeseries?: boolean } = {}): StateSnapshot {
    const attributes: StateSnapshot["attributes"] = [];
    const timeseries: StateSnapshot["timeseries"] = [];
    for (const [deviceId, d] of this.data) {
      for (const scope of Object.keys(d.attributes) as AttributeScope[]) {
        for (const kv of d.attributes[scope].values()) attributes.push({ deviceId, scope, ...clone(kv) });
      }
      if (options.timeseries === false) continue;
      for (const [key, s] of d.timeseries) timeseries.push({ deviceId, key, points: s.all().map((p) => [p.ts, p.value]) });
    }
    return {
      format: "tb-emulator-state",
      version: 1,
      tenantId: this.tenant.id,
      profiles: this.listProfiles(),
      devices: this.listDevices(),
      credentials: [...this.credentialsByDeviceId.values()].map(clone),
      attributes,
      timeseries,
    };
  }

  static fromSnapshot(snapshot: StateSnapshot, options: StoreOptions = {}): EmulatorStore {
    const store = new EmulatorStore(options);
    store.profiles.clear();
    store.profileIdByName.clear();
    store.profileIdByKey.clear();
    store.tenant = { entityType: "TENANT", id: snapshot.tenantId };
    for (const p of snapshot.profiles) store.insertProfile(clone(p));
    if (![...store.profiles.values()].some((p) => p.default)) throw new ValidationError("no default device profile");
    const credsByDevice = new Map(snapshot.credentials.map((c) => [c.deviceId.id, c]));
    for (const d of snapshot.devices) {
      const c = credsByDevice.get(d.id.id);
      if (!c) throw new ValidationError(`device ${d.id.id} has no credentials`);
      if (!store.profiles.has(d.deviceProfileId.id)) {
        throw new ValidationError(`device ${d.id.id} refers to missing profile ${d.deviceProfileId.id}`);
      }
      store.insertDevice(clone(d), clone(c));
    }
    for (const a of snapshot.attributes) {
      if (!store.devices.has(a.deviceId)) throw new ValidationError(`attribute of missing device ${a.deviceId}`);
      store.setAttributes(a.deviceId, a.scope, { [a.key]: a.value }, a.lastUpdateTs);
    }
    for (const t of snapshot.timeseries) {
      if (!store.devices.has(t.deviceId)) throw new ValidationError(`telemetry of missing device ${t.deviceId}`);
      for (const [ts, value] of t.points) store.appendTimeseries(t.deviceId, ts, { [t.key]: value });
    }
    return store;
  }

  /**
   * Writes the whole state atomically (temp file, fsync, rename, fsync dir): a crash at any moment leaves either
   * the previous file or the new one. The snapshot is taken when save is called.
   */
  save(file: string, hooks?: AtomicWriteHooks): Promise<void> {
    const text = JSON.stringify(this.toSnapshot());
    const run = this.saveQueue.then(() => writeFileAtomic(file, text, hooks));
    this.saveQueue = run.catch(() => undefined); // one failed save must not block the next
    return run;
  }

  /** A missing file gives an empty store; an unusable one throws StateFileCorruptError naming the file. */
  static async load(file: string, options: StoreOptions = {}): Promise<EmulatorStore> {
    checkedMaxPoints(options); // a bad option is the caller's error, not a corrupt file
    await removeStaleTempFiles(file);
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return new EmulatorStore(options);
      throw e;
    }
    try {
      return EmulatorStore.fromSnapshot(parseSnapshot(text), options);
    } catch (e) {
      if (e instanceof ValidationError || e instanceof ConflictError || e instanceof SyntaxError) {
        throw new StateFileCorruptError(file, e.message);
      }
      throw e;
    }
  }

  // ---- internals ----

  private insertProfile(p: DeviceProfile): void {
    if (p.name.trim() === "") throw new ValidationError("Device profile name should be specified!");
    if (this.profileIdByName.has(p.name)) {
      throw new ConflictError("DUPLICATE_PROFILE_NAME", "Device profile with such name already exists!");
    }
    if (p.provisionType !== "DISABLED") {
      if (!p.provisionDeviceKey) throw new ValidationError(`Profile "${p.name}": provision device key should be specified!`);
      if (!p.provisionDeviceSecret) throw new ValidationError(`Profile "${p.name}": provision device secret should be specified!`);
    }
    if (p.provisionDeviceKey !== null && this.profileIdByKey.has(p.provisionDeviceKey)) {
      throw new ConflictError("DUPLICATE_PROVISION_KEY", "Device profile with such provision device key already exists!");
    }
    if (p.default) for (const other of this.profiles.values()) other.default = false;
    this.profiles.set(p.id.id, p);
    this.profileIdByName.set(p.name, p.id.id);
    if (p.provisionDeviceKey !== null) this.profileIdByKey.set(p.provisionDeviceKey, p.id.id);
  }

  private insertDevice(device: Device, credentials: DeviceCredentials): void {
    if (device.name.trim() === "") throw new ValidationError("Device name should be specified!");
    if (this.deviceIdByName.has(device.name)) {
      throw new ConflictError("DUPLICATE_DEVICE_NAME", "Device with such name already exists!");
    }
    if (this.deviceIdByCredentialsId.has(credentials.credentialsId)) {
      throw new ConflictError("CREDENTIALS_IN_USE", "Specified credentials are already registered!");
    }
    this.devices.set(device.id.id, device);
    this.deviceIdByName.set(device.name, device.id.id);
    this.credentialsByDeviceId.set(device.id.id, credentials);
    this.deviceIdByCredentialsId.set(credentials.credentialsId, device.id.id);
  }

  private freshAccessToken(): CredentialsSpec {
    let token: string;
    do token = generateAccessToken();
    while (this.deviceIdByCredentialsId.has(token));
    return { credentialsType: "ACCESS_TOKEN", credentialsId: token, credentialsValue: null };
  }

  private deviceData(deviceId: string): DeviceData {
    let d = this.data.get(deviceId);
    if (!d) {
      if (!this.devices.has(deviceId)) throw new NotFoundError(`Device with id ${deviceId} was not found`);
      d = {
        attributes: { SERVER_SCOPE: new Map(), SHARED_SCOPE: new Map(), CLIENT_SCOPE: new Map() },
        timeseries: new Map(),
      };
      this.data.set(deviceId, d);
    }
    return d;
  }
}

function checkedMaxPoints(options: StoreOptions): number {
  const max = options.maxPointsPerKey ?? DEFAULT_MAX_POINTS_PER_KEY;
  if (!Number.isInteger(max) || max < 1) {
    throw new ValidationError(`maxPointsPerKey must be a positive integer, got ${max}`);
  }
  return max;
}

/** The provisioning state attribute's value as ThingsBoard compares it (getValueAsString), or undefined. */
export function provisionStateOf(store: EmulatorStore, deviceId: DeviceId): string | undefined {
  const kv = store.getAttribute(deviceId.id, "SERVER_SCOPE", PROVISION_STATE_KEY);
  if (kv === undefined) return undefined;
  return typeof kv.value === "string" ? kv.value : typeof kv.value === "object" ? JSON.stringify(kv.value) : String(kv.value);
}
