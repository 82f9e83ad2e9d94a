import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { Contract } from '../support/contract';
import { createTestContext, type Agent, type TestContext } from '../support/harness';

let ctx: TestContext;
let contract: Contract;
let admin: User;
let adminAgent: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  contract = await Contract.load(ctx.app);
  admin = await ctx.createUser('admin');
  adminAgent = contract.wrap(await ctx.login(admin));
});
afterAll(() => ctx.close());

interface Party {
  user: User;
  agent: Agent;
}
async function party(role: 'candidate' | 'instructor' | 'admin'): Promise<Party> {
  const user = await ctx.createUser(role);
  return { user, agent: contract.wrap(await ctx.login(user)) };
}

/** A course taught by `instructor`, with `students` enrolled. */
async function course(instructor: User, students: User[] = [], title = `Course ${Math.random().toString(36).slice(2, 8)}`) {
  const c = await ctx.models.Course.create({ title, description: `About ${title}`, instructorId: instructor.id });
  if (students.length) await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: c.id, studentId: s.id })));
  return c;
}

async function notificationsOf(user: User) {
  return ctx.sequelize.query<Record<string, unknown>>(
    'SELECT type, title, message, data, sender_id, application_id, course_id, read_at FROM notifications WHERE recipient_id = :id ORDER BY id',
    { replacements: { id: user.id }, type: QueryTypes.SELECT },
  );
}

const enrolled = async (c: Course, u: User) => (await ctx.models.Enrollment.count({ where: { courseId: c.id, studentId: u.id } })) === 1;

describe('the catalogue', () => {
  test('lists and shows courses, with the viewer’s own application and enrollment', async () => {
    const teacher = await party('instructor');
    const cand = await party('candidate');
    const applied = await course(teacher.user, [], 'Zebra Studies');
    const mine = await course(teacher.user, [cand.user], 'Aardvark Basics');
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

describe('applying', () => {
  test('a candidate applies; the instructor is notified in the same transaction', async () => {
    const teacher = await party('instructor');
    const cand = await party('candidate');
    const c = await course(teacher.user);
    ctx.published.length = 0;
    const res = await cand.agent.post(`/api/courses/${c.id}/applications/`, { motivation: '  I want to learn  ' }).expect(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      motivation: 'I want to learn',
      reason: null,
      decided_at: null,
      candidate: { id: cand.user.id },
      course: { id: c.id, instructor_id: teacher.user.id },
    });
    expect(await notificationsOf(teacher.user)).toEqual([
      expect.objectContaining({
        type: 'application_submitted',
        sender_id: cand.user.id,
        application_id: res.body.id,
        course_id: c.id,
        read_at: null,
      }),
    ]);
    expect((await teacher.agent.get('/api/notifications/unread_count').expect(200)).body.unread_count).toBe(1);
    expect(ctx.published).toEqual(
      expect.arrayContaining([{ type: 'notification.created', recipientId: teacher.user.id, id: expect.any(Number) }]),
    );
  });

  test('applying twice, or to a course one is enrolled in, is a 409; no second notice', async () => {
    const teacher = await party('instructor');
    const cand = await party('candidate');
    const c = await course(teacher.user);
    await cand.agent.post(`/api/courses/${c.id}/applications`).expect(201); // no body: an empty motivation
    const again = await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'again' }).expect(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already applied/) });
    expect(await notificationsOf(teacher.user)).toHaveLength(1);
    const member = await party('candidate');
    const c2 = await course(teacher.user, [member.user]);
    await member.agent.post(`/api/courses/${c2.id}/applications`, {}).expect(409);
  });

  test('a course title of the longest allowed length still makes a notification title that fits', async () => {
    const teacher = await party('instructor');
    const cand = await party('candidate');
    const c = await course(teacher.user, [], `${'é'.repeat(197)}🙂🙂🙂`);
    const app = (await cand.agent.post(`/api/courses/${c.id}/applications`, {}).expect(201)).body;
    await teacher.agent.post(`/api/applications/${app.id}/reject`, {}).expect(200);
    const [n] = (await cand.agent.get('/api/notifications/').expect(200)).body.results;
    expect(Array.from(n.title)).toHaveLength(200);
    expect(n.title).toMatch(/^Your application to é+…$/);
    expect((await teacher.agent.get('/api/notifications/').expect(200)).body.results[0].title).toMatch(/^New application to /);
  });

  test('only candidates apply; a missing course is a 404; a bad motivation a 400', async () => {
    const teacher = await party('instructor');
    const c = await course(teacher.user);
    await teacher.agent.post(`/api/courses/${c.id}/applications`, {}).expect(403);
    await adminAgent.post(`/api/courses/${c.id}/applications`, {}).expect(403);
    const cand = await party('candidate');
    await cand.agent.post('/api/courses/2147483647/applications', {}).expect(404);
    await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 42 }).expect(400);
    await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'x'.repeat(2001) }).expect(400);
  });
});

