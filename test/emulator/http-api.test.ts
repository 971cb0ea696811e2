/**
 * The emulator's REST API as a ThingsBoard tool sees it, over real HTTP with Node's fetch only: login and token
 * errors, ThingsBoard's error bodies, device profiles, devices, credentials, paging and bulk import, plus the
 * server's behaviour after bad requests.
 */
import { EmulatorStore } from "../../tools/emulator/store.js";
import { startHttpApi, type HttpApi, type HttpApiOptions } from "../../tools/emulator/http-server.js";
import type { DeviceSessions, RpcRequest } from "../../tools/emulator/sessions.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Records what the REST layer asks of the MQTT layer; no device is ever connected. */
class FakeSessions implements DeviceSessions {
  readonly pushes: { deviceId: string; update: Record<string, unknown> }[] = [];
  isConnected(): boolean {
    return false;
  }
  pushSharedAttributes(deviceId: string, update: Record<string, unknown>): void {
    this.pushes.push({ deviceId, update });
  }
  sendRpc(_deviceId: string, _request: RpcRequest): Promise<unknown> {
    return Promise.reject(new Error("not used here"));
  }
}

interface Answer {
  status: number;
  text: string;
  contentType: string | null;
  /** Parsed body; `any` keeps shape assertions short. */
  json(): any;
}

let api: HttpApi;
let base: string;
let store: EmulatorStore;
let sessions: FakeSessions;
let clock: number;
let token: string;

async function start(extra: Partial<HttpApiOptions> = {}): Promise<void> {
  clock = 1_760_000_000_000;
  store = new EmulatorStore({ now: () => clock });
  sessions = new FakeSessions();
  api = await startHttpApi({ store, sessions, port: 0, reprovision: "strict", now: () => clock, ...extra });
  base = `http://127.0.0.1:${api.port}`;
}

