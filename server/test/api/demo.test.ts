import request from 'supertest';
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemo } from '../../services/demo-seed';
import { createApiContext, type ApiContext } from '../support/api';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

/** Logs in the way the README's curl walk-through does: a CSRF token first, then the credentials. */
async function demoLogin(email: string) {
  const http = request.agent(ctx.app);
  const { body } = await http.get('/api/auth/csrf').expect(200);
  const res = await http.post('/api/auth/login').set('X-CSRF-Token', body.csrf_token).send({ email, password: DEMO_PASSWORD }).expect(200);
  return ctx.contract.wrap({
    http,
    csrf: res.body.csrf_token,
    get: (url) => http.get(url),
    post: (url, b) => http.post(url).set('X-CSRF-Token', res.body.csrf_token).send(b ?? {}),
    patch: (url, b) => http.patch(url).set('X-CSRF-Token', res.body.csrf_token).send(b ?? {}),
    delete: (url) => http.delete(url).set('X-CSRF-Token', res.body.csrf_token),
  });
}

test('the demo data is created once, and every demo login works', async () => {
  expect(await seedDemo(ctx.sequelize, ctx.models)).toBe(true);
  const users = await ctx.models.User.count();
  const courses = await ctx.models.Course.count();
  expect(await seedDemo(ctx.sequelize, ctx.models)).toBe(false);
  expect(await ctx.models.User.count()).toBe(users);
  expect(await ctx.models.Course.count()).toBe(courses);
  for (const { email, role } of DEMO_LOGINS) {
    const agent = await demoLogin(email);
    expect((await agent.get('/api/auth/me').expect(200)).body.user).toMatchObject({ email, role });
  }
});

test('the acceptance walk-through: apply, the instructor’s count goes up, approve, the candidate’s goes up', async () => {
  const candidate = await demoLogin('candidate@example.com');
  const instructor = await demoLogin('instructor@example.com');
  const me = (await instructor.get('/api/auth/me').expect(200)).body.user;

  const catalogue = (await candidate.get('/api/courses/').expect(200)).body.results;
  const open = catalogue.find(
    (c: { instructor: { id: number }; my_application: unknown; is_enrolled: boolean }) =>
      c.instructor.id === me.id && !c.my_application && !c.is_enrolled,
  );
  expect(open).toBeDefined(); // instructor@ teaches a course the candidate has not applied to

  const instructorBefore = (await instructor.get('/api/notifications/unread_count/').expect(200)).body.unread_count;
  const candidateBefore = (await candidate.get('/api/notifications/unread_count/').expect(200)).body.unread_count;
  const application = (await candidate.post(`/api/courses/${open.id}/applications/`, { motivation: 'Demo' }).expect(201)).body;
  expect((await instructor.get('/api/notifications/unread_count/').expect(200)).body.unread_count).toBe(instructorBefore + 1);
  await instructor.post(`/api/applications/${application.id}/approve/`).expect(200);
  expect((await candidate.get('/api/notifications/unread_count/').expect(200)).body.unread_count).toBe(candidateBefore + 1);
});
