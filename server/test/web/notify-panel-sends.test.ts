/**
 * The instructor's notify panel for a send above SEND_INLINE_MAX (issue 17; 1 here): the answer comes before any
 * row is written, so the panel says the send goes out in parts instead of "Sent to 0 students". "Recently sent"
 * says how far each send got and, while a recorded send runs, offers its sender (or an admin) a Cancel that works
 * with htmx and without JavaScript. The row the page renders and the row the socket pushes are one partial.
 */
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { createProtocols } from '../../realtime/protocols';
import { Renderer } from '../../web/render';
import { createTestContext, type Agent, type TestContext } from '../support/harness';
import { form, hx } from '../support/web';

let ctx: TestContext;
let instructor: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext({ env: { SEND_INLINE_MAX: '1' } });
  instructor = await ctx.createUser('instructor');
  const students = await Promise.all([1, 2].map(() => ctx.createUser('candidate')));
  courseId = (await ctx.createCourse(instructor, { title: 'Big course', students })).id;
});
afterAll(() => ctx.close());

const keysIn = (html: string) => [...html.matchAll(/<input type="hidden" name="idempotency_key" value="([^"]+)">/g)].map((m) => m[1]);

test('htmx: the panel says the send goes out in parts (escaped), not "sent to 0"', async () => {
  const inst = await ctx.login(instructor);
  const [, key] = keysIn((await inst.get(`/courses/${courseId}`).expect(200)).text);
  const res = await hx(inst, `/courses/${courseId}/notify`, { notification_type: 'message', title: 'Big <i>news</i>', message: 'Hi', idempotency_key: key }).expect(200);
  expect(res.text).toMatch(/Sending “Big &lt;i&gt;news&lt;\/i&gt;” to your\s+students in parts/);
  expect(res.text).not.toContain('<strong>0</strong>');
});

test('without JavaScript: redirected to the course page, which says the same', async () => {
  const inst = await ctx.login(instructor);
  const [quickKey] = keysIn((await inst.get(`/courses/${courseId}`).expect(200)).text);
  const res = await form(inst, `/courses/${courseId}/notify`, { preset: 'course_update', idempotency_key: quickKey }).expect(303);
  expect(res.headers.location).toBe(`/courses/${courseId}?sending=1#notify-${courseId}`);
  const page = await inst.get(`/courses/${courseId}?sending=1`).expect(200);
  expect(page.text).toMatch(/Sending to your\s+students in parts/);
});

// --- "Recently sent"

const rowIn = (html: string, id: string) => new RegExp(`<li id="send-${id}"[^>]*>[\\s\\S]*?</li>`).exec(html)?.[0];

/** Sends from the page's full form (htmx); answers the new send's id. */
async function sendFromPage(a: Agent, title: string): Promise<string> {
  const [, key] = keysIn((await a.get(`/courses/${courseId}`).expect(200)).text);
  await hx(a, `/courses/${courseId}/notify`, { notification_type: 'message', title, message: 'Hi', idempotency_key: key }).expect(200);
  const [row] = await ctx.sequelize.query<{ id: string }>('SELECT id FROM broadcasts WHERE title = :title', { replacements: { title }, type: QueryTypes.SELECT });
  return row.id;
}

async function statusOf(id: string): Promise<string> {
  const [row] = await ctx.sequelize.query<{ status: string }>('SELECT status FROM broadcasts WHERE id = :id', { replacements: { id }, type: QueryTypes.SELECT });
  return row.status;
}

test('a recorded send’s row: queued, its Cancel (boosted by the list, CSRF in the form); the list is live-ready', async () => {
  const inst = await ctx.login(instructor);
  const id = await sendFromPage(inst, 'Queued <b>one</b>');
  const page = (await inst.get(`/courses/${courseId}`).expect(200)).text;
  const row = rowIn(page, id)!;
  expect(row).toMatch(/class="tone-[a-z]+ recent-send recent-queued"/);
  expect(row).toContain('Queued &lt;b&gt;one&lt;/b&gt;');
  expect(row).toContain('Starting…');
  expect(row).toContain(`<form class="recent-cancel" method="post" action="/courses/${courseId}/sends/${id}/cancel">`);
  expect(row).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">/);
  expect(row).not.toContain('hx-swap-oob');
  // The wrapper boosts the rows' forms (they hold no hx-* since they are pushed too) with this response's nonce.
  expect(page).toMatch(new RegExp(`<div class="recent-wrap" hx-boost:inherited='target:"closest \\.recent-send" swap:outerHTML push:false' hx-nonce="[^"]+">\\s*<ul id="notify-${courseId}-sends"`));
  expect(page).not.toContain('Nothing sent to this course yet.');
});

