/**
 * A headless stand-in for xsbug: Moddable's lin simulator (mcsim) running a debug build connects to
 * XSBUG_HOST:XSBUG_PORT and sends its trace() output there, not to stdout. This server accepts the machine,
 * tells it to run (<go/>) at login and after every break, and hands each complete line of output to `onLine`.
 */
import * as net from "node:net";
import { XsbugFrameParser, type XsbugEvent } from "./frames.js";

/** How long close() waits for a connected machine's remaining output. */
const CLOSE_DRAIN_MS = 1000;

export interface XsbugLogServer {
  readonly port: number;
  /** Machines that connected so far. */
  readonly logins: { name: string; value: string }[];
  /** Reads what connected machines still send (up to 1 s, e.g. after a power cut), then closes. */
  close(): Promise<void>;
}

export interface XsbugLogServerOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
  onLine: (line: string) => void;
  onEvent?: (event: XsbugEvent) => void;
}

export function startXsbugLogServer(o: XsbugLogServerOptions): Promise<XsbugLogServer> {
  const logins: { name: string; value: string }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const parser = new XsbugFrameParser();
    const decoder = new TextDecoder();
    let line = "";
    socket.on("data", (data) => {
      for (const e of parser.push(decoder.decode(data, { stream: true }))) {
        o.onEvent?.(e);
        if (e.kind === "login") {
          logins.push({ name: e.name, value: e.value });
          // xsbug's own order: go, then the (empty) breakpoint list.
          socket.write("\r\n<go/>\r\n\r\n<set-all-breakpoints></set-all-breakpoints>\r\n");
        } else if (e.kind === "break") {
          o.onLine(`xsbug: break at ${e.path}:${e.line}: ${e.message}`);
          socket.write("\r\n<go/>\r\n");
        } else if (e.kind === "text") {
          line += e.text;
          let nl: number;
          while ((nl = line.indexOf("\n")) >= 0) {
            const complete = line.slice(0, nl).replace(/\r$/, "");
            line = line.slice(nl + 1);
            if (complete !== "") o.onLine(complete);
          }
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        logins,
        close: async () => {
          // A machine that just died (power cut) leaves its last lines in the socket: read them until its FIN,
          // within a limit, before letting go.
          await Promise.all([...sockets].map((s) => new Promise<void>((done) => {
            const limit = setTimeout(() => s.destroy(), CLOSE_DRAIN_MS);
            s.once("close", () => {
              clearTimeout(limit);
              done();
            });
          })));
          await new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
