/**
 * The inbox's states live in every tab (issue 14): each change through the API reaches the user's other tabs at
 * once, on the JSON protocol as `notification_state` then `unread_count`, on the bell protocol as the fragments
 * that update the bell and the page; a woken snooze comes back as a new notification.
 */
import { QueryTypes } from 'sequelize';
import { api, createServerContext, login, type Client, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

/** A user with two JSON tabs and one bell tab, all past their snapshot. */
async function tabs() {
  const user = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, user);
  const json = [ctx.srv.connect('/ws/notifications', { cookie: who.cookie }), ctx.srv.connect('/ws/notifications', { cookie: who.cookie })];
  const bell = ctx.srv.connect('/ws/bell', { cookie: who.cookie });
  await Promise.all([...json.map((c) => c.type('connection_established')), bell.next(() => true)]);
  return { user, who, json, bell };
}

/** The next `notification_state` frame after `from` and the frame right after it. */
async function stateFrames(c: Client, from: number) {
  const state = await c.next((f) => f.json?.type === 'notification_state', { from });
  const at = c.frames.indexOf(state);
  const after = await c.next(() => true, { from: at + 1 });
  return { state: state.json!, after: after.json! };
}

test.each([
  ['done', 'done', 0],
  ['mark_unread', 'unread', 1],
] as const)('POST %s reaches every JSON tab as notification_state then unread_count', async (path, state, unread) => {
  const { user, who, json } = await tabs();
  const id = await ctx.message(user, 'x');
  await Promise.all(json.map((c) => c.type('notification')));
  if (path === 'mark_unread') {
    // The read's own frames are pushed after its response; wait for them so they are not taken for the unread's.
    const before = json.map((c) => c.frames.length);
    await api(ctx.srv.url, who, 'PATCH', `/api/notifications/${id}/mark_read/`);
    await Promise.all(json.map((c, i) => stateFrames(c, before[i])));
  }
  const marks = json.map((c) => c.frames.length);
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${id}/${path}/`)).status).toBe(200);
  for (const [i, c] of json.entries()) {
    const { state: s, after } = await stateFrames(c, marks[i]);
    expect(s).toEqual({ type: 'notification_state', ids: [id], state, position: expect.any(Number) });
    expect(after).toEqual({ type: 'unread_count', unread_count: unread });
  }
});

test('undone, snoozed, deleted, and read (with notification_read kept) reach every JSON tab', async () => {
  const { user, who, json } = await tabs();
  const [a, b, c] = [await ctx.message(user, 'a'), await ctx.message(user, 'b'), await ctx.message(user, 'c')];
  const steps: Array<[string, object | undefined, string, number, number[]]> = [
    [`/api/notifications/${a}/done/`, undefined, 'done', 2, [a]],
    [`/api/notifications/${a}/undone/`, undefined, 'undone', 2, [a]],
    [`/api/notifications/${b}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() }, 'snoozed', 1, [b]],
    ['/api/notifications/bulk/', { ids: [c], action: 'read' }, 'read', 0, [c]],
    ['/api/notifications/bulk/', { ids: [a, c], action: 'delete' }, 'deleted', 0, [a, c]],
  ];
  for (const [path, body, state, unread, ids] of steps) {
    const marks = json.map((t) => t.frames.length);
    expect((await api(ctx.srv.url, who, 'POST', path, body)).status).toBe(200);
    for (const [i, t] of json.entries()) {
      const { state: s, after } = await stateFrames(t, marks[i]);
      expect(s).toEqual({ type: 'notification_state', ids, state, position: expect.any(Number) });
      expect(after).toEqual({ type: 'unread_count', unread_count: unread });
      if (state === 'read') expect(t.frames.slice(marks[i]).map((f) => f.json)).toContainEqual({ type: 'notification_read', ids });
    }
  }
});

test('the bell tab: done and snoozed rows leave the page and the badge follows; unread brings the read form back', async () => {
  const { user, who, bell } = await tabs();
  const [a, b] = [await ctx.message(user, 'first'), await ctx.message(user, 'second')];
  await bell.next((f) => f.text.includes(`bell-item-${b}`));
  let from = bell.frames.length;
  await api(ctx.srv.url, who, 'POST', `/api/notifications/${a}/done/`);
  let f = await bell.next((x) => x.text.includes(`delete:#notification-${a}`), { from });
  expect(f.text).toMatch(/id="bell-badge"[^>]*>1</);
  expect(f.text).not.toContain(`bell-item-${a}"`); // the bell no longer lists a done one

  from = bell.frames.length;
  await api(ctx.srv.url, who, 'POST', `/api/notifications/${b}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() });
  f = await bell.next((x) => x.text.includes(`delete:#notification-${b}`), { from });
  expect(f.text).toMatch(/id="bell-badge"[^>]*hidden/);

  from = bell.frames.length;
  await api(ctx.srv.url, who, 'POST', `/api/notifications/${a}/mark_unread/`);
  f = await bell.next((x) => x.text.includes(`outerHTML:#notification-${a} .notif-status`), { from });
  expect(f.text).toContain(`action="/notifications/${a}/read"`);
  expect(f.text).toMatch(/id="bell-badge"[^>]*>1</);
});

test('a moderator deleting a notification removes it from the recipient’s open pages and JSON tabs', async () => {
  const { user, json, bell } = await tabs();
  const id = await ctx.message(user, 'moderated');
  await bell.next((f) => f.text.includes(`bell-item-${id}`));
  const marks = json.map((c) => c.frames.length);
  const from = bell.frames.length;
  await ctx.services.moderation.remove(id);
  await bell.next((f) => f.text.includes(`delete:#notification-${id}`), { from });
  for (const [i, c] of json.entries()) {
    const { state } = await stateFrames(c, marks[i]);
    expect(state).toEqual({ type: 'notification_state', ids: [id], state: 'deleted', position: expect.any(Number) });
  }
});

test('a woken snooze comes back on every tab: a notification frame again, then unread_count; the bell item and badge', async () => {
  const { user, who, json, bell } = await tabs();
  const id = await ctx.message(user, 'sleepy');
  await api(ctx.srv.url, who, 'POST', `/api/notifications/${id}/snooze/`, { until: new Date(Date.now() + 3600_000).toISOString() });
  await Promise.all(json.map((c) => c.next((f) => f.json?.state === 'snoozed')));
  const marks = json.map((c) => c.frames.length);
  const from = bell.frames.length;
  await ctx.sequelize.query("UPDATE notifications SET snoozed_until = now() WHERE id = :id", { replacements: { id }, type: QueryTypes.UPDATE });
  expect(await ctx.services.notifications.inbox.wake(id)).toBe(true);
  for (const [i, c] of json.entries()) {
    const n = await c.next((f) => f.json?.type === 'notification', { from: marks[i] });
    expect(n.json!.notification).toMatchObject({ id, is_read: false, snoozed_until: null });
    const next = await c.next(() => true, { from: c.frames.indexOf(n) + 1 });
    expect(next.json).toEqual({ type: 'unread_count', unread_count: 1 });
  }
  const f = await bell.next((x) => x.text.includes(`bell-item-${id}`), { from });
  expect(f.text).toMatch(/id="bell-badge"[^>]*>1</);
});
