/** The cross-process buses on their own: fan-in from every publisher, order, and recovery after a dropped connection. */
import { Redis } from 'ioredis';
import { createLogger } from '../../logger';
import { LocalBus, PgBus, RedisBus, type Bus } from '../../realtime';
import type { HeraldEvent } from '../../services/events';
import { createTestContext, type TestContext } from '../support/harness';
import { Client, login, REDIS_URL, redisAvailable, sleep, startServer, wsUrl } from '../support/realtime';

const logger = createLogger('silent');
let ctx: TestContext;
const buses: Bus[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.stop()));
  await ctx.close();
});

function collect(bus: Bus) {
  const got: Array<{ e: HeraldEvent; t: number }> = [];
  let resyncs = 0;
  bus.subscribe((e, t) => got.push({ e, t }));
  bus.onResync(() => (resyncs += 1));
  return { got, resyncs: () => resyncs };
}

async function until(pred: () => boolean, ms = 5_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const ev = (id: number): HeraldEvent => ({ type: 'notification.created', recipientId: 1, id });

async function exercise(make: () => Bus, dropConnections: () => Promise<void>) {
  const [a, b] = [make(), make()];
  buses.push(a, b);
  const [ga, gb] = [collect(a), collect(b)];
  await Promise.all([a.start(), b.start()]);
  expect(a.isHealthy() && b.isHealthy()).toBe(true);
  await b.ping();

  // Every process hears every event, the publisher included, in publish order.
  for (let i = 1; i <= 20; i++) a.publish(ev(i));
  await until(() => ga.got.length === 20 && gb.got.length === 20);
  expect(gb.got.map((g) => (g.e as { id: number }).id)).toEqual([...Array(20).keys()].map((i) => i + 1));
  expect(Math.abs(gb.got[0].t - Date.now())).toBeLessThan(5_000);

  // Cut the connections: both reconnect on their own and announce a resync; delivery resumes.
  await dropConnections();
  await until(() => ga.resyncs() >= 1 && gb.resyncs() >= 1 && a.isHealthy() && b.isHealthy(), 10_000);
  b.publish(ev(99));
  await until(() => ga.got.some((g) => (g.e as { id: number }).id === 99));
}

test('PostgreSQL LISTEN/NOTIFY bus', async () => {
  await exercise(
    () => new PgBus(ctx.dbUrl, logger, { heartbeatMs: 500 }),
    async () => {
      await ctx.sequelize.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name IN ('herald-bus', 'herald-bus-pub') AND datname = current_database()`,
      );
    },
  );
});

test('Redis pub/sub bus', async () => {
  if (!(await redisAvailable())) return;
  const ns = `test-${process.pid}-${Date.now()}`;
  const admin = new Redis(REDIS_URL);
  try {
    await exercise(
      () => new RedisBus(REDIS_URL, logger, ns),
      async () => {
        const list = (await admin.client('LIST')) as string;
        const ids = list
          .split('\n')
          .filter((l) => l.includes(` name=herald-bus-${process.pid} `))
          .map((l) => /id=(\d+)/.exec(l)![1]);
        expect(ids.length).toBeGreaterThanOrEqual(4);
        for (const id of ids) await admin.client('KILL', 'ID', id);
      },
    );
  } finally {
    admin.disconnect();
  }
});

test('after the bus reconnects, connected clients get a fresh snapshot', async () => {
  const bus = new PgBus(ctx.dbUrl, logger, { heartbeatMs: 500 });
  const srv = await startServer(ctx, { bus });
  const u = await ctx.createUser('candidate');
  const c = new Client(wsUrl(srv.url, '/ws/notifications'), { cookie: (await login(srv.url, u)).cookie });
  try {
    expect(await c.type('connection_established')).toEqual({ type: 'connection_established', unread_count: 0 });
    // Written without an event (as if it was published while the bus was down): only the resync can show it.
    await ctx.models.Notification.create({ recipientId: u.id, type: 'message', title: 'while away' });
    await ctx.sequelize.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'herald-bus' AND datname = current_database()`,
    );
    const snap = await c.type('connection_established', { from: 1, timeoutMs: 8_000 });
    expect(snap).toEqual({ type: 'connection_established', unread_count: 1 });
  } finally {
    c.close();
    await srv.close();
  }
});

test('a resync replays what the gap missed even when a live push lands while it runs', async () => {
  const bus = new LocalBus(ctx.events, logger);
  const srv = await startServer(ctx, { bus });
  const u = await ctx.createUser('candidate');
  const notify = (title: string) =>
    ctx.message(u, title);
  const c = new Client(wsUrl(srv.url, '/ws/notifications'), { cookie: (await login(srv.url, u)).cookie });
  const spy = jest.spyOn(ctx.services.notifications, 'since');
  try {
    await c.type('connection_established');
    const before = await notify('before the gap');
    await c.next((f) => f.json?.type === 'notification');
    // Committed while the bus was down: no event, only the resync's replay can deliver it.
    const [[row]] = (await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title) VALUES (${u.id}, 'message', 'during the gap') RETURNING id`,
    )) as [Array<{ id: string }>, unknown];
    const missed = Number(row.id);
    // The bus is back: while the resync's replay query runs, a new notification is committed and pushed live.
    let live = 0;
    spy.mockImplementationOnce(async (...args) => {
      live = await notify('live during the resync');
      await srv.realtime.delivery.idle();
      spy.mockRestore();
      return ctx.services.notifications.since(...args);
    });
    const mark = c.frames.length;
    bus.emit('resync');
    await c.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === live, { from: mark });
    await srv.realtime.delivery.idle();
    await sleep(50);
    const ids = c.frames
      .slice(mark)
      .filter((f) => f.json?.type === 'notification')
      .map((f) => (f.json!.notification as { id: number }).id);
    expect(before).toBeLessThan(missed);
    expect(ids).toEqual([missed, live]); // each once, in order
    expect(c.frames[mark].json).toMatchObject({ type: 'connection_established' });
  } finally {
    spy.mockRestore();
    c.close();
    await srv.close();
  }
});

test('a resync that cannot build its snapshot closes the sockets (1011) instead of leaving them queueing', async () => {
  const bus = new LocalBus(ctx.events, logger);
  const srv = await startServer(ctx, { bus });
  const u = await ctx.createUser('candidate');
  const c = new Client(wsUrl(srv.url, '/ws/notifications'), { cookie: (await login(srv.url, u)).cookie });
  const spy = jest.spyOn(ctx.services.notifications, 'since');
  try {
    await c.type('connection_established');
    spy.mockRejectedValueOnce(new Error('database unreachable'));
    bus.emit('resync');
    expect(await c.closed).toEqual({ code: 1011, reason: 'snapshot failed' }); // hx-ws and the console reconnect
  } finally {
    spy.mockRestore();
    c.close();
    await srv.close();
  }
});
