import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { createApiContext, refuseNotificationsTo, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';

let ctx: ApiContext;
let teacher: User;
let agent: Agent;

/** A course with `n` freshly created students enrolled, written set-based. */
async function courseWithStudents(n: number, tag: string) {
  const course = await ctx.models.Course.create({ title: `Fan-out ${tag}`, instructorId: teacher.id });
  await ctx.sequelize.query(
    `WITH s AS (
       INSERT INTO users (email, name, role, password_hash)
       SELECT 'fan-' || :tag || '-' || i || '@test.example', 'Student ' || i, 'candidate', 'x'
         FROM generate_series(1, :n) AS i
       RETURNING id)
     INSERT INTO enrollments (course_id, student_id) SELECT :courseId, id FROM s`,
    { replacements: { n, tag, courseId: course.id } },
  );
  return course;
}

async function countFor(courseId: number, title: string) {
  const [row] = await ctx.sequelize.query<{ n: string; recipients: string }>(
    `SELECT count(*) AS n, count(DISTINCT recipient_id) AS recipients FROM notifications WHERE course_id = :courseId AND title = :title`,
    { replacements: { courseId, title }, type: QueryTypes.SELECT },
  );
  return { rows: Number(row.n), recipients: Number(row.recipients) };
}

beforeAll(async () => {
  ctx = await createApiContext();
  teacher = await ctx.createUser('instructor');
  agent = await ctx.loginChecked(teacher);
});
afterAll(() => ctx.close());

const message = (title: string) => ({ notification_type: 'announcement', title, message: 'To everyone', data: { week: 3 } });

test('notify-students to 10,000 students: the same statements as to 10, each student once', async () => {
  const small = await courseWithStudents(10, 'small');
  const big = await courseWithStudents(10_000, 'big');

  const toSmall = await ctx.countStatements(() => agent.post(`/api/courses/${small.id}/notify-students/`, message('Hello')).expect(201));
  const started = Date.now();
  const toBig = await ctx.countStatements(() => agent.post(`/api/courses/${big.id}/notify-students/`, message('Hello')).expect(201));
  const elapsed = Date.now() - started;

  expect(toSmall.result.body).toEqual({ recipients: 10, batch_id: expect.any(String), replayed: false });
  expect(toBig.result.body).toEqual({ recipients: 10_000, batch_id: expect.any(String), replayed: false });
  expect(toBig.statements.length).toBe(toSmall.statements.length);
  expect(toBig.statements.length).toBeLessThanOrEqual(4);
  // The rows are written by exactly one INSERT ... SELECT.
  expect(toBig.statements.filter((s) => /INSERT INTO notifications/.test(s))).toHaveLength(1);
  expect(toBig.statements.find((s) => /INSERT INTO notifications/.test(s))).toMatch(/SELECT/);
  expect(await countFor(big.id, 'Hello')).toEqual({ rows: 10_000, recipients: 10_000 });
  expect(elapsed).toBeLessThan(5_000);
});

test('a fan-out commits all rows or none', async () => {
  const course = await courseWithStudents(10_000, 'atomic');
  // The 9,000th student's row fails to insert: the statement, and so every row of it, must roll back.
  const [victim] = await ctx.sequelize.query<{ student_id: number }>(
    'SELECT student_id FROM enrollments WHERE course_id = :c ORDER BY student_id OFFSET 8999 LIMIT 1',
    { replacements: { c: course.id }, type: QueryTypes.SELECT },
  );
  const restore = await refuseNotificationsTo(ctx, victim.student_id);
  ctx.published.length = 0;
  try {
    const res = await agent.http.post(`/api/courses/${course.id}/notify-students`).set('X-CSRF-Token', agent.csrf).send(message('Doomed'));
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'internal_error', message: expect.any(String), details: null });
  } finally {
    await restore();
  }
  expect(await countFor(course.id, 'Doomed')).toEqual({ rows: 0, recipients: 0 });
  expect(ctx.published).toEqual([]);

  await agent.post(`/api/courses/${course.id}/notify-students`, message('Retried')).expect(201);
  expect(await countFor(course.id, 'Retried')).toEqual({ rows: 10_000, recipients: 10_000 });
  expect(ctx.published).toEqual([expect.objectContaining({ type: 'notification.fanout', count: 10_000 })]);
});
