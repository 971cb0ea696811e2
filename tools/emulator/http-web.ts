/**
 * What a person sees: the status page at `/`, the JSON snapshot it polls, and a Server-Sent Events stream fed by
 * the emulator's events. Nothing here ever includes credentials (no tokens, passwords, certificates or
 * provision secrets); events are reduced to their type and device name.
 */
import type { ServerResponse } from "node:http";
import type { EmulatorEvent } from "./sessions.js";
import { PROVISION_STATE_KEY } from "./model.js";
import { HANDLED, jsonReply, type Reply } from "./http-reply.js";
import type { ApiContext } from "./http-context.js";
import type { Router } from "./http-router.js";
import { PAGE_HTML, PAGE_SCRIPT } from "./http-page.js";

export interface DeviceStatus {
  id: string;
  name: string;
  profile: string;
  provisionState: string | null;
  online: boolean;
  telemetry: Record<string, { ts: number; value: unknown }>;
}

/** Open event streams; the server ends them on close. */
export class EventStreams {
  private readonly clients = new Set<ServerResponse>();

  add(res: ServerResponse): void {
    res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
    });
    res.write(": connected\n\n");
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
    res.on("error", () => this.clients.delete(res)); // a vanished page must never take the server down
  }

  publish(event: EmulatorEvent): void {
    const summary = { type: event.type, deviceName: "deviceName" in event ? event.deviceName : undefined };
    const frame = `data: ${JSON.stringify(summary)}\n\n`;
    for (const res of this.clients) if (!res.writableEnded && !res.destroyed) res.write(frame);
  }

  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

const PAGE_HEADERS = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'";

export function addWebRoutes(router: Router, ctx: ApiContext, streams: EventStreams): void {
  router.get("/", () => staticReply(PAGE_HTML, "text/html; charset=utf-8"));
  router.get("/emulator-page.js", () => staticReply(PAGE_SCRIPT, "text/javascript; charset=utf-8"));
  router.get("/api/noauth/emulator/devices", () => jsonReply({ devices: deviceStatuses(ctx) }));
  router.get("/api/noauth/emulator/events", (r) => {
    streams.add(r.res);
    return HANDLED;
  });
}

function staticReply(body: string, contentType: string): Reply {
  return { status: 200, body, contentType, headers: { "Content-Security-Policy": PAGE_HEADERS, "Cache-Control": "no-store" } };
}

export function deviceStatuses(ctx: ApiContext): DeviceStatus[] {
  return ctx.store
    .listDevices()
    .sort((a, b) => a.createdTime - b.createdTime || a.name.localeCompare(b.name))
    .map((d) => {
      const state = ctx.store.getAttribute(d.id.id, "SERVER_SCOPE", PROVISION_STATE_KEY);
      return {
        id: d.id.id,
        name: d.name,
        profile: d.type,
        provisionState: state === undefined ? null : String(state.value),
        online: ctx.sessions.isConnected(d.id.id),
        telemetry: ctx.store.latestTimeseries(d.id.id),
      };
    });
}
