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

/**
 * Cookie sessions stored in PostgreSQL. The same middleware authenticates pages, the API and WebSocket
 * upgrades, so one login covers all three. `rolling` turns maxAge into an idle timeout.
 */
export function createSession(config: Config, databaseUrl: string): SessionSetup {
  const PgStore = connectPgSimple(session);
  const pool = new Pool({ connectionString: databaseUrl, max: 5, application_name: 'herald-sessions' });
  // A dropped idle connection must not crash the process; the pool reconnects on the next query.
  pool.on('error', () => undefined);
  const store = new PgStore({ pool, tableName: 'session', createTableIfMissing: false, pruneSessionInterval: 60 * 15 });
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