test('Cancel with htmx answers the row, stopped; the send is cancelled', async () => {
  const inst = await ctx.login(instructor);
  const id = await sendFromPage(inst, 'Cancel me');
  const res = await hx(inst, `/courses/${courseId}/sends/${id}/cancel`).expect(200);
  expect(res.headers.vary).toMatch(/HX-Request/);
  expect(res.text.trim()).toMatch(new RegExp(`^<li id="send-${id}" class="tone-[a-z]+ recent-send recent-cancelled">`));
  expect(res.text).toMatch(/Cancelled at 0 of … students/);
  expect(res.text).not.toContain('/cancel');
  expect(await statusOf(id)).toBe('cancelled');
  // Again: answered as it is.
  await hx(inst, `/courses/${courseId}/sends/${id}/cancel`).expect(200);
});

test('Cancel without JavaScript: back to the row on the course page', async () => {
  const inst = await ctx.login(instructor);
  const id = await sendFromPage(inst, 'Plain cancel');
  const res = await form(inst, `/courses/${courseId}/sends/${id}/cancel`).expect(303);
  expect(res.headers.location).toBe(`/courses/${courseId}#send-${id}`);
  expect(rowIn((await inst.get(`/courses/${courseId}`).expect(200)).text, id)).toContain('recent-cancelled');
});

test('only the sender or an admin cancels, only through the send’s own course; a forged form is refused', async () => {
  const inst = await ctx.login(instructor);
  const id = await sendFromPage(inst, 'Not yours');
  const other = await ctx.createUser('instructor');
  const otherCourse = (await ctx.createCourse(other, { students: [await ctx.createUser('candidate')] })).id;
  const otherAgent = await ctx.login(other);
  await hx(otherAgent, `/courses/${courseId}/sends/${id}/cancel`).expect(404);
  await hx(otherAgent, `/courses/${otherCourse}/sends/${id}/cancel`).expect(404);
  await hx(inst, `/courses/${courseId}/sends/not-a-uuid/cancel`).expect(404);
  await inst.http.post(`/courses/${courseId}/sends/${id}/cancel`).type('form').send({}).expect(403);
  expect(await statusOf(id)).toBe('queued');
  // An admin manages every course and may stop any send.
  const admin = await ctx.login(await ctx.createUser('admin'));
  await hx(admin, `/courses/${courseId}/sends/${id}/cancel`).expect(200);
  expect(await statusOf(id)).toBe('cancelled');
});

test('an inline send’s row says whom it reached, with no Cancel; the pushed row is the page’s row', async () => {
  const small = await ctx.createUser('instructor');
  const smallCourse = (await ctx.createCourse(small, { students: [await ctx.createUser('candidate')] })).id;
  const a = await ctx.login(small);
  const [, key] = keysIn((await a.get(`/courses/${smallCourse}`).expect(200)).text);
  await hx(a, `/courses/${smallCourse}/notify`, { notification_type: 'message', title: 'Inline', message: '', idempotency_key: key }).expect(200);
  const [{ id }] = await ctx.sequelize.query<{ id: string }>("SELECT id FROM broadcasts WHERE title = 'Inline'", { type: QueryTypes.SELECT });
  const pageRow = rowIn((await a.get(`/courses/${smallCourse}`).expect(200)).text, id)!;
  expect(pageRow.replace(/\s+/g, ' ')).toMatch(/ 1 student <span class="dot-sep"/);
  expect(pageRow).not.toContain('/cancel');

  // The bell protocol's push of the same send: the same row, marked to replace itself, and nothing else.
  const send = (await ctx.services.sends.find(id))!;
  const push = createProtocols(new Renderer()).bell.sendProgress!(send, 'sender')!;
  const normalise = (html: string) => html.replace(' hx-swap-oob="outerHTML"', '').replace(/\s+/g, ' ').trim();
  expect(normalise(push)).toBe(normalise(pageRow));
});
