import { createTestContext, type TestContext } from './support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

test('apply, approve: both sides are notified', async () => {
  const instructor = await ctx.createUser('instructor');
  const candidate = await ctx.createUser('candidate');
  const course = await ctx.models.Course.create({ title: 'C1', instructorId: instructor.id });
  const cand = await ctx.login(candidate);
  const inst = await ctx.login(instructor);
  const app = await cand.post(`/api/courses/${course.id}/applications/`, { motivation: 'please' }).expect(201);
  expect((await inst.get('/api/notifications/unread_count').expect(200)).body).toEqual({ unread_count: 1 });
  await inst.post(`/api/applications/${app.body.id}/approve/`).expect(200);
  const list = await cand.get('/api/notifications/').expect(200);
  expect(list.body.unread_count).toBe(1);
  expect(list.body.results[0]).toMatchObject({ type: 'application_approved', course_id: course.id, is_read: false });
});
