import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';
import { form as formPost, hx as hxPost } from '../support/web';

let ctx: TestContext;
let instructor: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  instructor = await ctx.createUser('instructor', { name: 'Ines Teacher' });
  const students = await Promise.all([1, 2].map(() => ctx.createUser('candidate')));
  const course = await ctx.createCourse(instructor, { title: 'Panel course', students });
  courseId = course.id;
});
afterAll(() => ctx.close());

const hx = (a: Agent, body: Record<string, string>) => hxPost(a, `/courses/${courseId}/notify`, body);
const form = (a: Agent, body: Record<string, string>) => formPost(a, `/courses/${courseId}/notify`, body);

/** The hidden keys of the panel's two forms, in document order (the one-click update, then the full form). */
const keysIn = (html: string) => [...html.matchAll(/<input type="hidden" name="idempotency_key" value="([^"]+)">/g)].map((m) => m[1]);
/** The "Recently sent" list items. */
const recentIn = (html: string) => [...html.matchAll(/<li id="send-[^"]+" class="tone-[a-z]+[^"]*">([\s\S]*?)<\/li>/g)].map((m) => m[1].replace(/\s+/g, ' ').trim());

async function copies(title: string): Promise<number> {
  const [row] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE title = :title', {
    replacements: { title },
    type: QueryTypes.SELECT,
  });
  return Number(row.n);
}

test('each form carries its own fresh key; nothing sent yet says so', async () => {
  const inst = await ctx.login(instructor);
  const page = await inst.get(`/courses/${courseId}`).expect(200);
  const keys = keysIn(page.text);
  expect(keys).toHaveLength(2);
  for (const k of keys) expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(keys[0]).not.toBe(keys[1]);
  expect(page.text).toContain('Recently sent');
  expect(page.text).toContain('Nothing sent to this course yet.');
  const again = keysIn((await inst.get(`/courses/${courseId}`).expect(200)).text);
  expect(again.filter((k) => keys.includes(k))).toEqual([]);
  // The panel's htmx forms carry this response's nonce, as every hx-* element does.
  const nonce = /script-src 'nonce-([^']+)'/.exec(page.headers['content-security-policy'])![1];
  for (const m of page.text.matchAll(/<form [^>]*hx-post[^>]*>/g)) expect(m[0]).toContain(`hx-nonce="${nonce}"`);
});

test('a double submit with the same key sends once; the panel then lists it, escaped, and hands out new keys', async () => {
  const inst = await ctx.login(instructor);
  const [, key] = keysIn((await inst.get(`/courses/${courseId}`).expect(200)).text);
  const body = { notification_type: 'exam_result', title: 'Marks <b>out</b>', message: 'Check.', idempotency_key: key };
  const first = await hx(inst, body).expect(200);
  expect(first.text).toMatch(/Sent “Marks &lt;b&gt;out&lt;\/b&gt;” to\s+<strong>2<\/strong> students\./);
  const second = await hx(inst, body).expect(200);
  expect(second.text).toMatch(/Already sent “Marks &lt;b&gt;out&lt;\/b&gt;” to\s+<strong>2<\/strong> students\. Nothing was sent twice\./);
  expect(await copies('Marks <b>out</b>')).toBe(2);

  const recent = recentIn(second.text);
  expect(recent).toHaveLength(1);
  expect(recent[0]).toContain('Exam result</span> Marks &lt;b&gt;out&lt;/b&gt;');
  expect(recent[0]).toMatch(/2 students .*<time datetime="[^"]+Z" title="[^"]+ UTC">just now<\/time>/);
  expect(second.text).not.toContain('<b>out</b>');
  const next = keysIn(second.text);
  expect(next).toHaveLength(2);
  expect(next).not.toContain(key);
});

test('without JavaScript: resubmitting the posted form (after a crash, say) sends once too', async () => {
  const inst = await ctx.login(instructor);
  const [quickKey] = keysIn((await inst.get(`/courses/${courseId}`).expect(200)).text);
  for (let i = 0; i < 2; i += 1) {
    const res = await form(inst, { preset: 'course_update', idempotency_key: quickKey }).expect(303);
    expect(res.headers.location).toBe(`/courses/${courseId}?notified=2#notify-${courseId}`);
  }
  expect(await copies('Panel course was updated')).toBe(2);
  const page = await inst.get(`/courses/${courseId}?notified=2`).expect(200);
  const recent = recentIn(page.text);
  // Newest first, each send once: the update, then the exam marks of the test before.
  expect(recent).toHaveLength(2);
  expect(recent[0]).toContain('Course update</span> Panel course was updated');
  expect(recent[1]).toContain('Exam result</span>');
});

test('a tampered key is refused and sends nothing', async () => {
  const inst = await ctx.login(instructor);
  const res = await hx(inst, { notification_type: 'message', title: 'Tampered', idempotency_key: 'x'.repeat(101) }).expect(400);
  expect(res.text).toContain('This form is out of date.');
  expect(await copies('Tampered')).toBe(0);
});

test('another instructor sees neither the panel nor its list', async () => {
  const other = await ctx.login(await ctx.createUser('instructor'));
  const page = await other.get(`/courses/${courseId}`).expect(200);
  expect(page.text).not.toContain('Recently sent');
  expect(keysIn(page.text)).toEqual([]);
});
