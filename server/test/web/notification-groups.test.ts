/**
 * Groups on the notifications page (issue 14): applications to one course are one line in All / Unread / Read and
 * in the bell, expandable to their members (a page of them without JavaScript, a fragment for htmx); the line's
 * read, done and snooze act on the whole group; the selection takes whole groups; Done and search stay ungrouped.
 */
import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';
import { form, hx } from '../support/web';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

interface Cast {
  user: User;
  agent: Agent;
  course: Course;
  key: string;
  apps: number[];
  message: number;
}

/** An instructor with `names.length` applications to one course (oldest first) and, newer, one message. */
async function cast(names: string[]): Promise<Cast> {
  const user = await ctx.createUser('instructor');
  const course = await ctx.createCourse(user, { title: 'PostgreSQL <in> Practice' });
  const apps: number[] = [];
  for (const name of names) {
    const candidate = await ctx.createUser('candidate', { name });
    await ctx.services.applications.apply(candidate, course.id, 'please');
    const [row] = await ctx.sequelize.query<{ id: string }>('SELECT max(id) AS id FROM notifications WHERE recipient_id = :u', {
      replacements: { u: user.id },
      type: QueryTypes.SELECT,
    });
    apps.push(Number(row.id));
  }
  const message = await ctx.message(user, 'Hello');
  return { user, agent: await ctx.login(user), course, key: `application_submitted:course:${course.id}`, apps, message };
}

const states = async (ids: number[]) =>
  ctx.sequelize.query<{ id: string; read_at: Date | null; done_at: Date | null; snoozed_until: Date | null }>(
    'SELECT id, read_at, done_at, snoozed_until FROM notifications WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id',
    { replacements: { ids: `{${ids.join(',')}}` }, type: QueryTypes.SELECT },
  );

