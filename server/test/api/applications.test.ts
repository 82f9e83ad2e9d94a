import type { User } from '../../models';
import { createApiContext, isEnrolled, notificationsOf, refuseNotificationsTo, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';

/** Applying to a course, deciding and listing applications (the catalogue and enrolling: courses.test.ts). */

let ctx: ApiContext;
let adminAgent: Agent;

beforeAll(async () => {
  ctx = await createApiContext();
  adminAgent = await ctx.loginChecked(await ctx.createUser('admin'));
});
afterAll(() => ctx.close());

describe('applying', () => {
  test('a candidate applies; the instructor is notified in the same transaction', async () => {
    const teacher = await ctx.party('instructor');
    const cand = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user);
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
    expect(await notificationsOf(ctx, teacher.user)).toEqual([
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
    const teacher = await ctx.party('instructor');
    const cand = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user);
    await cand.agent.post(`/api/courses/${c.id}/applications`).expect(201); // no body: an empty motivation
    const again = await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'again' }).expect(409);
    expect(again.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/already applied/) });
    expect(await notificationsOf(ctx, teacher.user)).toHaveLength(1);
    const member = await ctx.party('candidate');
    const c2 = await ctx.createCourse(teacher.user, { students: [member.user] });
    await member.agent.post(`/api/courses/${c2.id}/applications`, {}).expect(409);
  });

  test('a course title of the longest allowed length still makes a notification title that fits', async () => {
    const teacher = await ctx.party('instructor');
    const cand = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user, { title: `${'é'.repeat(197)}🙂🙂🙂` });
    const app = (await cand.agent.post(`/api/courses/${c.id}/applications`, {}).expect(201)).body;
    await teacher.agent.post(`/api/applications/${app.id}/reject`, {}).expect(200);
    const [n] = (await cand.agent.get('/api/notifications/').expect(200)).body.results;
    expect(Array.from(n.title)).toHaveLength(200);
    expect(n.title).toMatch(/^Your application to é+…$/);
    expect((await teacher.agent.get('/api/notifications/').expect(200)).body.results[0].title).toMatch(/^New application to /);
  });

  test('only candidates apply; a missing course is a 404; a bad motivation a 400', async () => {
    const teacher = await ctx.party('instructor');
    const c = await ctx.createCourse(teacher.user);
    await teacher.agent.post(`/api/courses/${c.id}/applications`, {}).expect(403);
    await adminAgent.post(`/api/courses/${c.id}/applications`, {}).expect(403);
    const cand = await ctx.party('candidate');
    await cand.agent.post('/api/courses/2147483647/applications', {}).expect(404);
    await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 42 }).expect(400);
    await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'x'.repeat(2001) }).expect(400);
  });
});

describe('deciding', () => {
  async function pending() {
    const teacher = await ctx.party('instructor');
    const cand = await ctx.party('candidate');
    const c = await ctx.createCourse(teacher.user);
    const app = (await cand.agent.post(`/api/courses/${c.id}/applications`, { motivation: 'please' }).expect(201)).body;
    return { teacher, cand, c, app };
  }

  test('approve: enrolls the candidate and notifies them, linking the course', async () => {
    const { teacher, cand, c, app } = await pending();
    const before = (await cand.agent.get('/api/notifications/unread_count').expect(200)).body.unread_count;
    ctx.published.length = 0;
    const res = await teacher.agent.post(`/api/applications/${app.id}/approve/`).expect(200);
    expect(res.body).toMatchObject({ id: app.id, status: 'approved', decided_at: expect.any(String), reason: null });
    expect(await isEnrolled(ctx, c, cand.user)).toBe(true);
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
    expect(await isEnrolled(ctx, c, cand.user)).toBe(false);
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
    expect((await notificationsOf(ctx, cand.user)).filter((n) => String(n.type).startsWith('application_'))).toHaveLength(1);
  });

  test('another instructor gets a 404, a candidate a 403; an admin may decide', async () => {
    const { cand, app } = await pending();
    const stranger = await ctx.party('instructor');
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
    const restore = await refuseNotificationsTo(ctx, cand.user.id);
    try {
      ctx.published.length = 0;
      const res = await teacher.agent.http.post(`/api/applications/${app.id}/approve`).set('X-CSRF-Token', teacher.agent.csrf);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal_error', message: expect.any(String), details: null } });
      expect(res.text).not.toMatch(/refused for the test|at .*\.ts/);
    } finally {
      await restore();
    }
    expect((await teacher.agent.get(`/api/applications/${app.id}`).expect(200)).body.status).toBe('pending');
    expect(await isEnrolled(ctx, c, cand.user)).toBe(false);
    expect(ctx.published).toEqual([]); // nothing announced for a rolled-back change
  });
});

describe('listing applications', () => {
  test('a candidate sees their own, an instructor their courses’, an admin all', async () => {
    const t1 = await ctx.party('instructor');
    const t2 = await ctx.party('instructor');
    const c1 = await ctx.createCourse(t1.user);
    const c2 = await ctx.createCourse(t2.user);
    const a = await ctx.party('candidate');
    const b = await ctx.party('candidate');
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

test('every application endpoint answered 2xx in this file', () => {
  expect(ctx.contract.unexercised('/api/applications')).toEqual([]);
});
