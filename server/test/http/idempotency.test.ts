import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { createApiContext, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';
import { withContent } from '../support/content';

/**
 * Issue 10.6: an Idempotency-Key stands for one request (method, path, body). The same request again replays the
 * first answer and changes nothing; the same key with another request is a 409 `idempotency_key_reused` that
 * changes nothing either. Honoured on every POST that creates notifications or records.
 */

let ctx: ApiContext;
let teacher: User;
let teacherAgent: Agent;
let adminAgent: Agent;
let students: User[];
let courseA: Course;
let courseB: Course;

beforeAll(async () => {
  ctx = await createApiContext();
  teacher = await ctx.createUser('instructor');
  teacherAgent = await ctx.loginChecked(teacher);
  adminAgent = await ctx.loginChecked(await ctx.createUser('admin'));
  students = await Promise.all([1, 2].map(() => ctx.createUser('candidate')));
  courseA = await ctx.models.Course.create({ title: 'Course A', instructorId: teacher.id });
  courseB = await ctx.models.Course.create({ title: 'Course B', instructorId: teacher.id });
  for (const c of [courseA, courseB]) {
    await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: c.id, studentId: s.id })));
  }
});
afterAll(() => ctx.close());

const keyed = (t: ReturnType<Agent['post']>, key: string) => t.set('Idempotency-Key', key);
const announcement = (title: string) => ({ notification_type: 'announcement', title, message: 'Hello' });
const titled = async (title: string) =>
  Number(
    (
      await ctx.sequelize.query<{ n: string }>(`SELECT count(*) AS n FROM ${withContent()} WHERE title = :title`, {
        replacements: { title },
        type: QueryTypes.SELECT,
      })
    )[0].n,
  );

describe('10.6 an Idempotency-Key is tied to its request', () => {
  test('notify-students: the key reused for another course or other content is a 409 and sends nothing', async () => {
    const first = await keyed(teacherAgent.post(`/api/courses/${courseA.id}/notify-students`, announcement('Tied')), 'k-notify').expect(201);
    const otherCourse = await keyed(teacherAgent.post(`/api/courses/${courseB.id}/notify-students`, announcement('Tied')), 'k-notify').expect(409);
    expect(otherCourse.body.error.code).toBe('idempotency_key_reused');
    const otherContent = await keyed(teacherAgent.post(`/api/courses/${courseA.id}/notify-students`, announcement('Other')), 'k-notify').expect(409);
    expect(otherContent.body.error.code).toBe('idempotency_key_reused');
    expect(await titled('Tied')).toBe(2);
    expect(await titled('Other')).toBe(0);
    // The same request (a trailing slash and key order do not make it another) still replays the first answer.
    const again = await keyed(teacherAgent.post(`/api/courses/${courseA.id}/notify-students/`, { message: 'Hello', title: 'Tied', notification_type: 'announcement' }), 'k-notify').expect(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(await titled('Tied')).toBe(2);
  });

  test('admin compose honours the key: a repeat sends nothing, another request under it is a 409', async () => {
    const body = { audience: { kind: 'course', course_id: courseA.id }, ...announcement('Composed') };
    const first = await keyed(adminAgent.post('/api/admin/notifications/send', body), 'k-compose').expect(200);
    expect(first.body).toEqual({ recipients: 2 });
    const again = await keyed(adminAgent.post('/api/admin/notifications/send', body), 'k-compose').expect(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await titled('Composed')).toBe(2);
    const other = await keyed(adminAgent.post('/api/admin/notifications/send', { ...body, audience: { kind: 'all' } }), 'k-compose').expect(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await titled('Composed')).toBe(2);
  });

  test('applications: a retry replays the created application; the key on another course is a 409', async () => {
    const candidate = await ctx.createUser('candidate');
    const agent = await ctx.loginChecked(candidate);
    const first = await keyed(agent.post(`/api/courses/${courseA.id}/applications`, { motivation: 'Keen' }), 'k-apply').expect(201);
    const again = await keyed(agent.post(`/api/courses/${courseA.id}/applications`, { motivation: 'Keen' }), 'k-apply').expect(201);
    expect(again.body).toEqual(first.body);
    const other = await keyed(agent.post(`/api/courses/${courseB.id}/applications`, { motivation: 'Keen' }), 'k-apply').expect(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await ctx.models.Application.count({ where: { candidateId: candidate.id } })).toBe(1);
  });

  test('enrollments: the key for another student is a 409 and enrolls nobody', async () => {
    const [a, b] = await Promise.all([ctx.createUser('candidate'), ctx.createUser('candidate')]);
    await keyed(adminAgent.post(`/api/courses/${courseB.id}/enrollments`, { student_id: a.id }), 'k-enroll').expect(201);
    const other = await keyed(adminAgent.post(`/api/courses/${courseB.id}/enrollments`, { student_id: b.id }), 'k-enroll').expect(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await ctx.models.Enrollment.count({ where: { courseId: courseB.id, studentId: b.id } })).toBe(0);
  });

  test('keys are per user: the same key from two users is two requests', async () => {
    const other = await ctx.loginChecked(await ctx.createUser('admin'));
    const body = { audience: { kind: 'user', user_id: students[0].id }, ...announcement('Per user') };
    await keyed(adminAgent.post('/api/admin/notifications/send', body), 'k-shared').expect(200);
    await keyed(other.post('/api/admin/notifications/send', body), 'k-shared').expect(200);
    expect(await titled('Per user')).toBe(2);
  });
});