async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  const auth = options.token === undefined ? token : options.token;
  if (auth !== null) headers["X-Authorization"] = `Bearer ${auth}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, text, contentType: res.headers.get("content-type"), json: () => JSON.parse(text) };
}

async function login(): Promise<string> {
  const r = await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "tenant" } });
  expect(r.status).toBe(200);
  return r.json().token;
}

/** ThingsBoard's JSON error body, with the timestamp from the server's clock. */
function tbError(status: number, message: string, errorCode: number) {
  return { status, message, errorCode, timestamp: clock };
}

const allowProfileBody = (name: string, key: string, secret: string) => ({
  name,
  type: "DEFAULT",
  transportType: "DEFAULT",
  provisionType: "ALLOW_CREATE_NEW_DEVICES",
  provisionDeviceKey: key,
  profileData: {
    configuration: { type: "DEFAULT" },
    transportConfiguration: { type: "DEFAULT" },
    provisionConfiguration: { type: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceSecret: secret },
  },
});

beforeEach(async () => {
  await start();
  token = await login();
});
afterEach(async () => {
  await api.close();
});

describe("authentication", () => {
  it("login returns a token pair usable as X-Authorization: Bearer", async () => {
    const r = await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "tenant" } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json())).toEqual(["token", "refreshToken"]);
    const profiles = await call("GET", "/api/deviceProfiles?pageSize=10&page=0", { token: r.json().token });
    expect(profiles.status).toBe(200);
  });

  it("a wrong password is 401 'Invalid username or password', errorCode 10", async () => {
    const r = await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "nope" } });
    expect(r.status).toBe(401);
    expect(r.contentType).toMatch(/^application\/json/);
    expect(r.text).toBe(JSON.stringify(tbError(401, "Invalid username or password", 10)));
  });

  it("a login body without password, or unreadable, is 'Authentication failed'", async () => {
    const missing = await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org" } });
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual(tbError(401, "Authentication failed", 10));
    const garbage = await call("POST", "/api/auth/login", { token: null, rawBody: "{not json" });
    expect(garbage.json()).toEqual(tbError(401, "Authentication failed", 10));
  });

  it("the account is configurable", async () => {
    await api.close();
    await start({ tenant: { username: "ops@example.com", password: "s3cret" } });
    const ok = await call("POST", "/api/auth/login", { token: null, body: { username: "ops@example.com", password: "s3cret" } });
    expect(ok.status).toBe(200);
    const old = await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "tenant" } });
    expect(old.status).toBe(401);
  });

  it("a protected route without token, with a forged one, or without 'Bearer ' is 401 errorCode 10", async () => {
    const expected = JSON.stringify(tbError(401, "Authentication failed", 10));
    expect((await call("GET", "/api/tenant/devices?pageSize=10&page=0", { token: null })).text).toBe(expected);
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const r = await call("GET", "/api/tenant/devices?pageSize=10&page=0", { token: forged });
    expect(r.status).toBe(401);
    expect(r.text).toBe(expected);
    const noPrefix = await call("GET", "/api/tenant/devices?pageSize=10&page=0", { token: null, headers: { "X-Authorization": token } });
    expect(noPrefix.text).toBe(expected);
  });

  it("an expired token is 401 'Token has expired', errorCode 11; refresh gives a working pair", async () => {
    await api.close();
    await start({ tokenLifetimes: { accessTokenMs: 60_000 } });
    const pair = (await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "tenant" } })).json();
    clock += 61_000;
    const r = await call("GET", "/api/deviceProfiles?pageSize=10&page=0", { token: pair.token });
    expect(r.status).toBe(401);
    expect(r.text).toBe(JSON.stringify(tbError(401, "Token has expired", 11)));
    const refreshed = await call("POST", "/api/auth/token", { token: null, body: { refreshToken: pair.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect((await call("GET", "/api/deviceProfiles?pageSize=10&page=0", { token: refreshed.json().token })).status).toBe(200);
  });

  it("a refresh token is not an access token", async () => {
    const pair = (await call("POST", "/api/auth/login", { token: null, body: { username: "tenant@thingsboard.org", password: "tenant" } })).json();
    const r = await call("GET", "/api/deviceProfiles?pageSize=10&page=0", { token: pair.refreshToken });
    expect(r.status).toBe(401);
  });

  it("device API and noauth paths need no token", async () => {
    expect((await call("GET", "/api/noauth/emulator/devices", { token: null })).status).toBe(200);
    const provision = await call("POST", "/api/v1/provision", {
      token: null,
      body: { provisionDeviceKey: "nope", provisionDeviceSecret: "nope" },
    });
    expect(provision.status).toBe(200);
  });
});

describe("errors and robustness", () => {
  it("an unknown route is a JSON 404 (401 first when there is no token, as Spring Security runs before routing)", async () => {
    const r = await call("GET", "/api/no/such/thing");
    expect(r.status).toBe(404);
    expect(r.json()).toEqual(tbError(404, "No endpoint GET /api/no/such/thing", 32));
    expect((await call("GET", "/api/no/such/thing", { token: null })).status).toBe(401);
    expect((await call("GET", "/nothing-here", { token: null })).json().errorCode).toBe(32);
  });

  it("a known path with another method is 405 with Allow", async () => {
    const res = await fetch(`${base}/api/deviceProfile`, { method: "PUT", headers: { "X-Authorization": `Bearer ${token}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    await res.text();
  });

  it("malformed JSON and a missing body are 400 errorCode 31, and the server keeps serving", async () => {
    const bad = await call("POST", "/api/device", { rawBody: '{"name": "x",' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual(tbError(400, "Invalid request body: malformed JSON", 31));
    const empty = await call("POST", "/api/device", { rawBody: "" });
    expect(empty.json()).toEqual(tbError(400, "Required request body is missing", 31));
    const notObject = await call("POST", "/api/device", { body: [1, 2] });
    expect(notObject.status).toBe(400);
    const badUuid = await call("GET", "/api/device/not-a-uuid");
    expect(badUuid.json()).toEqual(tbError(400, "Invalid UUID string: not-a-uuid", 31));
    // Many bad requests in parallel, then a good one.
    await Promise.all(Array.from({ length: 20 }, () => call("POST", "/api/deviceProfile", { rawBody: "\u0000\u0001garbage" })));
    const ok = await call("POST", "/api/device", { body: { name: "still-alive" } });
    expect(ok.status).toBe(200);
  });

  it("a body over the size limit is 413 and the server keeps serving", async () => {
    await api.close();
    await start({ maxBodyBytes: 1024 });
    token = await login();
    const big = await call("POST", "/api/device", { rawBody: JSON.stringify({ name: "x".repeat(5000) }) }).catch(() => undefined);
    if (big) expect(big.status).toBe(413); // the server may also cut the upload short
    expect((await call("POST", "/api/device", { body: { name: "small" } })).status).toBe(200);
  });
});

