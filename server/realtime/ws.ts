import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Config } from '../config';
import { isAllowedOrigin } from '../http/security';
import type { Logger } from '../logger';
import type { AuthService } from '../services/auth';
import { CloseCode } from './codes';
import { Connection, type Protocol, type Socket } from './hub';

/** Transport limits. Defaults suit production; tests shrink the timers. */
export interface WsLimits {
  /** Largest incoming frame; bigger ones close the socket with 1009. */
  maxPayload: number;
  /** Ping every interval; a peer that did not pong since the last ping is dropped. */
  pingIntervalMs: number;
  /** A socket whose unsent bytes exceed this is closed (1013) instead of buffering without limit. */
  maxBufferedBytes: number;
  /** Incoming messages: a token bucket of `burst` refilled at `perSecond`. Empty means close 1008. */
  rateBurst: number;
  ratePerSecond: number;
}

export const DEFAULT_LIMITS: WsLimits = {
  maxPayload: 64 * 1024,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  rateBurst: 30,
  ratePerSecond: 10,
};

/** What a newly authenticated connection is handed to. Implemented by the Realtime facade. */
export interface ConnectionSink {
  /** Registers the connection and sends its snapshot. `since` is the validated ?since= value (JSON only). */
  connected(c: Connection, since: number | undefined): void;
  message(c: Connection, text: string): void;
  disconnected(c: Connection): void;
  closedByServer(code: number): void;
}

const PATHS: Record<string, Protocol> = { '/ws/notifications': 'json', '/ws/bell': 'bell' };

/**
 * The thin `ws` adapter: on `upgrade` it checks the path, the Origin and the session (with the very same
 * express-session middleware as the pages), then hands a small Socket to the hub. It also owns keep-alive, the
 * incoming rate cap and the send-buffer bound; it knows nothing about notifications.
 */
export function attachWebSockets(
  server: Server,
  deps: { config: Config; session: RequestHandler; auth: AuthService; sink: ConnectionSink; logger: Logger; limits?: Partial<WsLimits> },
): { close(): Promise<void> } {
  const { config, session, auth, sink, logger } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayload, perMessageDeflate: false, clientTracking: true });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until handleUpgrade takes over, a reset from the client would be an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    void upgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'websocket upgrade failed');
      refuse(socket, 500, 'Internal Server Error');
    });
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const protocol = PATHS[url.pathname];
    if (!protocol) return refuse(socket, 404, 'Not Found');

    // Cross-site WebSocket hijacking: browsers send cookies on cross-site upgrades, so the Origin must be ours.
    // A missing Origin is refused too: every browser sends one, and non-browser clients can set it.
    const origin = req.headers.origin;
    if (!origin || !isAllowedOrigin(origin, ownOrigin(req, config), allowedOrigins(config))) {
      return refuse(socket, 403, 'Forbidden');
    }

    const sessionError = await runSession(session, req);
    if (sessionError) return refuse(socket, 503, 'Service Unavailable');
    const s = (req as IncomingMessage & { session?: { userId?: number }; sessionID?: string });
    const userId = s.session?.userId;
    const user = typeof userId === 'number' ? await auth.sessionUser(userId) : null;

    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err) => logger.debug({ err }, 'websocket error')); // e.g. 1009 too big: ws closes it itself
      if (!user || !s.sessionID) {
        // Accepted, then closed with 4401: a refused handshake looks like 1006 to browsers and hx-ws would retry forever.
        sink.closedByServer(CloseCode.Unauthorized);
        ws.close(CloseCode.Unauthorized, 'unauthorized');
        return;
      }
      const sinceRaw = url.searchParams.get('since');
      const since = protocol === 'json' && sinceRaw !== null && /^\d{1,15}$/.test(sinceRaw) ? Number(sinceRaw) : undefined;
      const conn = new Connection(
        { userId: user.id, sessionId: s.sessionID, isAdmin: user.role === 'admin', protocol },
        wsSocket(ws, limits, (code) => sink.closedByServer(code)),
      );
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      const bucket = { tokens: limits.rateBurst, at: Date.now() };
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const now = Date.now();
        bucket.tokens = Math.min(limits.rateBurst, bucket.tokens + ((now - bucket.at) / 1000) * limits.ratePerSecond);
        bucket.at = now;
        if (bucket.tokens < 1) return conn.close(CloseCode.PolicyViolation, 'too many messages');
        bucket.tokens -= 1;
        if (isBinary) return conn.sendNow('{"type":"error","code":"binary_unsupported","message":"Send JSON text frames."}');
        sink.message(conn, rawToString(data));
      });
      ws.on('close', () => {
        conn.markClosed();
        sink.disconnected(conn);
      });
      sink.connected(conn, since);
    });
  }

  // One timer for all sockets: ping, and drop whoever missed the previous pong (a dead peer never closes itself).
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, limits.pingIntervalMs);
  heartbeat.unref();

  server.on('upgrade', onUpgrade);
  return {
    /** Stops accepting; gives sockets already told to close a moment to flush their close frame, then cuts the rest. */
    async close() {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      const deadline = Date.now() + 1_000;
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

/** Only OPEN sockets are written to; a socket that cannot keep up is closed rather than buffered forever. Exported for tests. */
export function wsSocket(ws: WebSocket, limits: WsLimits, onServerClose: (code: number) => void): Socket {
  return {
    send(data) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > limits.maxBufferedBytes) {
        onServerClose(CloseCode.TryAgainLater);
        closeWs(ws, CloseCode.TryAgainLater, 'slow consumer');
        return;
      }
      ws.send(data);
    },
    close(code, reason) {
      onServerClose(code);
      closeWs(ws, code, reason);
    },
  };
}

function closeWs(ws: WebSocket, code: number, reason: string) {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  ws.close(code, reason);
  // The close handshake waits behind buffered data and a peer that may never answer: cut it off in the end.
  setTimeout(() => ws.terminate(), 2_000).unref();
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** The origin the browser used to reach us (proxy headers are trusted only when configured). */
function ownOrigin(req: IncomingMessage, config: Config): string {
  const forwarded = config.trustProxy ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() : '';
  const proto = forwarded || ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  return `${proto}://${req.headers.host ?? ''}`;
}

function allowedOrigins(config: Config): string[] {
  if (!config.publicUrl) return config.allowedOrigins;
  return [...config.allowedOrigins, new URL(config.publicUrl).origin];
}

/** Runs express-session on the upgrade request; resolves with its error, if any. No response is ever written. */
function runSession(session: RequestHandler, req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    // express-session hooks res.writeHead/res.end to save and set the cookie; an upgrade never calls them.
    const res = { getHeader: () => undefined, setHeader: () => undefined, on: () => undefined } as never;
    session(req as never, res, (err?: unknown) => resolve(err));
  });
}

function refuse(socket: Duplex, status: number, text: string) {
  if (!socket.writable) return socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}
