import type { Course, User } from '../../models';
import { createApiContext, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';

/**
 * Issue 10.5: who may enroll whom with `POST /api/courses/:id/enrollments`. An admin: any active candidate. The
 * course's instructor: an active candidate who applied to that course (whatever became of the application), or
 * one already enrolled in it (a no-op). Every other case is the same 404, so the answer reveals no ids.
 */

let ctx: ApiContext;
let teacher: User;
let teacherAgent: Agent;
let adminAgent: Agent;
let c: Course;

beforeAll(async () => {
  ctx = await createApiContext();
  teacher = await ctx.createUser('instructor');
  teacherAgent = await ctx.loginChecked(teacher);
  adminAgent = await ctx.loginChecked(await ctx.createUser('admin'));
  c = await ctx.models.Course.create({ title: 'Enrolling', instructorId: teacher.id });
});
afterAll(() => ctx.close());

const enroll = (agent: Agent, student: User | number, course = c) =>
  agent.post(`/api/courses/${course.id}/enrollments`, { student_id: typeof student === 'number' ? student : student.id });
const isEnrolled = async (u: User, course = c) =>
  (await ctx.models.Enrollment.count({ where: { courseId: course.id, studentId: u.id } })) === 1;
const notices = (u: User) => ctx.models.Notification.count({ where: { recipientId: u.id, type: 'course_enrollment' } });

describe('10.5 instructors can enroll any active candidate by id', () => {
  test('an instructor cannot enroll a candidate who never applied to the course: the same 404 as an unknown id', async () => {
    const stranger = await ctx.createUser('candidate');
    const unknown = await enroll(teacherAgent, 2147483647).expect(404);
    const res = await enroll(teacherAgent, stranger).expect(404);
    expect(res.body).toEqual(unknown.body);
    expect(await isEnrolled(stranger)).toBe(false);
    expect(await notices(stranger)).toBe(0);
  });

  test('an application to another course does not count', async () => {
    const elsewhere = await ctx.models.Course.create({ title: 'Elsewhere', instructorId: teacher.id });
    const candidate = await ctx.createUser('candidate');
    await ctx.models.Application.create({ courseId: elsewhere.id, candidateId: candidate.id });
    await enroll(teacherAgent, candidate).expect(404);
    expect(await isEnrolled(candidate)).toBe(false);
  });

  test('the instructor enrolls a candidate who applied (pending or rejected), who is told once', async () => {
    for (const status of ['pending', 'rejected'] as const) {
      const candidate = await ctx.createUser('candidate');
      await ctx.models.Application.create({ courseId: c.id, candidateId: candidate.id, status });
      expect((await enroll(teacherAgent, candidate).expect(201)).body).toEqual({ course_id: c.id, student_id: candidate.id });
      await enroll(teacherAgent, candidate).expect(201); // again: nothing new
      expect(await isEnrolled(candidate)).toBe(true);
      expect(await notices(candidate)).toBe(1);
    }
  });

  test('an applicant who is not an active candidate any more, or another instructor’s course, is the same 404', async () => {
    const gone = await ctx.createUser('candidate');
    await ctx.models.Application.create({ courseId: c.id, candidateId: gone.id });
    await gone.update({ isActive: false });
    const promoted = await ctx.createUser('candidate');
    await ctx.models.Application.create({ courseId: c.id, candidateId: promoted.id });
    await promoted.update({ role: 'instructor' });
    const unknown = (await enroll(teacherAgent, 2147483647).expect(404)).body;
    for (const u of [gone, promoted]) expect((await enroll(teacherAgent, u).expect(404)).body).toEqual(unknown);

    const other = await ctx.createUser('instructor');
    const otherAgent = await ctx.loginChecked(other);
    const applicant = await ctx.createUser('candidate');
    await ctx.models.Application.create({ courseId: c.id, candidateId: applicant.id });
    expect((await enroll(otherAgent, applicant).expect(404)).body).toEqual(unknown);
    expect(await isEnrolled(applicant)).toBe(false);
  });

  test('an admin enrolls any active candidate, and no one else', async () => {
    const candidate = await ctx.createUser('candidate');
    await enroll(adminAgent, candidate).expect(201);
    expect(await isEnrolled(candidate)).toBe(true);
    const inactive = await ctx.createUser('candidate', { isActive: false });
    for (const u of [inactive, teacher, 2147483647]) await enroll(adminAgent, u).expect(404);
  });
});