describe('deciding', () => {
  async function pending() {
    const teacher = await party('instructor');
    const cand = await party('candidate');
    const c = await course(teacher.user);
    const app = (await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'please' }).expect(201)).body;
    return { teacher, cand, c, app };
  }

  test('approve: enrolls the candidate and notifies them, linking the course', async () => {
    const { teacher, cand, c, app } = await pending();
    const before = (await cand.agent.get('/api/notifications/unread_count').expect(200)).body.unread_count;
    ctx.published.length = 0;
    const res = await teacher.agent.post(`/api/applications/${app.id}/approve/`).expect(200);
    expect(res.body).toMatchObject({ id: app.id, status: 'approved', decided_at: expect.any(String), reason: null });
    expect(await enrolled(c, cand.user)).toBe(true);
    const list = await cand.agent.get('/api/notifications/').expect(200);
    expect(list.body.unread_count).toBe(before + 1);
    expect(list.body.results[0]).toMatchObject({
      type: 'application_approved',
      course_id: c.id,
      course_title: c.title,
      application_id: app.id,
      sender: { id: teacher.user.id },
      is_read: false,
    });
    expect(ctx.published).toEqual(
      expect.arrayContaining([
        { type: 'notification.created', recipientId: cand.user.id, id: list.body.results[0].id },
        {
          type: 'application.changed',
          applicationId: app.id,
          status: 'approved',
          courseId: c.id,
          instructorId: teacher.user.id,
          candidateId: cand.user.id,
        },
      ]),
    );
    expect((await cand.agent.get(`/api/courses/${c.id}`).expect(200)).body.is_enrolled).toBe(true);
  });

  test('reject: keeps the reason and tells the candidate; no enrollment', async () => {
    const { teacher, cand, c, app } = await pending();
    const res = await teacher.agent.post(`/api/applications/${app.id}/reject/`, { reason: 'The course is full' }).expect(200);
    expect(res.body).toMatchObject({ status: 'rejected', reason: 'The course is full' });
    expect(await enrolled(c, cand.user)).toBe(false);
    const [n] = (await cand.agent.get('/api/notifications/?type=application_rejected').expect(200)).body.results;
    expect(n.message).toContain('The course is full');
    expect(n.data).toMatchObject({ reason: 'The course is full', course_id: c.id, application_id: app.id });

    const other = await pending();
    const plain = await other.teacher.agent.post(`/api/applications/${other.app.id}/reject`).expect(200);
    expect(plain.body.reason).toBeNull();
  });

  test('only a pending application can be decided (409), and nothing is notified twice', async () => {
    const { teacher, cand, app } = await pending();
    await teacher.agent.post(`/api/applications/${app.id}/approve`).expect(200);
    const again = await teacher.agent.post(`/api/applications/${app.id}/approve`).expect(409);
    expect(again.body.error.details).toEqual({ status: 'approved' });
    await teacher.agent.post(`/api/applications/${app.id}/reject`, { reason: 'late' }).expect(409);
    expect((await notificationsOf(cand.user)).filter((n) => String(n.type).startsWith('application_'))).toHaveLength(1);
  });

  test('another instructor gets a 404, a candidate a 403; an admin may decide', async () => {
    const { cand, app } = await pending();
    const stranger = await party('instructor');
    await stranger.agent.post(`/api/applications/${app.id}/approve`).expect(404);
    await stranger.agent.post(`/api/applications/${app.id}/reject`, { reason: 'no' }).expect(404);
    await stranger.agent.get(`/api/applications/${app.id}`).expect(404);
    await cand.agent.post(`/api/applications/${app.id}/approve`).expect(403);
    await cand.agent.post(`/api/applications/${app.id}/reject`, {}).expect(403);
    await adminAgent.post(`/api/applications/${app.id}/approve`).expect(200);
    await adminAgent.post('/api/applications/2147483647/approve').expect(404);
  });

  test('the decision and its notification commit together: a failing notice undoes the approval', async () => {
    const { teacher, cand, c, app } = await pending();
    // Make the notification insert fail for this candidate only.
    await ctx.sequelize.query(`
      CREATE FUNCTION test_refuse_notice() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.recipient_id = ${cand.user.id} THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER test_refuse_notice BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION test_refuse_notice();
    `);
    try {
      ctx.published.length = 0;
      const res = await teacher.agent.http.post(`/api/applications/${app.id}/approve`).set('X-CSRF-Token', teacher.agent.csrf);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal_error', message: expect.any(String), details: null } });
      expect(res.text).not.toMatch(/refused for the test|at .*\.ts/);
    } finally {
      await ctx.sequelize.query('DROP TRIGGER test_refuse_notice ON notifications; DROP FUNCTION test_refuse_notice();');
    }
    expect((await teacher.agent.get(`/api/applications/${app.id}`).expect(200)).body.status).toBe('pending');
    expect(await enrolled(c, cand.user)).toBe(false);
    expect(ctx.published).toEqual([]); // nothing announced for a rolled-back change
  });
});

