/**
 * Grouping live (issue 14): a new member of a group updates the group's line instead of adding one. On the JSON
 * protocol the `notification` frame stays (existing clients), then `unread_count`, then `group_updated` with the
 * group's line, for groups of more than one only. A group action through the bulk endpoint reaches every tab.
 */
import { QueryTypes } from 'sequelize';
import type { Course } from '../../models';
import { api, createServerContext, instructorTabs, login, type Client, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

async function apply(course: Course, name: string): Promise<void> {
  const candidate = await ctx.createUser('candidate', { name });
  const who = await login(ctx.srv.url, candidate);
  expect((await api(ctx.srv.url, who, 'POST', `/api/courses/${course.id}/applications/`, { motivation: 'please' })).status).toBe(201);
}

/** The frames of `c` from `from` on, once one of type `until` has arrived. */
async function framesUntil(c: Client, from: number, until: string) {
  await c.next((f) => f.json?.type === until, { from });
  return c.frames.slice(from).map((f) => f.json?.type);
}

test('the second application to a course: notification, unread_count, then group_updated with the line', async () => {
  const { json, bell, course } = await instructorTabs(ctx);
  let mark = json.frames.length;
  await apply(course, 'Camille');
  const first = await json.next((f) => f.json?.type === 'notification', { from: mark });
  // A group of one: its notification frame says it all.
  await json.type('unread_count');
  await apply(course, 'Dario');
  mark = json.frames.indexOf(first) + 1;
  expect(await framesUntil(json, mark, 'group_updated')).toEqual(['unread_count', 'notification', 'unread_count', 'group_updated']);
  const [notification, group] = [json.frames[json.frames.length - 3].json!, json.frames[json.frames.length - 1].json!];
  expect(group).toEqual({
    type: 'group_updated',
    group: {
      group_key: `application_submitted:course:${course.id}`,
      count: 2,
      unread_count: 2,
      actors: ['Dario', 'Camille'],
      latest: (notification as { notification: unknown }).notification,
    },
  });
  // The bell (htmx) gets no JSON frame: its group line is HTML, in place of the card (group-lines.test.ts).
  expect(bell.frames.some((f) => f.text.includes('group_updated'))).toBe(false);
});

test('a notification outside any group, or a group reduced to one in the inbox, gets no group_updated', async () => {
  const { user, who, json, course } = await instructorTabs(ctx);
  await apply(course, 'Ewa');
  await json.type('notification');
  // Ewa's application is done: Fay's is then alone in the inbox.
  const [ewa] = await ctx.sequelize.query<{ id: string }>('SELECT id FROM notifications WHERE recipient_id = :u', {
    replacements: { u: user.id },
    type: QueryTypes.SELECT,
  });
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${ewa.id}/done/`)).status).toBe(200);
  const mark = json.frames.length;
  await apply(course, 'Fay');
  await ctx.message(user, 'm');
  await json.next((f) => f.json?.type === 'notification' && (f.json.notification as { title: string }).title === 'm', { from: mark });
  await json.next((f) => f.json?.type === 'unread_count', { from: json.frames.length - 1 });
  expect(json.frames.slice(mark).map((f) => f.json?.type)).not.toContain('group_updated');
});

test('a group action on 600 members reaches every tab as notification_state frames of at most 500 ids each', async () => {
  const { user, who, json, course } = await instructorTabs(ctx);
  const rows = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, type, title, course_id)
     SELECT :u, 'application_submitted', 'a' || i, :c FROM generate_series(1, 600) AS i RETURNING id`,
    { replacements: { u: user.id, c: course.id }, type: QueryTypes.SELECT },
  );
  const mark = json.frames.length;
  const res = await api(ctx.srv.url, who, 'POST', '/api/notifications/bulk/', { group_keys: [`application_submitted:course:${course.id}`], action: 'done' });
  expect(res.body).toEqual({ updated: 600 });
  const announced: number[] = [];
  let from = mark;
  while (announced.length < 600) {
    const f = await json.next((x) => x.json?.type === 'notification_state', { from });
    from = json.frames.indexOf(f) + 1;
    const ids = f.json!.ids as number[];
    expect(ids.length).toBeLessThanOrEqual(500);
    expect(f.json!.state).toBe('done');
    announced.push(...ids);
  }
  expect(announced.sort((a, b) => a - b)).toEqual(rows.map((r) => Number(r.id)).sort((a, b) => a - b));
});
