import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { RequestHandler } from 'express';
import { Pool } from 'pg';
import type { Config } from '../config';

declare module 'express-session' {
  interface SessionData {
    userId?: number;
    // csrfToken is declared by csrf-sync.
  }
}

export const SESSION_COOKIE = 'herald.sid';

export interface SessionSetup {
  middleware: RequestHandler;
  store: session.Store;
  /** The pool behind the store; closed on shutdown. */
  pool: Pool;
}

/** At most one expiry write per session per this interval (or a tenth of the idle timeout, if that is shorter). */
export const TOUCH_INTERVAL_MS = 60_000;
/** Stored expiries remembered between a request's `get` and its `touch`; past this the memo starts afresh. */
const MEMO_MAX = 10_000;

type SessionCallback = (err: unknown, sess?: session.SessionData | null) => void;
type PgStoreClass = ReturnType<typeof connectPgSimple>;
type PgStoreInstance = InstanceType<PgStoreClass> & {
  query(sql: string, params: unknown[], fn: (err: unknown, row?: Record<string, unknown>) => void): void;
  quotedTable(): string;
};

/**
 * connect-pg-simple with throttled touches. express-session's `rolling` option calls `store.touch` after every
 * request that did not change the session, and connect-pg-simple answers each one with an UPDATE of the session
 * row: a write (and a WAL flush at commit) per GET. Here `get` also reads the stored `expire`, and `touch` skips
 * the UPDATE while that stored expiry is less than `interval` older than the new one.
 *
 * Idle-timeout semantics: the browser's cookie still rolls on every response (express-session sets it), and the
 * server-side expiry is rewritten at least once per `interval` of activity, so a session expires between
 * `idle - interval` and `idle` after its last request (with the defaults: between 119 and 120 minutes of
 * inactivity), never later than the idle timeout. Anything that changes the session still saves it in full.
 */
export function throttledPgStore(PgStore: PgStoreClass, options: ConstructorParameters<PgStoreClass>[0], idleMs: number) {
  const interval = Math.min(TOUCH_INTERVAL_MS, Math.floor(idleMs / 10));
  const store = new PgStore(options) as PgStoreInstance;
  // sid -> stored expiry (epoch ms) as read by the latest `get`; consumed by that request's `touch`.
  const stored = new Map<string, number>();
  const remember = (sid: string, expire: number) => {
    if (stored.size >= MEMO_MAX) stored.clear(); // upgrades read but never touch: keep the memo bounded
    stored.set(sid, expire);
  };
  const superTouch = store.touch.bind(store);
  const superSet = store.set.bind(store);
  const superDestroy = store.destroy.bind(store);

  // Same query as connect-pg-simple's own `get`, plus how long the stored expiry is away. (Its `get` also arms the
  // store's lazy prune timer; set, destroy and every touch that does write still arm it.) `expire` is a timestamptz
  // (migrations/*-session-expire-timestamptz), so the database's clock measures the distance, not Node's.
  store.get = (sid: string, fn: SessionCallback) => {
    store.query(
      `SELECT sess, extract(epoch FROM expire - now()) * 1000 AS ttl_ms
         FROM ${store.quotedTable()} WHERE sid = $1 AND expire >= to_timestamp($2)`,
      [sid, Math.ceil(Date.now() / 1000)],
      (err, row) => {
        if (err) return fn(err);
        if (!row) return fn(null, null);
        let sess: session.SessionData;
        try {
          sess = (typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess) as session.SessionData;
        } catch {
          return store.destroy(sid, (e) => fn(e));
        }
        remember(sid, Date.now() + Number(row.ttl_ms));
        fn(null, sess);
      },
    );
  };
  store.touch = (sid: string, sess: session.SessionData, fn?: (err?: unknown) => void) => {
    const before = stored.get(sid);
    stored.delete(sid);
    const next = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : NaN;
    if (before !== undefined && Number.isFinite(next) && next - before < interval) {
      fn?.();
      return;
    }
    superTouch(sid, sess, fn);
  };
  store.set = (sid: string, sess: session.SessionData, fn?: (err?: unknown) => void) => {
    stored.delete(sid);
    superSet(sid, sess, fn);
  };
  store.destroy = (sid: string, fn?: (err?: unknown) => void) => {
    stored.delete(sid);
    superDestroy(sid, fn);
  };
  return store;
}

/**
 * Cookie sessions stored in PostgreSQL. The same middleware authenticates pages, the API and WebSocket
 * upgrades, so one login covers all three. `rolling` turns maxAge into an idle timeout; the store writes the
 * new expiry at most once a minute per session (see throttledPgStore).
 */
export function createSession(config: Config, databaseUrl: string): SessionSetup {
  const PgStore = connectPgSimple(session);
  const pool = new Pool({ connectionString: databaseUrl, max: 5, application_name: 'herald-sessions' });
  // A dropped idle connection must not crash the process; the pool reconnects on the next query.
  pool.on('error', () => undefined);
  const store = throttledPgStore(
    PgStore,
    { pool, tableName: 'session', createTableIfMissing: false, pruneSessionInterval: 60 * 15 },
    config.sessionIdleMs,
  );
  const middleware = session({
    name: SESSION_COOKIE,
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.trustProxy,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.isProduction,
      maxAge: config.sessionIdleMs,
      path: '/',
    },
  });
  return { middleware, store, pool };
}
