import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Config } from '../config';
import { tokenSessionId } from '../channels/dispatcher';
import { tokenCaller } from '../http/bearer';
import { originAllowed } from '../http/security';
import type { Logger } from '../logger';
import type { AuthService } from '../services/auth';
import type { TokenService } from '../services/tokens';
import { CloseCode } from './codes';
import { Connection, type Identity, type Socket } from './hub';
import { PROTOCOL_PATHS } from './protocols';

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
  /** Sockets one session (one user) may hold open in this process; one more is closed with 1008. */
  maxSocketsPerSession: number;
  maxSocketsPerUser: number;
}

export const DEFAULT_LIMITS: WsLimits = {
  maxPayload: 64 * 1024,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  rateBurst: 30,
  ratePerSecond: 10,
  // Tabs and devices of real people stay far below these; a reload loop or a script does not.
  maxSocketsPerSession: 20,
  maxSocketsPerUser: 100,
};

/** What a newly authenticated connection is handed to. Implemented by the Realtime facade. */
export interface ConnectionSink {
  /** Registers the connection and sends its snapshot. `since` is the validated ?since= value (replaying protocols). */
  connected(c: Connection, since: number | undefined): void;
  message(c: Connection, text: string): void;
  disconnected(c: Connection): void;
  closedByServer(code: number): void;
}


/**
 * The thin `ws` adapter: on `upgrade` it checks the path, the Origin and the session (with the very same
 * express-session middleware as the pages), or with `tokens` an access token in `Authorization` (clients that are
 * not browsers), then hands a small Socket to the hub. It also owns keep-alive, the
 * incoming rate cap and the send-buffer bound; it knows nothing about notifications.
 */
export function attachWebSockets(
  server: Server,
  deps: { config: Config; session: RequestHandler; auth: AuthService; tokens?: TokenService; sink: ConnectionSink; logger: Logger; limits?: Partial<WsLimits> },
): { close(): Promise<void> } {
  const { config, session, auth, sink, logger } = deps;
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayload, perMessageDeflate: false, clientTracking: true });
  const shared: Shared = { limits, onServerClose: (code) => sink.closedByServer(code) };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until handleUpgrade takes over, a reset from the client would be an unhandled 'error' event.
    socket.on('error', destroyOnError);
    void upgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'websocket upgrade failed');
      refuse(socket, 500, 'Internal Server Error');
    });
  };

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const protocol = Object.hasOwn(PROTOCOL_PATHS, url.pathname) ? PROTOCOL_PATHS[url.pathname] : undefined;
    if (!protocol) return refuse(socket, 404, 'Not Found');

    const identity = await (deps.tokens && req.headers.authorization ? byToken(deps.tokens, req, protocol) : bySession(req, protocol));
    if (identity === 'forbidden') return refuse(socket, 403, 'Forbidden');
    if (identity === 'unavailable') return refuse(socket, 503, 'Service Unavailable');
    const sinceRaw = url.searchParams.get('since');
    // Protocols that do not replay ignore it (see Snapshots).
    const since = sinceRaw !== null && /^\d{1,15}$/.test(sinceRaw) ? Number(sinceRaw) : undefined;
    socket.off('error', destroyOnError); // ws installs its own handling
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, identity, since));
  }

  /**
   * A bearer token (clients that are not browsers) is judged alone: no cookie, so no cross-site hijacking to fear
   * and no Origin to ask for. Its sockets are held under the token's own session id, so revoking it closes them.
   * A token that is not valid, or lacks `notifications:read`, gets the same 4401 as a missing session.
   */
  async function byToken(tokens: TokenService, req: IncomingMessage, protocol: Identity['protocol']): Promise<Identity | null> {
    const caller = await tokenCaller(tokens, req);
    if (!caller || !caller.scopes.includes('notifications:read')) return null;
    const { user, tokenId } = caller;
    return { userId: user.id, sessionId: tokenSessionId(tokenId), isAdmin: user.role === 'admin', protocol };
  }

  async function bySession(req: IncomingMessage, protocol: Identity['protocol']): Promise<Identity | null | 'forbidden' | 'unavailable'> {
    // Cross-site WebSocket hijacking: browsers send cookies on cross-site upgrades, so the Origin must be ours.
    // A missing Origin is refused too: every browser sends one, and non-browser clients can set it (or use a token).
    if (!originAllowed(req, config)) return 'forbidden';
    const sessionError = await runSession(session, req);
    if (sessionError) return 'unavailable';
    const s = req as IncomingMessage & { session?: { userId?: number }; sessionID?: string };
    const userId = s.session?.userId;
    const user = typeof userId === 'number' ? await auth.sessionUser(userId) : null;
    // Only these primitives outlive the upgrade: nothing below may close over req, the session or the user
    // model, or every open socket would keep its request (headers, session, Sequelize instance) alive.
    return user && s.sessionID ? { userId: user.id, sessionId: s.sessionID, isAdmin: user.role === 'admin', protocol } : null;
  }

  function accept(ws: WebSocket, raw: Duplex, identity: Identity | null, since: number | undefined) {
    ws.on('error', onSocketError); // e.g. 1009 too big: ws closes it itself
    if (!identity) {
      // Accepted, then closed with 4401: a refused handshake looks like 1006 to browsers and hx-ws would retry forever.
      sink.closedByServer(CloseCode.Unauthorized);
      ws.close(CloseCode.Unauthorized, 'unauthorized');
      return;
    }
    const state = new WsSocket(ws, shared, raw);
    const conn = new Connection(identity, state);
    state.conn = conn;
    states.set(ws, state);
    // Shared handlers (ws calls them with `this` = the socket): no closures per socket.
    ws.on('pong', onPong);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    sink.connected(conn, since);
  }

  function onSocketError(this: WebSocket, err: Error) {
    logger.debug({ err }, 'websocket error');
  }
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean) {
    const st = states.get(this);
    const conn = st?.conn;
    if (!st || !conn) return;
    if (!st.take()) return conn.close(CloseCode.PolicyViolation, 'too many messages');
    if (isBinary) return conn.sendNow('{"type":"error","code":"binary_unsupported","message":"Send JSON text frames."}');
    sink.message(conn, rawToString(data));
  }
  function onClose(this: WebSocket) {
    const conn = states.get(this)?.conn;
    states.delete(this);
    if (!conn) return;
    conn.markClosed();
    sink.disconnected(conn);
  }

  // One timer for all sockets: ping, and drop whoever missed the previous pong (a dead peer never closes itself).
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const st = states.get(ws);
      if (st && !st.alive) {
        ws.terminate();
        continue;
      }
      if (st) st.alive = false;
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