test('All shows a group as one line (escaped), the bell too; a group of one stays a card', async () => {
  const { agent, key, apps, message, course } = await cast(['Camille', 'Dario', 'Ewa', 'Farid', 'Gia']);
  const html = (await agent.get('/notifications').expect(200)).text;
  expect(html).toContain('data-grouped');
  expect(html).toContain(`id="group-application_submitted-course-${course.id}"`);
  expect(html).toContain('Gia, Farid, Ewa and 2 others applied to PostgreSQL &lt;in&gt; Practice');
  expect(html).toContain('5 notifications');
  expect(html).toContain('Mark 5 read');
  for (const id of apps) expect(html).not.toContain(`id="notification-${id}"`);
  expect(html).toContain(`id="notification-${message}"`);
  // Selecting the line selects the group; its controls act on the group, with CSRF.
  expect(html).toContain(`name="group_keys" value="${key}"`);
  const base = `/notifications/groups/${encodeURIComponent(key)}`;
  for (const a of ['read', 'done', 'snooze']) expect(html).toContain(`action="${base}/${a}"`);
  expect(html).toContain(`href="/notifications?group=${encodeURIComponent(key)}"`);
  // The bell: one line for the group, beside the message.
  expect(html).toContain(`id="bell-group-application_submitted-course-${course.id}"`);
  expect(html.match(/<li id="bell-(item|group)-/g)).toHaveLength(2);

  const single = await cast(['Hana']);
  const one = (await single.agent.get('/notifications').expect(200)).text;
  expect(one).toMatch(new RegExp(`id="notification-${single.apps[0]}"[^>]*data-group="${single.key}"`));
  expect(one).not.toContain('id="group-');
});

test('the members: a page without JavaScript, a fragment for htmx with a keyset "more"; Done and search ungrouped', async () => {
  const names = Array.from({ length: 23 }, (_, i) => `Cand ${i + 1}`);
  const { agent, key, apps } = await cast(names);
  const page = (await agent.get(`/notifications?group=${encodeURIComponent(key)}`).expect(200)).text;
  expect(page).toContain('Showing the notifications of one group');
  expect(page).not.toContain('data-grouped');
  expect(page).toContain(`id="notification-${apps[22]}"`);
  const frag = await agent.http.get(`/notifications?group=${encodeURIComponent(key)}`).set('HX-Request', 'true').expect(200);
  expect(frag.text).not.toContain('<html');
  expect(frag.text.match(/<article id="notification-/g)).toHaveLength(20);
  const more = /href="([^"]*cursor=[^"]*)"[^>]*>|data-group-more\s+href="([^"]+)"/.exec(frag.text);
  const next = (more?.[1] ?? more?.[2] ?? '').replace(/&amp;/g, '&');
  expect(next).toContain('cursor=');
  const rest = await agent.http.get(next).set('HX-Request', 'true').expect(200);
  expect(rest.text.match(/<article id="notification-/g)).toHaveLength(3);
  expect(rest.text).toContain(`id="notification-${apps[0]}"`);
  // Done and search results list notifications one by one.
  expect((await agent.get('/notifications?q=Cand').expect(200)).text).not.toContain('data-grouped');
  // Another user's group shows nothing of it.
  const other = await ctx.createUser('instructor');
  const otherAgent = await ctx.login(other);
  const theirs = (await otherAgent.get(`/notifications?group=${encodeURIComponent(key)}`).expect(200)).text;
  expect(theirs).not.toContain(`id="notification-${apps[0]}"`);
});

test("the line's read, done and snooze act on the whole group; htmx gets the pieces; without JS a redirect", async () => {
  const { agent, key, apps, message, course } = await cast(['Ivo', 'Jan', 'Kai']);
  const base = `/notifications/groups/${encodeURIComponent(key)}`;
  const read = await hx(agent, `${base}/read`).expect(200);
  expect(read.text).toMatch(/id="bell-badge"[^>]*>1</); // the message is still unread
  // The fresh line comes with the answer, read now.
  expect(read.text).toContain(`id="group-application_submitted-course-${course.id}"`);
  expect(read.text).toContain('<span class="notif-status is-read">Read</span>');
  expect((await states(apps)).every((r) => r.read_at !== null)).toBe(true);

  await form(agent, `${base}/done`).expect(303);
  expect((await states(apps)).every((r) => r.done_at !== null)).toBe(true);
  expect((await states([message]))[0].done_at).toBeNull();
  // Done: the group leaves All, and lives (ungrouped) under Done.
  expect((await agent.get('/notifications').expect(200)).text).not.toContain('id="group-');
  const done = (await agent.get('/notifications?status=done').expect(200)).text;
  for (const id of apps) expect(done).toContain(`id="notification-${id}"`);

  const again = await cast(['Lea', 'Max']);
  const snooze = await hx(again.agent, `/notifications/groups/${encodeURIComponent(again.key)}/snooze`, { preset: 'week' }).expect(200);
  expect(snooze.text).toContain(`delete:#notification-list[data-grouped] > [data-group=&quot;${again.key}&quot;]`);
  expect((await states(again.apps)).every((r) => r.snoozed_until !== null)).toBe(true);
  // Bad input: a friendly 400, not a 500; no CSRF: 403; another user's group or a malformed key: 404.
  await hx(again.agent, `/notifications/groups/${encodeURIComponent(again.key)}/snooze`, { preset: 'never' }).expect(400);
  await again.agent.http.post(`/notifications/groups/${encodeURIComponent(again.key)}/done`).type('form').send({}).expect(403);
  await form(again.agent, `${base}/done`).expect(404);
  await form(again.agent, '/notifications/groups/nonsense/done').expect(404);
});

test('the selection takes whole groups (group_keys) beside single ids', async () => {
  const { agent, key, apps, message } = await cast(['Nia', 'Oto']);
  const res = await agent.http
    .post('/notifications/bulk')
    .set('HX-Request', 'true')
    .set('X-CSRF-Token', agent.csrf)
    .type('form')
    .send(`group_keys=${encodeURIComponent(key)}&ids=${message}&action=done`)
    .expect(200);
  for (const id of [...apps, message]) expect(res.text).toContain(`hx-swap-oob="delete:#notification-${id}"`);
  expect((await states([...apps, message])).every((r) => r.done_at !== null)).toBe(true);
  await agent.http.post('/notifications/bulk').set('HX-Request', 'true').set('X-CSRF-Token', agent.csrf).type('form')
    .send('group_keys=bad%20key&action=done').expect(400);
});
