import { WebSocket } from 'ws';
import { CloseCode } from '../../realtime';
import { createTestContext, type TestContext } from '../support/harness';
import { Client, login, sleep, startServer, wsUrl } from '../realtime/support';

/**
 * The session table is written by connect-pg-simple's pool (in the database's TimeZone) and re-checked for open
 * sockets on Sequelize connections pinned to UTC. Both must agree on what "expired" means, whatever the zone.
 */
const ZONES = ['America/New_York', 'Asia/Tokyo'] as const;
const CHECK_MS = 250;

async function world(zone: string, env: NodeJS.ProcessEnv = {}) {
  const ctx = await createTestContext({ dbTimeZone: zone, env });
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

type World = Awaited<ReturnType<typeof world>>;
const open = (w: World) => w.sockets.map((s) => s.ws.readyState === WebSocket.OPEN);

describe('10.1 socket sessions and the database time zone', () => {
  const worlds: World[] = [];
  afterAll(async () => {
    await Promise.all(worlds.map((w) => w.close()));
  });

  test.each(ZONES)('%s: a fresh login keeps both sockets open over many re-checks, HTTP answers 200', async (zone) => {
    const w = await world(zone);
    worlds.push(w);
    await sleep(CHECK_MS * 8);
    expect(open(w)).toEqual([true, true]);
    expect(await w.unread()).toBe(200);
  });

  test.each(ZONES)('%s: a session the store expires closes both sockets with 4401 at the next re-check', async (zone) => {
    const w = await world(zone);
    worlds.push(w);
    // Expire it through the store itself: its own pool, the database's zone, as an idle timeout would.
    const sid = /^s:([^.]+)\./.exec(decodeURIComponent(/herald\.sid=([^;]+)/.exec(w.who.cookie)![1]))![1];
    const store = w.ctx.session.store;
    const sess = await new Promise<Record<string, unknown>>((resolve, reject) =>
      store.get(sid, (err, s) => (err || !s ? reject(err ?? new Error('no session')) : resolve(s as never))),
    );
    const expires = new Date(Date.now() + 1_000);
    await new Promise<void>((resolve, reject) =>
      store.set(sid, { ...sess, cookie: { ...(sess.cookie as object), expires } } as never, (err) => (err ? reject(err) : resolve())),
    );
    const closed = await Promise.all(w.sockets.map((s) => Promise.race([s.closed, sleep(5_000).then(() => null)])));
    expect(closed.map((c) => c?.code)).toEqual([CloseCode.Unauthorized, CloseCode.Unauthorized]);
    expect(await w.unread()).toBe(401);
  });

  // SESSION_IDLE_MINUTES=1 for real: the sockets stay open well past the 30 s that once closed them west of UTC,
  // and close soon after the idle minute east of it, although they ping all along: a socket alone keeps nothing alive.
  test('an idle minute: sockets stay open for it and close after it, in both zones; an open socket does not extend it', async () => {
    // One after the other: the models are bound to the latest context's database while it sets up.
    const ws: World[] = [];
    for (const zone of ZONES) ws.push(await world(zone, { SESSION_IDLE_MINUTES: '1' }));
    worlds.push(...ws);
    const start = Date.now();
    await sleep(45_000);
    for (const w of ws) expect(open(w)).toEqual([true, true]);
    const closed = await Promise.all(
      ws.flatMap((w) => w.sockets.map((s) => Promise.race([s.closed, sleep(75_000 - (Date.now() - start)).then(() => null)]))),
    );
    expect(closed.map((c) => c?.code)).toEqual(ws.flatMap(() => [CloseCode.Unauthorized, CloseCode.Unauthorized]));
    expect(Date.now() - start).toBeLessThan(65_000);
    for (const w of ws) expect(await w.unread()).toBe(401);
  }, 90_000);
});
