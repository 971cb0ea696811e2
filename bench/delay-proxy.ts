/**
 * A TCP proxy on 127.0.0.1 that delays each direction by `delayMs`: every chunk (and a half-close) is forwarded
 * `delayMs` after it arrived, in arrival order. One round trip through it therefore costs 2 × delayMs, which makes
 * round trips countable from wall time. Used by bench/roundtrips.ts.
 */
import * as net from "node:net";

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

interface Item {
  at: number;
  chunk: Buffer | null; // null = end (half-close)
}

export async function startDelayProxy(upstream: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();

  /** Forwards `from` to `to`, each item `delayMs` after it arrived, order preserved. */
  const pipeDelayed = (from: net.Socket, to: net.Socket, toOpen: () => boolean) => {
    const items: Item[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      if (timer) {
        timers.delete(timer);
        timer = undefined;
      }
      const now = performance.now();
      while (items.length > 0 && items[0].at <= now && toOpen()) {
        const item = items.shift() as Item;
        if (to.destroyed) return;
        if (item.chunk) to.write(item.chunk);
        else to.end();
      }
      if (items.length > 0 && !to.destroyed) {
        // Not due yet, or the upstream socket is still connecting (then poll shortly).
        const wait = toOpen() ? Math.max(0, items[0].at - now) : 1;
        timer = setTimeout(pump, wait);
        timers.add(timer);
      }
    };
    const add = (chunk: Buffer | null) => {
      items.push({ at: performance.now() + delayMs, chunk });
      if (!timer) pump();
    };
    from.on("data", (chunk: Buffer) => add(chunk));
    from.on("end", () => add(null));
    return () => {
      if (timer) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      items.length = 0;
    };
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.setNoDelay(true);
    const target = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
    target.setNoDelay(true);
    sockets.add(client);
    sockets.add(target);
    let targetOpen = false;
    target.once("connect", () => (targetOpen = true));
    const stopUp = pipeDelayed(client, target, () => targetOpen);
    const stopDown = pipeDelayed(target, client, () => true);
    const finish = () => {
      stopUp();
      stopDown();
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    // A reset or full close on either side ends both after the delay (so data in flight still arrives).
    const closeLater = () => {
      const t = setTimeout(() => {
        timers.delete(t);
        finish();
      }, delayMs + 5);
      timers.add(t);
    };
    client.on("error", () => undefined);
    target.on("error", () => undefined);
    client.on("close", closeLater);
    target.on("close", closeLater);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}
