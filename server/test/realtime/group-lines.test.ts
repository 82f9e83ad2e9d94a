/**
 * Group lines live (issue 14) beyond the JSON protocol's new-member frame (groups.test.ts):
 * - the bell protocol (htmx): a new member of a group of more than one replaces the group's line, on the page list
 *   and in the bell, instead of adding a card and a bell item; the badge follows;
 * - after a state change (read, done, undone, snoozed, deleted) touched a group, both protocols get its fresh line:
 *   JSON `group_updated` (`group_removed` when it left the inbox), the bell the line re-rendered or removed.
 * Real server, real sockets, real PostgreSQL.
 */
import { QueryTypes } from 'sequelize';
import type { Course } from '../../models';
import { api, createServerContext, instructorTabs, login, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

async function apply(course: Course, name: string): Promise<number> {
  const candidate = await ctx.createUser('candidate', { name });
  const who = await login(ctx.srv.url, candidate);
  expect((await api(ctx.srv.url, who, 'POST', `/api/courses/${course.id}/applications/`, { motivation: 'please' })).status).toBe(201);
  const [row] = await ctx.sequelize.query<{ id: string }>(
    "SELECT n.id FROM notifications n JOIN users u ON u.id = n.sender_id WHERE u.name = :name AND n.course_id = :c",
    { replacements: { name, c: course.id }, type: QueryTypes.SELECT },
  );
  return Number(row.id);
}

const domId = (key: string) => key.replace(/[^A-Za-z0-9_-]/g, '-');

test('bell protocol: the second application replaces the group line (page and bell) instead of adding a card', async () => {
  const { bell, course, key } = await instructorTabs(ctx);
  let mark = bell.frames.length;
  const camille = await apply(course, 'Camille');
  // A group of one: the usual card and bell item, the card naming its group so a later line can replace it.
  const first = await bell.next((f) => f.text.includes(`id="notification-${camille}"`), { from: mark });
  expect(first.text).toContain(`data-group="${key}"`);
  expect(first.text).toContain(`id="bell-item-${camille}"`);

  mark = bell.frames.length;
  const dario = await apply(course, 'Dario');
  const frame = await bell.next((f) => f.text.includes(`id="group-${domId(key)}"`), { from: mark });
  const html = frame.text;
  expect(html).toContain('Dario and Camille applied to PostgreSQL in Practice');
  expect(html).toContain('2 notifications');
  expect(html).toContain('Mark 2 read'); // the page line's control; the bell's line says '2 unread'
  expect(html).toContain('2 unread');
  // Whatever the list showed of the group leaves, and the line comes in its place (placed by position).
  expect(html).toContain(`hx-swap-oob="delete:#notification-list[data-grouped] > [data-group=&quot;${key}&quot;]"`);
  expect(html).toContain('hx-swap-oob="afterbegin:#notification-list[data-grouped]"');
  // The bell: re-rendered with the group as one line, no item of its own for Dario's; the badge says 2.
  expect(html).toContain(`id="bell-group-${domId(key)}"`);
  expect(html).not.toContain(`id="bell-item-${dario}"`);
  expect(html).not.toContain(`id="bell-item-${camille}"`);
  expect(html).toMatch(/id="bell-badge"[^>]*>2</);
  // Announced like any new notification.
  expect(html).toContain(`data-notification-id="${dario}"`);
  // One frame for the arrival: no separate card push for Dario's.
  await new Promise((r) => setTimeout(r, 200));
  expect(bell.frames.slice(mark).filter((f) => f.text.includes(`id="notification-${dario}"`))).toHaveLength(0);
});

test('read, done, undone and delete of a member: both protocols get the group line with its new counts', async () => {
  const { who, json, bell, course, key } = await instructorTabs(ctx);
  const a = await apply(course, 'Ana');
  await apply(course, 'Ben');
  const c = await apply(course, 'Cleo');
  await json.next((f) => f.json?.type === 'group_updated' && (f.json.group as { count: number }).count === 3);
  await bell.next((f) => f.text.includes('3 notifications'));

  const lineAfter = async (from: number, check: (g: Record<string, unknown>) => boolean) => {
    const f = await json.next((x) => x.json?.type === 'group_updated' && check(x.json.group as Record<string, unknown>), { from });
    return f.json!.group as { count: number; unread_count: number; actors: string[]; latest: { id: number } };
  };

  // Read one: the line keeps 3 members, 2 unread, after the change's own frames.
  let mark = json.frames.length;
  let bellMark = bell.frames.length;
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${a}/mark_read/`)).status).toBe(200);
  const read = await lineAfter(mark, (g) => g.unread_count === 2);
  expect(read).toMatchObject({ group_key: key, count: 3, unread_count: 2, actors: ['Cleo', 'Ben', 'Ana'] });
  const types = json.frames.slice(mark).map((f) => f.json?.type);
  expect(types.indexOf('group_updated')).toBeGreaterThan(types.indexOf('unread_count'));
  const bellLine = await bell.next((f) => f.text.includes(`id="group-${domId(key)}"`) && f.text.includes('data-return'), { from: bellMark });
  expect(bellLine.text).toContain('Mark 2 read');

  // Done with the newest: 2 members left, Ben's the newest now.
  mark = json.frames.length;
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${c}/done/`)).status).toBe(200);
  const done = await lineAfter(mark, (g) => g.count === 2);
  expect(done.actors).toEqual(['Ben', 'Ana']);

  // Back from Done: 3 again, and Cleo's the newest again.
  mark = json.frames.length;
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${c}/undone/`)).status).toBe(200);
  expect((await lineAfter(mark, (g) => g.count === 3)).latest.id).toBe(c);

  // Deleted: the row no longer says its group; the event does. A group of one is still a line (of one).
  mark = json.frames.length;
  bellMark = bell.frames.length;
  expect((await api(ctx.srv.url, who, 'DELETE', `/api/notifications/${c}/`)).status).toBe(204);
  expect((await lineAfter(mark, (g) => g.count === 2)).actors).toEqual(['Ben', 'Ana']);
  await bell.next((f) => f.text.includes(`id="group-${domId(key)}"`) && f.text.includes('2 notifications'), { from: bellMark });
});

test('a group action that empties the inbox of the group: group_removed on JSON, the line removed on the bell', async () => {
  const { who, json, bell, course, key } = await instructorTabs(ctx);
  await apply(course, 'Dora');
  await apply(course, 'Emil');
  await json.next((f) => f.json?.type === 'group_updated');
  await bell.next((f) => f.text.includes('2 notifications'));
  const mark = json.frames.length;
  const bellMark = bell.frames.length;
  const res = await api(ctx.srv.url, who, 'POST', '/api/notifications/bulk/', { group_keys: [key], action: 'done' });
  expect(res.body).toEqual({ updated: 2 });
  expect(await json.type('group_removed', { from: mark })).toEqual({ type: 'group_removed', group_key: key });
  const frame = await bell.next((f) => f.text.includes(`[data-group=&quot;${key}&quot;]`), { from: bellMark });
  // Only the removal: no line comes back.
  expect(frame.text).not.toContain(`id="group-${domId(key)}"`);
  expect(json.frames.slice(mark).some((f) => f.json?.type === 'group_updated')).toBe(false);
});

test('a snooze of a group from the page reaches the other tabs: every member snoozed, the line removed', async () => {
  const { user, who, json, course, key } = await instructorTabs(ctx);
  await apply(course, 'Fio');
  await apply(course, 'Gus');
  await json.next((f) => f.json?.type === 'group_updated');
  const mark = json.frames.length;
  const res = await fetch(`${ctx.srv.url}/notifications/groups/${encodeURIComponent(key)}/snooze`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: ctx.srv.url },
    body: new URLSearchParams({ _csrf: who.csrf, preset: 'week' }).toString(),
  });
  expect(res.status).toBe(303);
  const state = await json.type('notification_state', { from: mark });
  expect(state.state).toBe('snoozed');
  expect((state.ids as number[]).length).toBe(2);
  expect(await json.type('group_removed', { from: mark })).toEqual({ type: 'group_removed', group_key: key });
  const [jobs] = await ctx.sequelize.query<{ n: string }>(
    `SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = ANY(ARRAY(SELECT 'notification-wake:' || id FROM notifications WHERE recipient_id = :u))`,
    { replacements: { u: user.id }, type: QueryTypes.SELECT },
  );
  expect(Number(jobs.n)).toBe(2);
  // Someone else's group, or a key that is no group: 404, nothing snoozed.
  const other = await fetch(`${ctx.srv.url}/notifications/groups/application_submitted%3Acourse%3A999999/done`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: ctx.srv.url },
    body: new URLSearchParams({ _csrf: who.csrf }).toString(),
  });
  expect(other.status).toBe(404);
});

test("a moderator's delete names the groups too: the member's tabs get the line with one fewer", async () => {
  const { json, course } = await instructorTabs(ctx);
  await apply(course, 'Hugo');
  await apply(course, 'Iris');
  const jo = await apply(course, 'Jo');
  await json.next((f) => f.json?.type === 'group_updated' && (f.json.group as { count: number }).count === 3);
  const mark = json.frames.length;
  expect(await ctx.services.moderation.removeMany([jo])).toBe(1);
  const f = await json.next((x) => x.json?.type === 'group_updated', { from: mark });
  expect(f.json!.group).toMatchObject({ count: 2, actors: ['Iris', 'Hugo'] });
});
