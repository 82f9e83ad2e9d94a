import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionGuardOptions {
  /** A connection must have sent its first complete request head within this time, or it is destroyed. */
  headersTimeoutMs: number;
  /** Connections one address may hold open while none of them has sent a complete request head yet. */
  maxPendingPerIp: number;
}

/**
 * Cuts slow-header clients. Node's own headersTimeout is enforced by a periodic sweep, and a connection that has
 * not finished its head is not known to be an upgrade yet, so a trickle of header bytes (slowloris) could hold a
 * socket, and its memory, for minutes. Here every new connection gets a deadline for its first request head (a
 * plain request or an upgrade alike), and one address may hold only so many connections still in that state:
 * nobody is authenticated before their head arrives, so this is the cap on anonymous connections that cost
 * the most for the least. Later requests on a kept-alive connection are covered by the server's headersTimeout
 * and requestTimeout, which `guardConnections` also sets.
 *
 * Behind a proxy every connection comes from the proxy, which sends whole heads at once, so the cap stays far
 * from being reached there.
 */
export function guardConnections(server: Server, opts: ConnectionGuardOptions & { requestTimeoutMs: number }): () => void {
  server.headersTimeout = opts.headersTimeoutMs;
  server.requestTimeout = opts.requestTimeoutMs;
  const pending = new Map<string, number>();
  // Sockets still waiting for their first head, with their deadline and address.
  const waiting = new Map<Socket, { timer: NodeJS.Timeout; ip: string }>();

  const settle = (socket: Socket) => {
    const w = waiting.get(socket);
    if (!w) return;
    clearTimeout(w.timer);
    waiting.delete(socket);
    const n = (pending.get(w.ip) ?? 1) - 1;
    if (n > 0) pending.set(w.ip, n);
    else pending.delete(w.ip);
  };

  const onConnection = (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const n = pending.get(ip) ?? 0;
    if (n >= opts.maxPendingPerIp) {
      socket.destroy();
      return;
    }
    pending.set(ip, n + 1);
    const timer = setTimeout(() => {
      settle(socket);
      socket.destroy();
    }, opts.headersTimeoutMs);
    timer.unref();
    waiting.set(socket, { timer, ip });
    socket.once('close', () => settle(socket));
  };
  // Both fire once the head is complete, before any handler runs.
  const onHead = (req: { socket: Socket }) => settle(req.socket);

  server.prependListener('connection', onConnection);
  server.prependListener('request', onHead);
  server.prependListener('upgrade', onHead);
  return () => {
    server.off('connection', onConnection);
    server.off('request', onHead);
    server.off('upgrade', onHead);
    for (const w of waiting.values()) clearTimeout(w.timer);
    waiting.clear();
    pending.clear();
  };
}
