/**
 * The emulator's HTTP side on Node's http module: ThingsBoard's REST subset (section 5 of
 * ../shared/thingsboard-device-api.md), the HTTP device provisioning endpoint, and the status page.
 *
 * Request flow: parse the URL → token check for protected `/api/**` paths (before routing, as Spring Security
 * runs before MVC, so an unknown path without a token is 401) → route → handler → one place writes the answer.
 * Any failure inside a handler becomes an answer; the server never stops serving because of a bad request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EmulatorStore } from "./store.js";
import type { DeviceSessions, EmulatorEvent, EmulatorEventListener } from "./sessions.js";
import type { ReprovisionMode } from "./provision.js";
import { DEFAULT_TENANT, DEFAULT_TOKEN_LIFETIMES, isPublicApiPath, TenantAuth, type TenantAccount, type TokenLifetimes } from "./http-auth.js";
import { addAuthRoutes } from "./http-auth-routes.js";
import { Router, type RequestContext } from "./http-router.js";
import { HANDLED, ReplyError, tbErrorReply, TbErrorCode, type Reply, badRequest, tbError } from "./http-reply.js";
import type { ApiContext } from "./http-context.js";
import { addProvisionRoutes } from "./http-provision.js";
import { addProfileRoutes } from "./http-profiles.js";
import { addDeviceRoutes } from "./http-devices.js";
import { addTelemetryRoutes } from "./http-telemetry.js";
import { addRpcRoutes, DEFAULT_RPC_TIMEOUTS, type RpcTimeouts } from "./http-rpc.js";
import { addBulkImportRoutes } from "./http-bulk-import.js";
import { addWebRoutes, EventStreams } from "./http-web.js";

/** Subscribes a listener to the emulator's event stream; may return the unsubscribe function, called on close. */
export type SubscribeEvents = (listener: EmulatorEventListener) => (() => void) | void;

export interface HttpApiOptions {
  store: EmulatorStore;
  sessions: DeviceSessions;
  /** Only loopback by default: the emulator holds device credentials. */
  bind?: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  reprovision: ReprovisionMode;
  tenant?: Partial<TenantAccount>;
  tokenLifetimes?: Partial<TokenLifetimes>;
  /** The emulator's events (MQTT connects, telemetry…), forwarded to the page's live stream. */
  events?: SubscribeEvents;
  /** Receives the events the HTTP side itself causes (HTTP provisioning), e.g. for the console log. */
  onEvent?: (event: EmulatorEvent) => void;
  /** Server-side RPC timeouts (ThingsBoard's defaults: 10 s when unset, at least 5 s). */
  rpcTimeouts?: Partial<RpcTimeouts>;
  /** Largest request body accepted (bulk import CSVs included). Default 16 MiB. */
  maxBodyBytes?: number;
  /** Clock for tokens, error timestamps and written attributes. */
  now?: () => number;
}

export interface HttpApi {
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const now = options.now ?? Date.now;
  const streams = new EventStreams();
  const ctx: ApiContext = {
    store: options.store,
    sessions: options.sessions,
    reprovision: options.reprovision,
    now,
    emit: (event) => {
      streams.publish(event);
      options.onEvent?.(event);
    },
  };
  const account: TenantAccount = { ...DEFAULT_TENANT, ...definedOnly(options.tenant) };
  const tenantId = options.store.tenantId.id;
  const auth = new TenantAuth(account, tenantId, { ...DEFAULT_TOKEN_LIFETIMES, ...definedOnly(options.tokenLifetimes) }, now);

  const router = new Router();
  addAuthRoutes(router, auth, { id: auth.userId, email: account.username, tenantId, createdTime: now() });
  addProvisionRoutes(router, ctx);
  addProfileRoutes(router, ctx);
  addDeviceRoutes(router, ctx);
  addBulkImportRoutes(router, ctx);
  addTelemetryRoutes(router, ctx);
  addRpcRoutes(router, ctx, { ...DEFAULT_RPC_TIMEOUTS, ...definedOnly(options.rpcTimeouts) });
  addWebRoutes(router, ctx, streams);

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((req, res) => {
    void handle(req, res, { router, auth, now, maxBodyBytes });
  });
  await listen(server, options.port, options.bind ?? "127.0.0.1");
  const port = (server.address() as AddressInfo).port;
  const unsubscribe = options.events?.((event) => streams.publish(event)); // only once listening: nothing to leak
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        if (typeof unsubscribe === "function") unsubscribe();
        streams.closeAll();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
      })),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

interface Deps {
  router: Router;
  auth: TenantAuth;
  now: () => number;
  maxBodyBytes: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: Deps): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://emulator.invalid");
  } catch {
    return send(res, tbErrorReply(400, "Invalid request URL", TbErrorCode.BAD_REQUEST_PARAMS, deps.now()));
  }
  const path = url.pathname;
  try {
    if (path.startsWith("/api/") && !isPublicApiPath(path)) deps.auth.authorize(req.headers["x-authorization"]);
    const match = deps.router.match(method, path);
    if (match.kind === "not-found") throw tbError(`No endpoint ${method} ${path}`, TbErrorCode.ITEM_NOT_FOUND);
    if (match.kind === "method-not-allowed") {
      const reply = tbErrorReply(405, `Request method '${method}' is not supported`, TbErrorCode.GENERAL, deps.now());
      return send(res, { ...reply, headers: { Allow: match.allowed.join(", ") } });
    }
    const ctx = requestContext(req, res, method, path, url.searchParams, match.params, deps.maxBodyBytes);
    const result = await match.handler(ctx);
    if (result !== HANDLED) send(res, result);
  } catch (e) {
    if (e instanceof ReplyError) return send(res, e.reply(deps.now()));
    // An emulator bug: answer like ThingsBoard's GENERAL error, without echoing internals to the client.
    send(res, tbErrorReply(500, "Internal server error", TbErrorCode.GENERAL, deps.now()));
  }
}

function requestContext(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  query: URLSearchParams,
  params: Record<string, string>,
  maxBodyBytes: number,
): RequestContext {
  let body: Promise<Buffer> | undefined;
  const rawBody = () => (body ??= readBody(req, maxBodyBytes));
  return {
    req,
    res,
    method,
    path,
    params,
    query,
    rawBody,
    jsonBody: async () => {
      const raw = await rawBody();
      // Spring's HttpMessageNotReadableException, mapped by ThingsBoard to 400 BAD_REQUEST_PARAMS.
      if (raw.length === 0) throw badRequest("Required request body is missing");
      try {
        return JSON.parse(raw.toString("utf8")) as unknown;
      } catch {
        throw badRequest("Invalid request body: malformed JSON");
      }
    },
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(
          new ReplyError(
            (now) => tbErrorReply(413, `Request body is larger than ${limit} bytes`, TbErrorCode.BAD_REQUEST_PARAMS, now),
            "body too large",
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
  if (reply.contentType !== undefined) headers["Content-Type"] = reply.contentType;
  const body = reply.body === undefined ? undefined : Buffer.from(reply.body, "utf8");
  headers["Content-Length"] = body?.length ?? 0;
  // After a refused oversized body the rest of the request is still arriving: do not reuse this connection.
  if (reply.status === 413) headers.Connection = "close";
  res.writeHead(reply.status, headers);
  res.end(body);
}