interface Shared {
  limits: WsLimits;
  onServerClose: (code: number) => void;
}

/** Per-socket transport state, keyed by the ws instance: the hub's Socket plus keep-alive and rate bucket. */
const states = new WeakMap<WebSocket, WsSocket>();

function destroyOnError(this: Duplex) {
  this.destroy();
}
function onPong(this: WebSocket) {
  const st = states.get(this);
  if (st) st.alive = true;
}

/**
 * The hub's view of one ws socket, and everything the adapter keeps per socket, in one object (no closures).
 * Only OPEN sockets are written to; a socket that cannot keep up is closed rather than buffered forever.
 */
class WsSocket implements Socket {
  readonly #ws: WebSocket;
  readonly #shared: Shared;
  /** The TCP socket under ws, corked around a batch of frames so they leave in one write. */
  readonly #raw: Duplex | undefined;
  conn: Connection | undefined;
  /** Answered the last ping. */
  alive = true;
  /** Incoming-message token bucket. */
  #tokens: number;
  #at: number;

  constructor(ws: WebSocket, shared: Shared, raw?: Duplex) {
    this.#ws = ws;
    this.#shared = shared;
    this.#raw = raw;
    this.#tokens = shared.limits.rateBurst;
    this.#at = Date.now();
  }

  /** Takes one token for an incoming message; false when the bucket is empty. */
  take(): boolean {
    const { rateBurst, ratePerSecond } = this.#shared.limits;
    const now = Date.now();
    this.#tokens = Math.min(rateBurst, this.#tokens + ((now - this.#at) / 1000) * ratePerSecond);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  send(data: string): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.#shared.limits.maxBufferedBytes) {
      this.#shared.onServerClose(CloseCode.TryAgainLater);
      closeWs(ws, CloseCode.TryAgainLater, 'slow consumer');
      return;
    }
    ws.send(data);
  }

  /** Frames sent until `uncork` leave in one write (one syscall) instead of one each. */
  cork(): void {
    this.#raw?.cork();
  }
  uncork(): void {
    this.#raw?.uncork();
  }

  close(code: number, reason: string): void {
    this.#shared.onServerClose(code);
    closeWs(this.#ws, code, reason);
  }
}

/** The adapter's Socket for one ws instance. Exported for tests. */
export function wsSocket(ws: WebSocket, limits: WsLimits, onServerClose: (code: number) => void): Socket {
  return new WsSocket(ws, { limits, onServerClose });
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
