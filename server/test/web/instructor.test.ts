import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { form, hx, seedPageCast } from '../support/web';

/** The instructor's pages: their courses, deciding applications, notifying students. */

let ctx: TestContext;
let instructor: User;
let candidate: User;
let student: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ instructor, candidate, student, courseId } = await seedPageCast(ctx));
});
afterAll(() => ctx.close());

describe('instructor', () => {
  let applicationId: number;
  let second: User;

  beforeAll(async () => {
    const course = await ctx.models.Course.create({ title: 'Design Systems', instructorId: instructor.id });
    const [a1, a2] = await Promise.all([ctx.createUser('candidate'), ctx.createUser('candidate')]);
    second = a2;
    applicationId = (await ctx.services.applications.apply(a1, course.id, 'Motivated <b>very</b>')).id;
    await ctx.services.applications.apply(a2, course.id, 'Also motivated');
  });

  test('my courses show enrolled and pending counts', async () => {
    const inst = await ctx.login(instructor);
    const res = await inst.get('/instructor').expect(200);
    expect(res.text).toContain('Design Systems');
    expect(res.text).toMatch(/<strong>2<\/strong> pending/);
    expect(res.text).toMatch(/<strong>1<\/strong> enrolled/);
  });

  test('approve and reject inline; a reject needs a reason; the candidate sees it', async () => {
    const inst = await ctx.login(instructor);
    const list = await inst.get('/instructor/applications?status=pending').expect(200);
    expect(list.text).toContain('Motivated &lt;b&gt;very&lt;/b&gt;');
    const approved = await hx(inst, `/instructor/applications/${applicationId}/approve`).expect(200);
    expect(approved.text.trimStart()).toMatch(new RegExp(`^<li id="application-${applicationId}"`));
    expect(approved.text).toContain('Approved');
    const twice = await hx(inst, `/instructor/applications/${applicationId}/approve`).expect(200);
    expect(twice.text).toContain('already approved');

    const other = (await ctx.services.applications.list(second)).results[0];
    const noReason = await hx(inst, `/instructor/applications/${other.id}/reject`, { reason: ' ' }).expect(422);
    expect(noReason.text).toContain('Give the candidate a reason.');
    const rejected = await hx(inst, `/instructor/applications/${other.id}/reject`, { reason: 'Course is full' }).expect(200);
    expect(rejected.text).toContain('Reason: Course is full');
    const cand = await ctx.login(second);
    expect((await cand.get('/applications').expect(200)).text).toContain('Reason: Course is full');
  });

  test('without JavaScript a decision redirects back to the list', async () => {
    const course = await ctx.models.Course.create({ title: 'No JS', instructorId: instructor.id });
    const a = await ctx.services.applications.apply(await ctx.createUser('candidate'), course.id, 'please');
    const inst = await ctx.login(instructor);
    await form(inst, `/instructor/applications/${a.id}/approve`)
      .set('Host', 'herald.test')
      .set('Referer', 'http://herald.test/instructor/applications?status=pending')
      .expect(303)
      .expect('Location', `/instructor/applications?status=pending#application-${a.id}`);
  });

  test('notify students: the sender sees how many; the one-click "course updated" works too', async () => {
    const inst = await ctx.login(instructor);
    const page = await inst.get(`/courses/${courseId}`).expect(200);
    expect(page.text).toContain('Notify students');
    const invalid = await hx(inst, `/courses/${courseId}/notify`, { notification_type: 'announcement', title: '' }).expect(422);
    expect(invalid.text).toContain('Title is required.');
    const sent = await hx(inst, `/courses/${courseId}/notify`, {
      notification_type: 'exam_result',
      title: 'Exam marks are out',
      message: 'Check your results.',
    }).expect(200);
    expect(sent.text).toMatch(/to\s+<strong>1<\/strong> student\./);
    const quick = await hx(inst, `/courses/${courseId}/notify`, { preset: 'course_update' }).expect(200);
    expect(quick.text).toContain('Realtime Web was updated');
    const noJs = await form(inst, `/courses/${courseId}/notify`, { notification_type: 'message', title: 'Hi' }).expect(303);
    expect(noJs.headers.location).toBe(`/courses/${courseId}?notified=1#notify-${courseId}`);
    const latest = (await ctx.services.notifications.bell(student.id)).latest.slice(0, 3);
    expect(latest.map((n) => n.type)).toEqual(['message', 'course_update', 'exam_result']);
    // Another instructor's course is not theirs to notify.
    const other = await ctx.login(await ctx.createUser('instructor'));
    await hx(other, `/courses/${courseId}/notify`, { preset: 'course_update' }).expect(404);
  });
});

