/** The notifications page's inbox actions (issue 14): done, undone, unread, snooze presets, the selection. */
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';
import { form, hx } from '../support/web';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

async function seed(user: User, count: number): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, type, title) SELECT :u, 'message', 'Row ' || i FROM generate_series(1, :count) AS i RETURNING id`,
    { replacements: { u: user.id, count }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => Number(r.id));
}
const state = async (id: number) =>
  (
    await ctx.sequelize.query<{ read_at: Date | null; done_at: Date | null; snoozed_until: Date | null }>(
      'SELECT read_at, done_at, snoozed_until FROM notifications WHERE id = :id',
      { replacements: { id }, type: QueryTypes.SELECT },
    )
  )[0];

async function someone(): Promise<{ user: User; agent: Agent }> {
  const user = await ctx.createUser('candidate');
  return { user, agent: await ctx.login(user) };
}

test('the page has the Done tab, the selection form, the row actions, the keys’ help and public/inbox.js', async () => {
  const { user, agent } = await someone();
  const [id] = await seed(user, 1);
  const html = (await agent.get('/notifications').expect(200)).text;
  expect(html).toContain('href="/notifications?status=done"');
  expect(html).toMatch(/<form id="inbox-bulk"[^>]*action="\/notifications\/bulk"/);
  expect(html).toContain(`<input type="checkbox" class="row-select" form="inbox-bulk" name="ids" value="${id}"`);
  for (const a of ['done', 'unread', 'snooze']) expect(html).toContain(`action="/notifications/${id}/${a}"`);
  for (const p of ['hour', 'evening', 'morning', 'week']) expect(html).toContain(`name="preset" value="${p}"`);
  expect(html).toContain('<input type="datetime-local" name="at" required>');
  expect(html).toMatch(/<script nonce="[^"]+" src="\/static\/inbox.js"><\/script>/);
  expect(html).toContain('<dialog id="inbox-keys"');
  await agent.get('/static/inbox.js').expect(200).expect('Content-Type', /javascript/);
});

test('done by htmx answers the fragments the other tabs get; the Done tab lists it; undone brings it back', async () => {
  const { user, agent } = await someone();
  const [a, b] = await seed(user, 2);
  const res = await hx(agent, `/notifications/${a}/done`).expect(200);
  expect(res.text).toContain(`hx-swap-oob="delete:#notification-${a}"`);
  expect(res.text).toMatch(/id="bell-badge"[^>]*>1</);
  expect((await state(a)).done_at).not.toBeNull();
  const all = (await agent.get('/notifications').expect(200)).text;
  expect(all).not.toContain(`id="notification-${a}"`);
  expect(all).toContain(`id="notification-${b}"`);
  const done = (await agent.get('/notifications?status=done').expect(200)).text;
  expect(done).toMatch(new RegExp(`id="notification-${a}" class="[^"]*is-done`));
  expect(done).toContain(`action="/notifications/${a}/undone"`);
  expect(done).toMatch(/name="action" value="undone"/);
  // Without JavaScript: a plain post, back to the page.
  await form(agent, `/notifications/${a}/undone`).set('Referer', 'http://127.0.0.1/notifications?status=done').expect(303);
  expect((await state(a)).done_at).toBeNull();
  await form(agent, `/notifications/${a}/unread`).expect(303);
  expect((await state(a)).read_at).toBeNull();
});

test('snooze presets are times in the user’s own time zone', async () => {
  const { user, agent } = await someone();
  await ctx.services.preferences.patch(user.id, { timezone: 'Asia/Tokyo' });
  const [a, b] = await seed(user, 2);
  const res = await hx(agent, `/notifications/${a}/snooze`, { preset: 'evening' }).expect(200);
  expect(res.text).toContain(`hx-swap-oob="delete:#notification-${a}"`);
  const until = (await state(a)).snoozed_until!;
  const tokyo = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(until);
  expect(tokyo).toBe('18:00');
  expect(until.getTime()).toBeGreaterThan(Date.now());
  expect(until.getTime()).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
  await hx(agent, `/notifications/${b}/snooze`, { preset: 'week' }).expect(200);
  const monday = (await state(b)).snoozed_until!;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(monday);
  expect(parts).toBe('Monday 08:00');

  // A chosen time, read in the user's zone: 09:30 in Tokyo is 00:30 UTC.
  const next = new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10);
  await hx(agent, `/notifications/${b}/snooze`, { at: `${next}T09:30` }).expect(200);
  expect((await state(b)).snoozed_until!.toISOString()).toBe(`${next}T00:30:00.000Z`);
  for (const at of [`${next.slice(0, 4)}-02-30T09:30`, `${next}T25:00`, 'tomorrow', `${next} 09:30`]) {
    await hx(agent, `/notifications/${b}/snooze`, { at }).expect(400);
  }
  await hx(agent, `/notifications/${b}/snooze`, { at: '2001-01-01T09:30' }).expect(400); // the past
});

test('the selection: many ids in one post, someone else’s untouched; bad input is a 400 page, never a 500', async () => {
  const { user, agent } = await someone();
  const { user: other } = await someone();
  const mine = await seed(user, 3);
  const [theirs] = await seed(other, 1);
  const body = `ids=${[...mine, theirs].join('&ids=')}&action=done`;
  const res = await agent.http.post('/notifications/bulk').set('HX-Request', 'true').set('X-CSRF-Token', agent.csrf).type('form').send(body).expect(200);
  for (const id of mine) expect(res.text).toContain(`delete:#notification-${id}`);
  for (const id of mine) expect((await state(id)).done_at).not.toBeNull();
  expect(await state(theirs)).toEqual({ read_at: null, done_at: null, snoozed_until: null });

  await hx(agent, '/notifications/bulk', { action: 'done' }).expect(400);
  await hx(agent, '/notifications/bulk', { ids: String(mine[0]), action: 'archive' }).expect(400);
  await hx(agent, `/notifications/${mine[0]}/snooze`, { preset: 'someday' }).expect(400);
  await hx(agent, `/notifications/${mine[0]}/snooze`, { until: new Date(Date.now() - 60_000).toISOString() }).expect(400);
  await hx(agent, `/notifications/${theirs}/done`).expect(404);
  await hx(agent, `/notifications/${theirs}/snooze`, { preset: 'hour' }).expect(404);
  // 500 ids fit in one post (the page parser's field limit allows them).
  const many = `ids=${Array.from({ length: 500 }, (_, i) => i + 1).join('&ids=')}&action=read`;
  await agent.http.post('/notifications/bulk').set('HX-Request', 'true').set('X-CSRF-Token', agent.csrf).type('form').send(many).expect(200);
  // No CSRF token: refused.
  await agent.http.post(`/notifications/${mine[0]}/undone`).type('form').send({}).expect(403);
});