describe("device profiles", () => {
  it("create returns ThingsBoard's shape: key on top, secret in profileData.provisionConfiguration", async () => {
    const r = await call("POST", "/api/deviceProfile", { body: allowProfileBody("esp32", "k1", "s1") });
    expect(r.status).toBe(200);
    const p = r.json();
    expect(p.id).toEqual({ entityType: "DEVICE_PROFILE", id: expect.stringMatching(UUID) });
    expect(p).toMatchObject({
      name: "esp32",
      type: "DEFAULT",
      transportType: "DEFAULT",
      provisionType: "ALLOW_CREATE_NEW_DEVICES",
      provisionDeviceKey: "k1",
      default: false,
      tenantId: { entityType: "TENANT", id: store.tenantId.id },
      profileData: {
        configuration: { type: "DEFAULT" },
        transportConfiguration: { type: "DEFAULT" },
        provisionConfiguration: { type: "ALLOW_CREATE_NEW_DEVICES", provisionDeviceSecret: "s1" },
      },
    });
    const again = await call("GET", `/api/deviceProfile/${p.id.id}`);
    expect(again.json()).toEqual(p);
  });

  it("a DISABLED profile has null key and secret", async () => {
    const r = await call("POST", "/api/deviceProfile", { body: { name: "plain", provisionType: "DISABLED" } });
    expect(r.json()).toMatchObject({
      provisionType: "DISABLED",
      provisionDeviceKey: null,
      profileData: { provisionConfiguration: { type: "DISABLED", provisionDeviceSecret: null } },
    });
  });

  it("duplicate name or provision key → 400 with ThingsBoard's messages", async () => {
    await call("POST", "/api/deviceProfile", { body: allowProfileBody("esp32", "k1", "s1") });
    const sameName = await call("POST", "/api/deviceProfile", { body: allowProfileBody("esp32", "k2", "s2") });
    expect(sameName.status).toBe(400);
    expect(sameName.json()).toEqual(tbError(400, "Device profile with such name already exists!", 31));
    const sameKey = await call("POST", "/api/deviceProfile", { body: allowProfileBody("other", "k1", "s2") });
    expect(sameKey.json()).toEqual(tbError(400, "Device profile with such provision device key already exists!", 31));
    const noName = await call("POST", "/api/deviceProfile", { body: { provisionType: "DISABLED" } });
    expect(noName.json()).toEqual(tbError(400, "Device profile name should be specified!", 31));
  });

  it("list pages with {data,totalPages,totalElements,hasNext}; an unknown id is 404", async () => {
    for (const n of ["a", "b", "c"]) await call("POST", "/api/deviceProfile", { body: { name: n } });
    const page0 = (await call("GET", "/api/deviceProfiles?pageSize=2&page=0&sortProperty=name&sortOrder=ASC")).json();
    expect(Object.keys(page0)).toEqual(["data", "totalPages", "totalElements", "hasNext"]);
    expect(page0.data.map((p: { name: string }) => p.name)).toEqual(["a", "b"]);
    expect(page0).toMatchObject({ totalPages: 2, totalElements: 4, hasNext: true }); // 3 + "default"
    const page1 = (await call("GET", "/api/deviceProfiles?pageSize=2&page=1&sortProperty=name&sortOrder=ASC")).json();
    expect(page1.data.map((p: { name: string }) => p.name)).toEqual(["c", "default"]);
    expect(page1.hasNext).toBe(false);
    const missing = await call("GET", "/api/deviceProfiles?page=0");
    expect(missing.status).toBe(400);
    const unknown = await call("GET", "/api/deviceProfile/00000000-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(unknown.json().errorCode).toBe(32);
  });
});

describe("devices and credentials", () => {
  it("POST /api/device?accessToken= creates a device with that token; duplicate name → 400", async () => {
    const r = await call("POST", "/api/device?accessToken=MY_TOKEN_1", { body: { name: "dev-1", label: "Kitchen" } });
    expect(r.status).toBe(200);
    const d = r.json();
    expect(d).toMatchObject({
      id: { entityType: "DEVICE", id: expect.stringMatching(UUID) },
      createdTime: clock,
      name: "dev-1",
      type: "default",
      label: "Kitchen",
      deviceProfileId: { entityType: "DEVICE_PROFILE", id: store.getDefaultProfile().id.id },
      additionalInfo: null,
    });
    // The whole Device object, in ThingsBoard's field order; unmodelled fields as ThingsBoard sends them by default.
    expect(r.text).toBe(
      JSON.stringify({
        id: d.id,
        createdTime: clock,
        tenantId: { entityType: "TENANT", id: store.tenantId.id },
        customerId: { entityType: "CUSTOMER", id: "13814000-1dd2-11b2-8080-808080808080" },
        name: "dev-1",
        type: "default",
        label: "Kitchen",
        deviceProfileId: d.deviceProfileId,
        deviceData: { configuration: { type: "DEFAULT" }, transportConfiguration: { type: "DEFAULT" } },
        firmwareId: null,
        softwareId: null,
        externalId: null,
        additionalInfo: null,
      }),
    );
    const creds = (await call("GET", `/api/device/${d.id.id}/credentials`)).json();
    expect(creds).toEqual({
      id: { id: expect.stringMatching(UUID) },
      createdTime: clock,
      deviceId: d.id,
      credentialsType: "ACCESS_TOKEN",
      credentialsId: "MY_TOKEN_1",
      credentialsValue: null,
    });
    const dup = await call("POST", "/api/device", { body: { name: "dev-1" } });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual(tbError(400, "Device with such name already exists!", 31));
  });

  it("without accessToken the server makes a random 20-character token; type names (or creates) the profile", async () => {
    const d = (await call("POST", "/api/device", { body: { name: "dev-2", type: "thermostat" } })).json();
    expect(d.type).toBe("thermostat");
    expect(store.findProfileByName("thermostat")?.id.id).toBe(d.deviceProfileId.id);
    const creds = (await call("GET", `/api/device/${d.id.id}/credentials`)).json();
    expect(creds.credentialsId).toMatch(/^[A-Za-z0-9]{20}$/);
  });

  it("device-with-credentials takes MQTT_BASIC as a JSON string value", async () => {
    const value = JSON.stringify({ clientId: "c1", userName: "u1", password: "p1" });
    const r = await call("POST", "/api/device-with-credentials", {
      body: { device: { name: "basic-1" }, credentials: { credentialsType: "MQTT_BASIC", credentialsValue: value } },
    });
    expect(r.status).toBe(200);
    const creds = (await call("GET", `/api/device/${r.json().id.id}/credentials`)).json();
    expect(creds.credentialsType).toBe("MQTT_BASIC");
    expect(creds.credentialsValue).toBe('{"clientId":"c1","userName":"u1","password":"p1"}');
    expect(creds.credentialsId).toMatch(/^[0-9a-f]{64}$/);
    const invalid = await call("POST", "/api/device-with-credentials", {
      body: { device: { name: "basic-2" }, credentials: { credentialsType: "MQTT_BASIC", credentialsValue: '{"password":"p"}' } },
    });
    expect(invalid.json()).toEqual(tbError(400, "Both mqtt client id and user name are empty!", 31));
    expect((await call("GET", "/api/tenant/devices?deviceName=basic-2")).status).toBe(404);
  });

  it("find by name, 404 when none; get by id; delete", async () => {
    const d = (await call("POST", "/api/device", { body: { name: "findme" } })).json();
    expect((await call("GET", "/api/tenant/devices?deviceName=findme")).json()).toEqual(d);
    const none = await call("GET", "/api/tenant/devices?deviceName=ghost");
    expect(none.status).toBe(404);
    expect(none.json()).toEqual(tbError(404, "Requested item wasn't found!", 32));
    expect((await call("GET", `/api/device/${d.id.id}`)).json()).toEqual(d);
    const del = await call("DELETE", `/api/device/${d.id.id}`);
    expect(del.status).toBe(200);
    expect(del.text).toBe("");
    const gone = await call("GET", `/api/device/${d.id.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json()).toEqual(tbError(404, `Device with id [${d.id.id}] is not found`, 32));
  });

  it("POST /api/device with an existing id updates it (accessToken is for creation only)", async () => {
    const d = (await call("POST", "/api/device?accessToken=FIRST", { body: { name: "old-name", label: "L" } })).json();
    const r = await call("POST", "/api/device?accessToken=SECOND", { body: { ...d, name: "new-name", label: "L2" } });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ...d, name: "new-name", label: "L2" });
    expect(store.findByCredentialsId("FIRST")?.device.name).toBe("new-name");
    expect(store.findByCredentialsId("SECOND")).toBeUndefined();
    await call("POST", "/api/device", { body: { name: "taken" } });
    const clash = await call("POST", "/api/device", { body: { ...d, name: "taken" } });
    expect(clash.json()).toEqual(tbError(400, "Device with such name already exists!", 31));
  });

  it("tenant devices page", async () => {
    for (let i = 0; i < 5; i++) await call("POST", "/api/device", { body: { name: `d${i}` } });
    const r = (await call("GET", "/api/tenant/devices?pageSize=2&page=2")).json();
    expect(r).toMatchObject({ totalPages: 3, totalElements: 5, hasNext: false });
    expect(r.data.map((d: { name: string }) => d.name)).toEqual(["d4"]);
    const search = (await call("GET", "/api/tenant/devices?pageSize=10&page=0&textSearch=D3")).json();
    expect(search.data.map((d: { name: string }) => d.name)).toEqual(["d3"]);
  });

  it("POST /api/device/credentials updates when it carries the existing id, 400 otherwise", async () => {
    const d = (await call("POST", "/api/device?accessToken=OLD", { body: { name: "rotate" } })).json();
    const creds = (await call("GET", `/api/device/${d.id.id}/credentials`)).json();
    const updated = await call("POST", "/api/device/credentials", { body: { ...creds, credentialsId: "NEW" } });
    expect(updated.status).toBe(200);
    expect(updated.json()).toEqual({ ...creds, credentialsId: "NEW" });
    expect(store.findByCredentialsId("NEW")?.device.name).toBe("rotate");
    const noId = await call("POST", "/api/device/credentials", { body: { ...creds, id: undefined, credentialsId: "X" } });
    expect(noId.json()).toEqual(tbError(400, "Unable to update non-existent device credentials!", 31));
    await call("POST", "/api/device?accessToken=TAKEN", { body: { name: "other" } });
    const taken = await call("POST", "/api/device/credentials", { body: { ...creds, credentialsId: "TAKEN" } });
    expect(taken.json()).toEqual(tbError(400, "Specified credentials are already registered!", 31));
  });
});

describe("bulk import", () => {
  const mapping = {
    columns: [
      { type: "NAME" },
      { type: "TYPE" },
      { type: "ACCESS_TOKEN" },
      { type: "SERVER_ATTRIBUTE", key: "mac" },
      { type: "SHARED_ATTRIBUTE", key: "interval" },
      { type: "TIMESERIES", key: "boot" },
    ],
    delimiter: ",",
    header: true,
    update: true,
  };

  it("creates new names, updates existing ones, and lists bad lines as 'Line N: …'", async () => {
    const existing = (await call("POST", "/api/device?accessToken=KEEP", { body: { name: "imp-2" } })).json();
    const file = [
      "name,type,token,mac,interval,boot",
      "imp-1,esp32,TOK1,AA:BB,30,true",
      "imp-2,esp32,,CC:DD,60.5,",
      ",esp32,TOK3,EE,1,",
      "imp-4,esp32,TOK1,FF,1,",
    ].join("\n");
    const r = await call("POST", "/api/device/bulk_import", { body: { file, mapping } });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({
      created: 1,
      updated: 1,
      errors: 2,
      errorsList: [
        "Line 4: DataValidationException: Device name should be specified!",
        "Line 5: DataValidationException: Specified credentials are already registered!",
      ],
    });
    const imp1 = store.findDeviceByName("imp-1")!;
    expect(imp1.type).toBe("esp32");
    expect(store.getCredentialsByDeviceId(imp1.id.id)?.credentialsId).toBe("TOK1");
    expect(store.getAttribute(imp1.id.id, "SERVER_SCOPE", "mac")?.value).toBe("AA:BB");
    expect(store.getAttribute(imp1.id.id, "SHARED_SCOPE", "interval")?.value).toBe(30);
    expect(store.latestTimeseries(imp1.id.id, ["boot"]).boot?.value).toBe(true);
    // The existing device moved to the imported profile, kept its token, got its attributes.
    const imp2 = store.getDevice(existing.id.id)!;
    expect(imp2.type).toBe("esp32");
    expect(store.getCredentialsByDeviceId(imp2.id.id)?.credentialsId).toBe("KEEP");
    expect(store.getAttribute(imp2.id.id, "SHARED_SCOPE", "interval")?.value).toBe(60.5);
    expect(sessions.pushes).toContainEqual({ deviceId: imp2.id.id, update: { interval: 60.5 } });
  });

  it("with update:false an existing device is still counted as updated but its attributes are left alone", async () => {
    const d = (await call("POST", "/api/device", { body: { name: "keep-attrs" } })).json();
    const r = await call("POST", "/api/device/bulk_import", {
      body: { file: "keep-attrs;X1", mapping: { columns: [{ type: "NAME" }, { type: "SERVER_ATTRIBUTE", key: "mac" }], delimiter: ";", header: false, update: false } },
    });
    expect(r.json()).toEqual({ created: 0, updated: 1, errors: 0, errorsList: [] });
    expect(store.getAttribute(d.id.id, "SERVER_SCOPE", "mac")).toBeUndefined();
  });

  it("credentials columns: X509 wins over MQTT over ACCESS_TOKEN; invalid ones are DeviceCredentialsValidationException", async () => {
    const columns = [{ type: "NAME" }, { type: "ACCESS_TOKEN" }, { type: "MQTT_CLIENT_ID" }, { type: "MQTT_PASSWORD" }];
    const file = "both,TOKEN_B,client-b,\nbad,,client-x,secret\n";
    const r = await call("POST", "/api/device/bulk_import", { body: { file, mapping: { columns, header: false, update: true } } });
    expect(r.json()).toEqual({
      created: 1,
      updated: 0,
      errors: 1,
      errorsList: ["Line 2: DeviceCredentialsValidationException: Invalid device credentials: Password cannot be specified along with client id"],
    });
    const both = store.findDeviceByName("both")!;
    expect(store.getCredentialsByDeviceId(both.id.id)?.credentialsType).toBe("MQTT_BASIC");
  });

  it("quoted CSV fields and unknown column types", async () => {
    const r = await call("POST", "/api/device/bulk_import", {
      body: { file: '"a,b","say ""hi"""\n', mapping: { columns: [{ type: "NAME" }, { type: "LABEL" }], header: false } },
    });
    expect(r.json()).toMatchObject({ created: 1, errors: 0 });
    expect(store.findDeviceByName("a,b")?.label).toBe('say "hi"');
    const bad = await call("POST", "/api/device/bulk_import", { body: { file: "x", mapping: { columns: [{ type: "COLOUR" }] } } });
    expect(bad.status).toBe(400);
  });
});
