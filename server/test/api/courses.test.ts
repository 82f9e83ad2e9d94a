import type { User } from '../../models';
import { createApiContext, isEnrolled, notificationsOf, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';

/** The course catalogue, enrolling students and notifying them (applications: applications.test.ts). */

let ctx: ApiContext;
let admin: User;
let adminAgent: Agent;

beforeAll(async () => {
  ctx = await createApiContext();
  ({ user: admin, agent: adminAgent } = await ctx.party('admin'));
});
afterAll(() => ctx.close());

describe('the catalogue', () => {
  test('lists and shows courses, with the viewer’s own application and enrollment', async () => {
    const teacher = await ctx.party('instructor');
    const cand = await ctx.party('candidate');
    const applied = await ctx.createCourse(teacher.user, { title: 'Zebra Studies' });
    const mine = await ctx.createCourse(teacher.user, { students: [cand.user], title: 'Aardvark Basics' });
    await cand.agent.post(`/api/courses/${applied.id}/applications/`, { motivation: 'hi' }).expect(201);

    const list = await cand.agent.get('/api/courses/').expect(200);
    const byId = new Map(list.body.results.map((c: { id: number }) => [c.id, c]));
    expect(byId.get(applied.id)).toMatchObject({ my_application: { status: 'pending' }, is_enrolled: false, pending_count: 1 });
    expect(byId.get(mine.id)).toMatchObject({
      title: 'Aardvark Basics',
      instructor: { id: teacher.user.id, name: teacher.user.name },
      enrolled_count: 1,
      my_application: null,
      is_enrolled: true,
    });
    const found = await cand.agent.get('/api/courses?q=aardvark').expect(200);
    expect(found.body.results.map((c: { id: number }) => c.id)).toEqual([mine.id]);
    // LIKE wildcards in q are literal characters.
    expect((await cand.agent.get('/api/courses/?q=%25').expect(200)).body.results).toEqual([]);
    expect((await cand.agent.get(`/api/courses/${mine.id}/`).expect(200)).body.id).toBe(mine.id);
    await cand.agent.get('/api/courses/2147483647').expect(404);
  });
});

describe('enrolling and notifying students', () => {
  test('an admin (or the instructor) enrolls a student, who is notified once', async () => {
    const teacher = await ctx.party('instructor');
    const student = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user);
    const res = await adminAgent.post(`/api/courses/${c.id}/enrollments/`, { student_id: student.user.id }).expect(201);
    expect(res.body).toEqual({ course_id: c.id, student_id: student.user.id });
    expect(await isEnrolled(ctx, c, student.user)).toBe(true);
    await teacher.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: student.user.id }).expect(201); // again: no-op
    const notes = (await student.agent.get('/api/notifications/').expect(200)).body.results;
    expect(notes).toEqual([expect.objectContaining({ type: 'course_enrollment', course_id: c.id, sender: expect.objectContaining({ id: admin.id }) })]);
  });

  test('enrolling: others are refused, unknown students are a 404', async () => {
    const teacher = await ctx.party('instructor');
    const c = await ctx.createCourse(teacher.user);
    const student = await ctx.party('candidate');
    const stranger = await ctx.party('instructor');
    // Another instructor's course is the same 404 as an unknown student (issue 10.5): the answer reveals no ids.
    await stranger.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: student.user.id }).expect(404);
    await student.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: student.user.id }).expect(403);
    await teacher.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: 2147483647 }).expect(404);
    await teacher.agent.post(`/api/courses/${c.id}/enrollments`, {}).expect(400);
    // Only active candidates can be enrolled, and the answer does not tell an instructor's id from a missing one.
    const inactive = await ctx.createUser('candidate', { isActive: false });
    for (const other of [stranger.user, admin, inactive]) {
      await teacher.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: other.id }).expect(404);
    }
    const [rows] = await ctx.sequelize.query(`SELECT 1 FROM enrollments WHERE course_id = ${c.id}`);
    expect(rows).toHaveLength(0);
  });

  test('notify-students reaches every enrolled student once, and nobody else', async () => {
    const teacher = await ctx.party('instructor');
    const students = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
    const outsider = await ctx.createUser('candidate');
    const c = await ctx.createCourse(teacher.user, { students });
    ctx.published.length = 0;
    const res = await teacher.agent
      .post(`/api/courses/${c.id}/notify-students/`, {
        notification_type: 'exam_result',
        title: 'Results are out',
        message: 'Check your grade.',
        data: { exam: 'midterm', max: 20 },
      })
      .expect(201);
    expect(res.body).toEqual({ recipients: 3, batch_id: expect.any(String), replayed: false });
    for (const s of students) {
      expect(await notificationsOf(ctx, s)).toEqual([
        expect.objectContaining({
          type: 'exam_result',
          title: 'Results are out',
          message: 'Check your grade.',
          data: { exam: 'midterm', max: 20, course_id: c.id },
          sender_id: teacher.user.id,
          course_id: c.id,
        }),
      ]);
    }
    expect(await notificationsOf(ctx, outsider)).toEqual([]);
    expect(ctx.published).toEqual([
      { type: 'notification.fanout', batchId: res.body.batch_id, count: 3, courseId: c.id, notificationType: 'exam_result' },
    ]);
    // The course's broadcasts list the send, so its instructor can see it went out.
    expect((await teacher.agent.get(`/api/courses/${c.id}/broadcasts/`).expect(200)).body.results).toEqual([
      expect.objectContaining({ id: res.body.batch_id, type: 'exam_result', title: 'Results are out', recipients: 3, status: 'finished', total: 3 }),
    ]);
    // A course without students: nobody to notify, nothing announced.
    const empty = await ctx.createCourse(teacher.user);
    expect((await teacher.agent.post(`/api/courses/${empty.id}/notify-students`, { notification_type: 'message', title: 'Hi' }).expect(201)).body).toMatchObject({ recipients: 0 });
  });

  test('notify-students: only the course’s instructor or an admin, only broadcast types', async () => {
    const teacher = await ctx.party('instructor');
    const student = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user, { students: [student.user] });
    const body = { notification_type: 'announcement', title: 'Hello' };
    const stranger = await ctx.party('instructor');
    expect((await stranger.agent.post(`/api/courses/${c.id}/notify-students`, body).expect(404)).body.error.code).toBe('not_found');
    await student.agent.post(`/api/courses/${c.id}/notify-students`, body).expect(403);
    expect((await adminAgent.post(`/api/courses/${c.id}/notify-students`, body).expect(201)).body).toMatchObject({ recipients: 1 });
    await teacher.agent.post('/api/courses/2147483647/notify-students', body).expect(404);
    for (const bad of [
      { ...body, notification_type: 'application_approved' },
      { ...body, title: '   ' },
      { ...body, title: 'x'.repeat(201) },
      { ...body, data: [] },
      { ...body, data: { big: 'x'.repeat(5000) } },
      { notification_type: 'announcement' },
    ]) {
      const res = await teacher.agent.post(`/api/courses/${c.id}/notify-students`, bad).expect(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details).toEqual(expect.arrayContaining([{ field: expect.any(String), message: expect.any(String) }]));
    }
    expect(await notificationsOf(ctx, student.user)).toHaveLength(1);
  });
});

test('every course endpoint answered 2xx in this file', () => {
  expect(ctx.contract.unexercised('/api/courses')).toEqual([]);
});
