import { WebSocket } from 'ws';
import { CloseCode } from '../../realtime';
import { createTestContext } from '../support/harness';
import { Client, login, sleep, startServer, wsUrl } from '../support/realtime';

/**
 * The session table is written by connect-pg-simple's pool (in the database's TimeZone) and re-checked for open
 * sockets on Sequelize connections pinned to UTC. Both must agree on what "expired" means, whatever the zone.
 */
export const ZONES = ['America/New_York', 'Asia/Tokyo'] as const;
export const CHECK_MS = 250;

/** A logged-in user with both socket protocols open, on a database whose TimeZone is `zone` (or on `pg`). */
export async function world(zone: string | undefined, opts: { env?: NodeJS.ProcessEnv; pg?: { url: string; template: string } } = {}) {
  const ctx = await createTestContext({ dbTimeZone: zone, env: opts.env, pg: opts.pg });
  const srv = await startServer(ctx, { sessionCheckMs: CHECK_MS, limits: { pingIntervalMs: 1_000 } });
  const user = await ctx.createUser('candidate');
  const who = await login(srv.url, user);
  const json = new Client(wsUrl(srv.url, '/ws/notifications'), { cookie: who.cookie });
  const bell = new Client(wsUrl(srv.url, '/ws/bell'), { cookie: who.cookie });
  await Promise.all([json.opened, bell.opened]);
  const unread = () => fetch(`${srv.url}/api/notifications/unread_count`, { headers: { cookie: who.cookie } }).then((r) => r.status);
  return {
    ctx,
    srv,
    who,
    sockets: [json, bell],
    unread,
    async close() {
      json.close();
      bell.close();
      await srv.close();
      await ctx.close();
    },
  };
}

export type World = Awaited<ReturnType<typeof world>>;
export const open = (w: World) => w.sockets.map((s) => s.ws.readyState === WebSocket.OPEN);

/** Expires the session through the store itself (its own pool, the database's zone), as an idle timeout would. */
export async function expectClosedWhenStoreExpires(w: World) {
  const sid = /^s:([^.]+)\./.exec(decodeURIComponent(/herald\.sid=([^;]+)/.exec(w.who.cookie)![1]))![1];
  const store = w.ctx.session.store;
  const sess = await new Promise<Record<string, unknown>>((resolve, reject) =>
    store.get(sid, (err, s) => (err || !s ? reject(err ?? new Error('no session')) : resolve(s as never))),
  );
  const expires = new Date(Date.now() + 1_000);
  await new Promise<void>((resolve, reject) =>
    store.set(sid, { ...sess, cookie: { ...(sess.cookie as object), expires } } as never, (err) => (err ? reject(err) : resolve())),
  );
  const closed = await Promise.all(w.sockets.map((s) => within(s.closed, 5_000)));
  expect(closed.map((c) => c?.code)).toEqual([CloseCode.Unauthorized, CloseCode.Unauthorized]);
  expect(await w.unread()).toBe(401);
}

/** `p`, or null after `ms`; the timer does not outlive the answer (a pending one would keep Jest from exiting). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]).finally(() => clearTimeout(timer));
}