describe('listing applications', () => {
  test('a candidate sees their own, an instructor their courses’, an admin all', async () => {
    const t1 = await party('instructor');
    const t2 = await party('instructor');
    const c1 = await course(t1.user);
    const c2 = await course(t2.user);
    const a = await party('candidate');
    const b = await party('candidate');
    const a1 = (await a.agent.post(`/api/courses/${c1.id}/applications`, {}).expect(201)).body.id;
    const a2 = (await a.agent.post(`/api/courses/${c2.id}/applications`, {}).expect(201)).body.id;
    const b1 = (await b.agent.post(`/api/courses/${c1.id}/applications`, {}).expect(201)).body.id;
    await t1.agent.post(`/api/applications/${b1}/reject`, { reason: 'no' }).expect(200);

    const ids = async (agent: Agent, url = '/api/applications/') =>
      (await agent.get(url).expect(200)).body.results.map((x: { id: number }) => x.id).sort();
    expect(await ids(a.agent)).toEqual([a1, a2].sort());
    expect(await ids(b.agent)).toEqual([b1]);
    expect(await ids(t1.agent)).toEqual([a1, b1].sort());
    expect(await ids(t2.agent)).toEqual([a2]);
    expect(await ids(adminAgent)).toEqual(expect.arrayContaining([a1, a2, b1]));
    expect(await ids(t1.agent, '/api/applications?status=pending')).toEqual([a1]);
    expect(await ids(adminAgent, `/api/applications?course_id=${c2.id}`)).toEqual([a2]);
    const page = await t1.agent.get('/api/applications?limit=1&offset=1').expect(200);
    expect(page.body).toMatchObject({ total: 2, results: [expect.any(Object)] });
    // Pending first.
    expect((await t1.agent.get('/api/applications').expect(200)).body.results[0].status).toBe('pending');
    await b.agent.get(`/api/applications/${a1}`).expect(404);
    expect((await a.agent.get(`/api/applications/${a1}/`).expect(200)).body.id).toBe(a1);
  });
});

describe('enrolling and notifying students', () => {
  test('an admin (or the instructor) enrolls a student, who is notified once', async () => {
    const teacher = await party('instructor');
    const student = await party('candidate');
    const c = await course(teacher.user);
    const res = await adminAgent.post(`/api/courses/${c.id}/enrollments/`, { student_id: student.user.id }).expect(201);
    expect(res.body).toEqual({ course_id: c.id, student_id: student.user.id });
    expect(await enrolled(c, student.user)).toBe(true);
    await teacher.agent.post(`/api/courses/${c.id}/enrollments`, { student_id: student.user.id }).expect(201); // again: no-op
    const notes = (await student.agent.get('/api/notifications/').expect(200)).body.results;
    expect(notes).toEqual([expect.objectContaining({ type: 'course_enrollment', course_id: c.id, sender: expect.objectContaining({ id: admin.id }) })]);
  });

  test('enrolling: others are refused, unknown students are a 404', async () => {
    const teacher = await party('instructor');
    const c = await course(teacher.user);
    const student = await party('candidate');
    const stranger = await party('instructor');
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
    const teacher = await party('instructor');
    const students = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
    const outsider = await ctx.createUser('candidate');
    const c = await course(teacher.user, students);
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
      expect(await notificationsOf(s)).toEqual([
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
    expect(await notificationsOf(outsider)).toEqual([]);
    expect(ctx.published).toEqual([
      { type: 'notification.fanout', batchId: res.body.batch_id, count: 3, courseId: c.id, notificationType: 'exam_result' },
    ]);
    // The course's broadcasts list the send, so its instructor can see it went out.
    expect((await teacher.agent.get(`/api/courses/${c.id}/broadcasts/`).expect(200)).body.results).toEqual([
      expect.objectContaining({ id: res.body.batch_id, type: 'exam_result', title: 'Results are out', recipients: 3 }),
    ]);
    // A course without students: nobody to notify, nothing announced.
    const empty = await course(teacher.user);
    expect((await teacher.agent.post(`/api/courses/${empty.id}/notify-students`, { notification_type: 'message', title: 'Hi' }).expect(201)).body).toMatchObject({ recipients: 0 });
  });

  test('notify-students: only the course’s instructor or an admin, only broadcast types', async () => {
    const teacher = await party('instructor');
    const student = await party('candidate');
    const c = await course(teacher.user, [student.user]);
    const body = { notification_type: 'announcement', title: 'Hello' };
    const stranger = await party('instructor');
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
    expect(await notificationsOf(student.user)).toHaveLength(1);
  });
});

test('every course and application endpoint answered 2xx in this file', () => {
  expect(contract.unexercised('/api/courses', '/api/applications')).toEqual([]);
});
