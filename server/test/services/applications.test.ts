import { createTestContext, type TestContext } from '../support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

async function pending() {
  const instructor = await ctx.createUser('instructor');
  const candidate = await ctx.createUser('candidate');
  const course = await ctx.models.Course.create({ title: 'Race', instructorId: instructor.id });
  const app = await ctx.services.applications.apply(candidate, course.id, 'please');
  return { instructor, candidate, course, app };
}

test('applying and deciding are one statement each', async () => {
  const instructor = await ctx.createUser('instructor');
  const candidate = await ctx.createUser('candidate');
  const course = await ctx.models.Course.create({ title: 'One trip', instructorId: instructor.id });
  const applied = await ctx.countStatements(() => ctx.services.applications.apply(candidate, course.id, 'hi'));
  expect(applied.statements).toHaveLength(1);
  const decided = await ctx.countStatements(() => ctx.services.applications.approve(instructor, applied.result.id));
  expect(decided.statements).toHaveLength(1);
  expect(decided.statements[0]).toMatch(/FOR UPDATE OF a\b/);
  expect(decided.result).toMatchObject({ status: 'approved', candidate: { id: candidate.id }, course: { id: course.id } });
});

test('two deciders racing on one application: exactly one wins, one notice, one enrollment', async () => {
  const { instructor, candidate, course, app } = await pending();
  const admin = await ctx.createUser('admin');
  ctx.published.length = 0;
  const results = await Promise.allSettled([
    ctx.services.applications.approve(instructor, app.id),
    ctx.services.applications.reject(admin, app.id, 'full'),
    ctx.services.applications.approve(admin, app.id),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(won).toHaveLength(1);
  expect(lost.map((r) => (r.reason as { status?: number }).status)).toEqual([409, 409]);
  const notices = await ctx.models.Notification.count({ where: { recipientId: candidate.id, applicationId: app.id } });
  expect(notices).toBe(1);
  expect(ctx.published.filter((e) => e.type === 'notification.created' && e.recipientId === candidate.id)).toHaveLength(1);
  const enrolled = await ctx.models.Enrollment.count({ where: { courseId: course.id, studentId: candidate.id } });
  const winner = (won[0] as PromiseFulfilledResult<{ status: string }>).value.status;
  expect(enrolled).toBe(winner === 'approved' ? 1 : 0);
});

test('approving a candidate who is already enrolled keeps the one enrollment', async () => {
  const { instructor, candidate, course, app } = await pending();
  await ctx.models.Enrollment.create({ courseId: course.id, studentId: candidate.id });
  await expect(ctx.services.applications.approve(instructor, app.id)).resolves.toMatchObject({ status: 'approved' });
  expect(await ctx.models.Enrollment.count({ where: { courseId: course.id, studentId: candidate.id } })).toBe(1);
});
