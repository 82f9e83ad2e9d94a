/**
 * State changes replay on reconnect ("nothing is lost when a tab sleeps", issue 14): a JSON socket or an event
 * stream that resumes from the highest position it saw is told, as `notification_state` frames, every state change
 * made while it was away to rows it had (read, unread, done, undone, snoozed, deleted: by another tab, the API,
 * bulk and group actions, a moderator), each row in its state now, then `unread_count`; never about rows it did not
 * have. Live state frames carry their position, so a resume point past them replays nothing again.
 */
import http from 'node:http';
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { PRUNE_TOMBSTONES_TASK, notificationTasks } from '../../services/notifications/tasks';
import { api, createServerContext, groupMembers, login, sleep, type Client, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

type Json = Record<string, unknown>;

function notify(recipient: User, title: string) {
  return ctx.sequelize.transaction((t) => ctx.services.notifications.create({ recipientId: recipient.id, type: 'message', title }, t));
}

/** The highest position a client saw: `position`, else a notification frame's id (the README's rule). */
function highest(frames: Json[]): number {
  let max = 0;
  for (const f of frames) {
    const at = typeof f.position === 'number' ? f.position : f.type === 'notification' ? (f.notification as { id: number }).id : 0;
    max = Math.max(max, at);
  }
  return max;
}

const jsonOf = (c: Client) => c.frames.map((f) => f.json!).filter(Boolean);

/** Everything a fresh JSON socket resuming from `since` gets after its snapshot frame. */
async function resume(cookie: string, since: number): Promise<Json[]> {
  const c = ctx.srv.connect(`/ws/notifications?since=${since}`, { cookie });
  await c.type('connection_established');
  await sleep(300); // the replay follows the snapshot at once; nothing else is sent meanwhile
  c.close();
  return jsonOf(c).slice(1);
}

async function unreadOf(user: User): Promise<number> {
  return ctx.services.notifications.unreadCount(user.id);
}

async function statePos(id: number): Promise<number> {
  const [r] = await ctx.sequelize.query<{ state_pos: string }>('SELECT state_pos FROM notifications WHERE id = :id', {
    replacements: { id },
    type: QueryTypes.SELECT,
  });
  return Number(r.state_pos);
}

const post = (who: { cookie: string; csrf: string }, path: string, body?: object) => api(ctx.srv.url, who, 'POST', path, body);

test('a socket that slept is told every state change of the rows it had, grouped per state now, then unread_count', async () => {
  const user = await ctx.createUser('instructor');
  const course = await ctx.createCourse(user, { title: 'Replay' });
  const other = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const admin = await ctx.createUser('admin');
  // Two members of one group (applications to one course), written as the application statement writes them.
  const [g1, g2] = await groupMembers(ctx, user.id, course.id, 2);
  const tab = ctx.srv.connect('/ws/notifications', { cookie: who.cookie });
  await tab.type('connection_established');
  const [a, b, c, d, h, m, keep] = [
    await notify(user, 'a'), await notify(user, 'b'), await notify(user, 'c'), await notify(user, 'd'),
    await notify(user, 'h'), await notify(user, 'm'), await notify(user, 'keep'),
  ];
  const theirs = await notify(other, 'not yours');
  await tab.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === keep);
  expect((await post(who, `/api/notifications/${h}/done/`)).status).toBe(200);
  await tab.next((f) => f.json?.type === 'notification_state' && f.json.state === 'done');
  const since = highest(jsonOf(tab));
  expect(since).toBe(await statePos(h)); // the live state frame moved the resume point past the done
  tab.close(); // the tab sleeps

  // Made while the tab was away: a new row it never had (then done: not replayed at all), one it never had that is
  // read (replayed whole, read), and every kind of change to rows it had, by another client.
  const fresh = await notify(user, 'fresh, then done');
  const freshRead = await notify(user, 'fresh, then read');
  expect((await post(who, `/api/notifications/${a}/done/`)).status).toBe(200);
  expect((await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${b}/mark_read/`)).status).toBe(200);
  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${c}/`)).status).toBe(204);
  expect((await post(who, `/api/notifications/${d}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() })).status).toBe(200);
  expect((await post(who, '/api/notifications/bulk/', { group_keys: [`application_submitted:course:${course.id}`], action: 'done' })).body).toEqual({ updated: 2 });
  expect((await post(who, `/api/notifications/${h}/undone/`)).status).toBe(200);
  expect(await ctx.services.moderation.removeMany([m])).toBe(1);
  expect((await post(who, '/api/notifications/bulk/', { ids: [fresh], action: 'done' })).body).toEqual({ updated: 1 });
  expect((await post(who, '/api/notifications/bulk/', { ids: [freshRead], action: 'read' })).body).toEqual({ updated: 1 });
  await ctx.services.notifications.inbox.act(other.id, theirs, 'done'); // another user's: never in this replay
  await sleep(200); // their events pass (no tab of the user is open) before the tab comes back

  const got = await resume(who.cookie, since);
  // The missed notifications first (their positions are below every change made after them), then the changes.
  expect(got[0]).toMatchObject({ type: 'notification', notification: { id: freshRead, is_read: true } });
  expect(got.filter((f) => f.type === 'notification')).toHaveLength(1);
  const states = got.filter((f) => f.type === 'notification_state');
  const byState = Object.fromEntries(states.map((f) => [f.state, [...(f.ids as number[])].sort((x, y) => x - y)]));
  expect(byState).toEqual({
    done: [a, g1, g2].sort((x, y) => x - y),
    read: [b, h], // undone leaves it in the inbox, read: its state now
    deleted: [c, m],
    snoozed: [d],
  });
  expect(states).toHaveLength(4); // one frame per state
  // Only the last carries a position: the highest change; the count follows.
  expect(states.slice(0, -1).every((f) => f.position === undefined)).toBe(true);
  expect(states[3].position).toBe(await statePos(freshRead));
  // Then the count, and the line of the group the group action emptied, as after the live changes.
  expect(got.slice(-2)).toEqual([
    { type: 'unread_count', unread_count: await unreadOf(user) },
    { type: 'group_removed', group_key: `application_submitted:course:${course.id}` },
  ]);
  expect(await unreadOf(user)).toBe(1); // keep

  // A client that stores the highest position it saw asks for nothing it has.
  expect(await resume(who.cookie, highest(got))).toEqual([]);
});

test('a notification that arrived between two changes replays between their frames, each run with its position', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const [a, b] = [await notify(user, 'a'), await notify(user, 'b')];
  const since = b;
  expect((await post(who, `/api/notifications/${a}/done/`)).status).toBe(200);
  const between = await notify(user, 'between');
  expect((await post(who, '/api/notifications/mark_all_read/')).status).toBe(200);
  await sleep(200);

  const got = await resume(who.cookie, since);
  expect(got).toEqual([
    { type: 'notification_state', ids: [a], state: 'done', position: await statePos(a) },
    expect.objectContaining({ type: 'notification', notification: expect.objectContaining({ id: between, is_read: true }) }),
    { type: 'notification_state', ids: [b], state: 'read', position: await statePos(b) },
    { type: 'unread_count', unread_count: 0 },
  ]);
  // Cut off after the notification, the client resumes from its id: the read-all comes again (for that row too: it
  // cannot know it had it read), the done does not.
  const cut = await resume(who.cookie, between);
  expect(cut).toEqual([
    { type: 'notification_state', ids: [b, between], state: 'read', position: await statePos(b) },
    { type: 'unread_count', unread_count: 0 },
  ]);
});

test('live state frames carry their position on the socket and as the event id on the stream; Last-Event-ID resumes', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const { token } = await ctx.services.tokens.create(user, { name: 'sse', scopes: ['notifications:read'], expiresInDays: null });
  const [a, b, c] = [await notify(user, 'a'), await notify(user, 'b'), await notify(user, 'c')];
  const tab = ctx.srv.connect('/ws/notifications', { cookie: who.cookie });
  const first = sse({ authorization: `Bearer ${token}` });
  await tab.type('connection_established');
  await first.next((e) => e.event === 'connection_established');
  expect((await post(who, `/api/notifications/${a}/done/`)).status).toBe(200);
  expect(await tab.type('notification_state')).toEqual({ type: 'notification_state', ids: [a], state: 'done', position: await statePos(a) });
  const live = await first.next((e) => e.event === 'notification_state');
  expect(live.id).toBe(String(await statePos(a)));
  tab.close();
  first.stop();

  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${b}/`)).status).toBe(204);
  expect((await post(who, `/api/notifications/${c}/mark_unread/`)).status).toBe(200); // unread already: no change
  expect((await post(who, `/api/notifications/${a}/mark_unread/`)).status).toBe(200);
  await sleep(200);
  const again = sse({ authorization: `Bearer ${token}`, 'last-event-id': live.id! });
  await again.next((e) => e.event === 'unread_count');
  const states = again.events.filter((e) => e.event === 'notification_state');
  expect(states.map((e) => JSON.parse(e.data) as Json).map(({ ids, state }) => ({ ids, state }))).toEqual(
    expect.arrayContaining([
      { ids: [b], state: 'deleted' },
      { ids: [a], state: 'unread' },
    ]),
  );
  expect(states).toHaveLength(2);
  expect(states[1].id).toBe(String(await statePos(a))); // the last one carries the highest position as its id
  expect(states[0].id).toBeUndefined();
  expect(JSON.parse(again.events.at(-1)!.data)).toEqual({ type: 'unread_count', unread_count: 2 });
  again.stop();

  const third = sse({ authorization: `Bearer ${token}`, 'last-event-id': states[1].id! });
  await third.next((e) => e.event === 'connection_established');
  await sleep(300);
  expect(third.events.map((e) => e.event)).toEqual(['connection_established']);
  third.stop();
});

