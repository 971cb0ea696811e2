/** Ports and reachability helpers for tests whose servers bind 127.0.0.1. */
import * as net from "node:net";

/**
 * A port that was free a moment ago (the OS picked it for a listener we then closed).
 * For servers we can't hand port 0 to (e.g. Mosquitto); there is a small race with other processes.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true if a TCP connection to host:port succeeds, false if it is refused or times out. */
export function canConnect(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
