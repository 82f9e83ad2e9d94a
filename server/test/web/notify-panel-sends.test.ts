/**
 * The instructor's notify panel for a send above SEND_INLINE_MAX (issue 17; 1 here): the answer comes before any
 * row is written, so the panel says the send goes out in parts instead of "Sent to 0 students".
 */
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
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
