/**
 * What every REST resource module gets: the store, the live sessions, the clock, and the helpers that turn
 * ids and store errors into ThingsBoard's answers.
 */
import type { EmulatorStore } from "./store.js";
import type { DeviceSessions, EmulatorEvent } from "./sessions.js";
import type { ReprovisionMode } from "./provision.js";
import type { Device } from "./model.js";
import { ConflictError, NotFoundError, ValidationError } from "./errors.js";
import { InvalidCredentialsError } from "./credentials.js";
import { badRequest, notFound, textError } from "./http-reply.js";

export interface ApiContext {
  store: EmulatorStore;
  sessions: DeviceSessions;
  reprovision: ReprovisionMode;
  now: () => number;
  /** Reports what the REST layer did (HTTP provisioning) to the event stream; may be a no-op. */
  emit: (event: EmulatorEvent) => void;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Path ids must be UUIDs; ThingsBoard answers 400 (UUID.fromString's IllegalArgumentException) otherwise. */
export function checkUuid(id: string): string {
  if (!UUID.test(id)) throw badRequest(`Invalid UUID string: ${id}`);
  return id.toLowerCase();
}

/** DeviceController.checkDeviceId: a JSON 404 for an unknown device. */
export function requireDevice(ctx: ApiContext, id: string): Device {
  const device = ctx.store.getDevice(checkUuid(id));
  if (!device) throw notFound(`Device with id [${id}] is not found`);
  return device;
}

/** The telemetry and RPC controllers' access check: a plain-text 404 for an unknown device. */
export function requireDevicePlain(ctx: ApiContext, id: string): Device {
  const device = ctx.store.getDevice(checkUuid(id));
  if (!device) throw textError("Device with requested id wasn't found!", 404);
  return device;
}

/**
 * Runs a store mutation, turning the state layer's typed errors into ThingsBoard's: a broken rule is a
 * DataValidationException (400, BAD_REQUEST_PARAMS), a missing referenced entity too (ThingsBoard validates
 * references inside save), a missing target 404.
 */
export function storeCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConflictError || e instanceof ValidationError || e instanceof InvalidCredentialsError) {
      throw badRequest(e.message);
    }
    if (e instanceof NotFoundError) throw notFound(e.message);
    throw e;
  }
}

export type Obj = Record<string, unknown>;

/** The JSON body must be an object; anything else is a 400 like Jackson's mapping error. */
export function objectBody(body: unknown): Obj {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("Invalid request body");
  return body as Obj;
}

/** `{"entityType":…,"id":…}` or a bare id string → the id, or undefined when absent. */
export function idOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as Obj).id === "string") return (v as Obj).id as string;
  return undefined;
}
