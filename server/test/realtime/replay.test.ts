/**
 * Replay follows delivery order (issue 14): `?since=` is a position (a notification's sort key), so a notification
 * that wakes from snooze while a tab is away (it keeps its old id, and takes a new position above what arrived
 * meanwhile) is replayed on reconnect, once, in order; snoozed and done rows are not replayed.
 */
import { QueryTypes } from 'sequelize';
import { api, createServerContext, login, sleep, type Client, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

/** What the wake-up job does when the time comes (server/services/notifications/tasks.ts), with the time brought forward. */
async function wake(id: number) {
  await ctx.sequelize.query('UPDATE notifications SET snoozed_until = now() WHERE id = :id', { replacements: { id }, type: QueryTypes.UPDATE });
  expect(await ctx.services.notifications.inbox.wake(id)).toBe(true);
}

async function position(id: number): Promise<number> {
  const [r] = await ctx.sequelize.query<{ sort_key: string }>('SELECT sort_key FROM notifications WHERE id = :id', {
    replacements: { id },
    type: QueryTypes.SELECT,
  });
  return Number(r.sort_key);
}

/** The notification frames a fresh JSON socket gets after its snapshot: [id, position, title]. */
async function replayed(cookie: string, since: number): Promise<Array<[number, number, string]>> {
  const c = ctx.srv.connect(`/ws/notifications?since=${since}`, { cookie });
  await c.type('connection_established');
  await sleep(300); // the replay follows the snapshot at once; nothing else is sent meanwhile
  c.close();
  return notifications(c);
}

function notifications(c: Client): Array<[number, number, string]> {
  return c.frames
    .filter((f) => f.json?.type === 'notification')
    .map((f) => {
      const n = f.json!.notification as { id: number; title: string };
      // `position` is on the frame only when it is not the id (a row that woke).
      return [n.id, (f.json!.position as number | undefined) ?? n.id, n.title];
    });
}

test('a notification that woke while the tab was away is replayed on reconnect, once, after what arrived meanwhile', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const tab = ctx.srv.connect('/ws/notifications', { cookie: who.cookie });
  await tab.type('connection_established');
  const a = await ctx.message(user, 'a');
  const b = await ctx.message(user, 'b');
  await tab.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === b);
  expect(notifications(tab)).toEqual([
    [a, a, 'a'],
    [b, b, 'b'],
  ]);
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${a}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() })).status).toBe(200);
  await tab.next((f) => f.json?.state === 'snoozed');
  const lastSeen = Math.max(...notifications(tab).map(([, p]) => p));
  tab.close(); // the tab sleeps

  const c = await ctx.message(user, 'c'); // arrives while away
  await wake(a); // wakes while away: above c
  const pa = await position(a);
  expect(pa).toBeGreaterThan(c);

  const got = await replayed(who.cookie, lastSeen);
  expect(got).toEqual([
    [c, c, 'c'],
    [a, pa, 'a'],
  ]);
  // Reconnecting again from the newest position seen replays nothing: no duplicate.
  expect(await replayed(who.cookie, pa)).toEqual([]);
});

test('a tab connected during the wake gets it live with its position, and reconnecting from there replays nothing', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const a = await ctx.message(user, 'a');
  await ctx.services.notifications.inbox.snooze(user.id, a, new Date(Date.now() + 3600_000));
  const b = await ctx.message(user, 'b');
  const tab = ctx.srv.connect(`/ws/notifications?since=${a - 1}`, { cookie: who.cookie });
  await tab.next((f) => f.json?.type === 'notification');
  await wake(a);
  await tab.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === a);
  const pa = await position(a);
  // The snoozed one was not replayed on connect: only b, then a live when it woke.
  expect(notifications(tab)).toEqual([
    [b, b, 'b'],
    [a, pa, 'a'],
  ]);
  tab.close();
  expect(await replayed(who.cookie, pa)).toEqual([]);
  // A client that only knows ids (before positions) and resumes from b still gets the woken one.
  expect(await replayed(who.cookie, b)).toEqual([[a, pa, 'a']]);
});

test('snoozed and done rows are not replayed; an undone one is, where it stands', async () => {
  const user = await ctx.createUser('candidate');
  const [a, b, c] = [await ctx.message(user, 'a'), await ctx.message(user, 'b'), await ctx.message(user, 'c')];
  const who = await login(ctx.srv.url, user);
  await ctx.services.notifications.inbox.snooze(user.id, a, new Date(Date.now() + 3600_000));
  await ctx.services.notifications.inbox.act(user.id, b, 'done');
  expect(await replayed(who.cookie, a - 1)).toEqual([[c, c, 'c']]);
  await ctx.services.notifications.inbox.act(user.id, b, 'undone');
  expect(await replayed(who.cookie, a - 1)).toEqual([
    [b, b, 'b'],
    [c, c, 'c'],
  ]);
});

test('the bell socket of a notifications page replays the woken card too', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const a = await ctx.message(user, 'sleeper');
  const b = await ctx.message(user, 'newer');
  await ctx.services.notifications.inbox.snooze(user.id, a, new Date(Date.now() + 3600_000));
  await wake(a);
  const bell = ctx.srv.connect(`/ws/bell?since=${b}`, { cookie: who.cookie });
  const card = await bell.next((f) => f.text.includes('afterbegin:#notification-list'));
  expect(card.text).toContain(`id="notification-${a}"`);
  expect(card.text).toContain(`data-position="${await position(a)}"`);
  bell.close();
});