test('a deleted member of a group: its deletion, then the group line as it is now (the tombstone knows its group)', async () => {
  const user = await ctx.createUser('instructor');
  const course = await ctx.createCourse(user, { title: 'Lines' });
  const who = await login(ctx.srv.url, user);
  const [, g2, g3] = await groupMembers(ctx, user.id, course.id, 3);
  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${g3}/`)).status).toBe(204);
  await sleep(200);
  const got = await resume(who.cookie, g3);
  expect(got.slice(0, 2)).toEqual([
    { type: 'notification_state', ids: [g3], state: 'deleted', position: expect.any(Number) },
    { type: 'unread_count', unread_count: 2 },
  ]);
  expect(got[2]).toMatchObject({ type: 'group_updated', group: { group_key: `application_submitted:course:${course.id}`, count: 2, unread_count: 2, latest: { id: g2 } } });
  expect(got).toHaveLength(3);
});

test('tombstones older than the retention are pruned by the job; the replay then no longer tells of them', async () => {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const [old, recent, last] = [await notify(user, 'old'), await notify(user, 'recent'), await notify(user, 'last')];
  expect((await post(who, '/api/notifications/bulk/', { ids: [old], action: 'delete' })).body).toEqual({ updated: 1 });
  expect((await post(who, '/api/notifications/bulk/', { ids: [recent], action: 'delete' })).body).toEqual({ updated: 1 });
  await ctx.sequelize.query(`UPDATE notification_tombstones SET deleted_at = now() - interval '8 days' WHERE notification_id = :old`, {
    replacements: { old },
  });
  const before = (await resume(who.cookie, last)).filter((f) => f.type === 'notification_state');
  expect(before.flatMap((f) => f.ids as number[]).sort((x, y) => x - y)).toEqual([old, recent]);

  const tasks = notificationTasks({ notifications: ctx.services.notifications, sends: ctx.services.sends, tombstoneRetentionDays: 7 });
  await (tasks[PRUNE_TOMBSTONES_TASK] as (payload: unknown, helpers: unknown) => Promise<void>)({}, {});
  const left = await ctx.sequelize.query<{ notification_id: string }>(
    'SELECT notification_id FROM notification_tombstones WHERE recipient_id = :u',
    { replacements: { u: user.id }, type: QueryTypes.SELECT },
  );
  expect(left.map((r) => Number(r.notification_id))).toEqual([recent]);
  const after = (await resume(who.cookie, last)).filter((f) => f.type === 'notification_state');
  expect(after).toEqual([{ type: 'notification_state', ids: [recent], state: 'deleted', position: expect.any(Number) }]);
});

// --- a minimal event stream reader (as sse.test.ts reads it)

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

function sse(headers: Record<string, string>) {
  const events: SseEvent[] = [];
  let buffer = '';
  const req = http.get(`${ctx.srv.url}/api/notifications/stream/`, { headers }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const ev: SseEvent = { event: 'message', data: '' };
        for (const line of buffer.slice(0, at).split('\n')) {
          if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('data: ')) ev.data = line.slice(6);
        }
        buffer = buffer.slice(at + 2);
        if (ev.data) events.push(ev);
      }
    });
  });
  req.on('error', () => undefined);
  return {
    events,
    async next(pred: (e: SseEvent) => boolean, timeoutMs = 3_000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
        await sleep(20);
      }
    },
    stop: () => req.destroy(),
  };
}