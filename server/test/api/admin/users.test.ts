import request from 'supertest';
import type { Role, User } from '../../../models';
import type { HeraldEvent } from '../../../services/events';
import { createApiContext, type ApiContext } from '../../support/api';
import { PASSWORD, type Agent } from '../../support/harness';

let ctx: ApiContext;
let admin: User;
let agent: Agent;

beforeAll(async () => {
  ctx = await createApiContext();
  admin = await ctx.createUser('admin', { name: 'Ada Admin', email: 'ada@herald.example' });
  agent = await ctx.loginChecked(admin);
});
afterAll(() => ctx.close());

const sessionsEnded = (userId: number) =>
  ctx.published.filter((e: HeraldEvent) => e.type === 'user.sessions_ended' && e.userId === userId);

describe('listing users', () => {
  let users: Record<string, User>;
  beforeAll(async () => {
    users = {
      zoe: await ctx.createUser('candidate', { name: 'zoe Zed', email: 'zoe@list.example' }),
      ian: await ctx.createUser('instructor', { name: 'Ian Inst', email: 'ian@list.example' }),
      ivy: await ctx.createUser('instructor', { name: 'Ivy 50%_off', email: 'ivy@list.example', isActive: false }),
      bea: await ctx.createUser('candidate', { name: 'Bea Bee', email: 'bea_b@list.example' }),
    };
  });

  const list = async (query: Record<string, string | number>) =>
    (await agent.get('/api/admin/users').query(query).expect(200)).body;

  test('the contract fields (never the password hash), ordered by name', async () => {
    const body = await list({ q: 'list.example' });
    expect(body).toMatchObject({ total: 4, page: 1, page_size: 25 });
    expect(body.results.map((u: { name: string }) => u.name)).toEqual(['Bea Bee', 'Ian Inst', 'Ivy 50%_off', 'zoe Zed']);
    expect(body.results[2]).toEqual({
      id: users.ivy.id,
      email: 'ivy@list.example',
      name: 'Ivy 50%_off',
      role: 'instructor',
      is_active: false,
      last_login_at: null,
      created_at: users.ivy.createdAt.toISOString(),
    });
    const me = await list({ q: 'ada@' });
    expect(me.results[0].last_login_at).toEqual(expect.any(String));
  });

  test('role, q (email, name, id) and wildcards taken literally', async () => {
    expect((await list({ role: 'instructor', q: 'list' })).results.map((u: User) => u.email)).toEqual([
      'ian@list.example',
      'ivy@list.example',
    ]);
    expect((await list({ q: 'ZOE' })).results.map((u: User) => u.id)).toEqual([users.zoe.id]);
    expect((await list({ q: String(users.bea.id) })).results.map((u: User) => u.id)).toContain(users.bea.id);
    expect((await list({ q: '50%_' })).results.map((u: User) => u.id)).toEqual([users.ivy.id]);
    expect((await list({ q: '_b@' })).results.map((u: User) => u.id)).toEqual([users.bea.id]);
    expect((await list({ q: 'ze_' })).total).toBe(0); // as a wildcard it would match 'zoe Zed'
  });

  test('pagination', async () => {
    const p1 = await list({ q: 'list.example', page_size: 3 });
    const p2 = await list({ q: 'list.example', page_size: 3, page: 2 });
    expect(p1).toMatchObject({ total: 4, page: 1, page_size: 3 });
    expect(p1.results).toHaveLength(3);
    expect(p2).toMatchObject({ total: 4, page: 2, page_size: 3 });
    expect(p2.results.map((u: User) => u.name)).toEqual(['zoe Zed']);
    expect(await list({ q: 'list.example', page: 5 })).toEqual({ results: [], total: 4, page: 5, page_size: 25 });
  });
});

describe('changing a user', () => {
  async function loggedIn(role: Role) {
    const user = await ctx.createUser(role);
    return { user, session: await ctx.login(user) };
  }

  test('demoting ends all of the user\'s sessions: a logged-in agent gets 401 afterwards', async () => {
    const { user, session } = await loggedIn('instructor');
    const second = await ctx.login(user); // a second browser
    await session.get('/api/auth/me').expect(200);
    ctx.published.length = 0;
    const res = await agent.patch(`/api/admin/users/${user.id}`, { role: 'candidate' }).expect(200);
    expect(res.body).toMatchObject({ id: user.id, role: 'candidate', is_active: true });
    expect(sessionsEnded(user.id)).toHaveLength(1);
    await session.get('/api/auth/me').expect(401);
    await second.get('/api/notifications/').expect(401);
    // The user can log in again, with the new role.
    const again = await ctx.login(user);
    expect((await again.get('/api/auth/me').expect(200)).body.user.role).toBe('candidate');
  });

  test('demoting another admin ends their sessions and takes the console away', async () => {
    const { user, session } = await loggedIn('admin');
    await session.get('/api/admin/stats').expect(200);
    await agent.patch(`/api/admin/users/${user.id}`, { role: 'instructor' }).expect(200);
    await session.get('/api/admin/stats').expect(401);
    await (await ctx.login(user)).get('/api/admin/stats').expect(403);
  });

  test('deactivating ends the sessions and refuses new logins; reactivating lets the user back in', async () => {
    const { user, session } = await loggedIn('candidate');
    ctx.published.length = 0;
    const res = await agent.patch(`/api/admin/users/${user.id}`, { is_active: false }).expect(200);
    expect(res.body).toMatchObject({ id: user.id, is_active: false, role: 'candidate' });
    expect(sessionsEnded(user.id)).toHaveLength(1);
    await session.get('/api/auth/me').expect(401);
    const anon = await ctx.anonymous();
    await anon.post('/api/auth/login', { email: user.email, password: PASSWORD }).expect(401);

    ctx.published.length = 0;
    await agent.patch(`/api/admin/users/${user.id}`, { is_active: true }).expect(200);
    expect(sessionsEnded(user.id)).toHaveLength(0);
    await ctx.login(user);
  });

  test('promoting keeps the sessions, and the new role applies at once', async () => {
    const { user, session } = await loggedIn('candidate');
    ctx.published.length = 0;
    await agent.patch(`/api/admin/users/${user.id}`, { role: 'admin' }).expect(200);
    expect(sessionsEnded(user.id)).toHaveLength(0);
    await session.get('/api/admin/stats').expect(200);
  });

  test('changing nothing that matters ends nothing', async () => {
    const { user, session } = await loggedIn('instructor');
    ctx.published.length = 0;
    await agent.patch(`/api/admin/users/${user.id}`, { role: 'instructor', is_active: true }).expect(200);
    expect(sessionsEnded(user.id)).toHaveLength(0);
    await session.get('/api/auth/me').expect(200);
  });

  test('an admin cannot deactivate or demote themselves (409), but may send their own unchanged role', async () => {
    for (const body of [{ is_active: false }, { role: 'instructor' }, { role: 'candidate' }, { role: 'admin', is_active: false }]) {
      const res = await agent.patch(`/api/admin/users/${admin.id}`, body).expect(409);
      expect(res.body.error.code).toBe('conflict');
    }
    await agent.patch(`/api/admin/users/${admin.id}`, { role: 'admin', is_active: true }).expect(200);
    expect(await ctx.models.User.findByPk(admin.id)).toMatchObject({ role: 'admin', isActive: true });
    await agent.get('/api/admin/stats').expect(200);
  });

  test('an admin demoted in the meantime cannot change anyone (the actor is re-checked under lock)', async () => {
    const other = await ctx.createUser('admin');
    const target = await ctx.createUser('instructor');
    // `other` is the request's user object, loaded before another admin demoted them.
    await ctx.models.User.update({ role: 'candidate' }, { where: { id: other.id } });
    await expect(ctx.services.users.update(other, target.id, { role: 'candidate' })).rejects.toMatchObject({
      status: 403,
    });
    expect(await ctx.models.User.findByPk(target.id)).toMatchObject({ role: 'instructor' });
  });

  test('the response is the user in the list shape', async () => {
    const user = await ctx.createUser('candidate');
    const { body } = await agent.patch(`/api/admin/users/${user.id}`, { role: 'instructor' }).expect(200);
    expect(body).toEqual({
      id: user.id,
      email: user.email,
      name: user.name,
      role: 'instructor',
      is_active: true,
      last_login_at: null,
      created_at: user.createdAt.toISOString(),
    });
  });
});

describe('applications', () => {
  let courses: number[];
  let appIds: Record<string, number>;
  let candidates: User[];

  beforeAll(async () => {
    const instructor = await ctx.createUser('instructor');
    courses = [
      (await ctx.models.Course.create({ title: 'Physics', instructorId: instructor.id })).id,
      (await ctx.models.Course.create({ title: 'Poetry', instructorId: instructor.id })).id,
    ];
    candidates = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
    const make = async (key: string, course: number, who: User, status: 'pending' | 'approved' | 'rejected') =>
      [key, (await ctx.models.Application.create({ courseId: course, candidateId: who.id, status, motivation: key })).id] as const;
    appIds = Object.fromEntries([
      await make('p1', courses[0], candidates[0], 'pending'),
      await make('p2', courses[0], candidates[1], 'pending'),
      await make('a1', courses[0], candidates[2], 'approved'),
      await make('r1', courses[1], candidates[0], 'rejected'),
      await make('p3', courses[1], candidates[1], 'pending'),
    ]);
  });

  const list = async (query: Record<string, string | number>) =>
    (await agent.get('/api/admin/applications').query(query).expect(200)).body;

  test('every application, in the contract shape', async () => {
    const body = await list({});
    expect(body).toMatchObject({ total: 5, page: 1, page_size: 25 });
    const r1 = body.results.find((a: { id: number }) => a.id === appIds.r1);
    expect(r1).toEqual({
      id: appIds.r1,
      status: 'rejected',
      motivation: 'r1',
      reason: null,
      created_at: expect.any(String),
      decided_at: null,
      candidate: { id: candidates[0].id, name: candidates[0].name, email: candidates[0].email },
      course: { id: courses[1], title: 'Poetry' },
    });
  });

  test('filters by status and course, and pages', async () => {
    const ids = (body: { results: Array<{ id: number }> }) => body.results.map((a) => a.id).sort((x, y) => x - y);
    expect(ids(await list({ status: 'pending' }))).toEqual([appIds.p1, appIds.p2, appIds.p3]);
    expect(ids(await list({ course_id: courses[1] }))).toEqual([appIds.r1, appIds.p3]);
    expect(ids(await list({ status: 'pending', course_id: courses[0] }))).toEqual([appIds.p1, appIds.p2]);
    const p1 = await list({ status: 'pending', page_size: 2 });
    const p2 = await list({ status: 'pending', page_size: 2, page: 2 });
    expect(p1).toMatchObject({ total: 3, page_size: 2 });
    expect(p2).toMatchObject({ total: 3, page: 2 });
    expect(new Set([...ids(p1), ...ids(p2)]).size).toBe(3);
    expect(await list({ status: 'pending', page: 3, page_size: 2 })).toEqual({ results: [], total: 3, page: 3, page_size: 2 });
  });

  test('an admin approves and rejects through the shared endpoints; the candidate is notified', async () => {
    ctx.published.length = 0;
    await agent.post(`/api/applications/${appIds.p1}/approve/`).expect(200);
    await agent.post(`/api/applications/${appIds.p2}/reject/`, { reason: 'Full' }).expect(200);
    expect(ctx.published.filter((e) => e.type === 'application.changed')).toHaveLength(2);
    const pending = await list({ status: 'pending' });
    expect(pending.results.map((a: { id: number }) => a.id)).toEqual([appIds.p3]);
    const rejected = (await list({ status: 'rejected', course_id: courses[0] })).results[0];
    expect(rejected).toMatchObject({ id: appIds.p2, reason: 'Full', decided_at: expect.any(String) });
    const bell = await (await ctx.login(candidates[0])).get('/api/notifications/').expect(200);
    expect(bell.body.results[0]).toMatchObject({ type: 'application_approved', application_id: appIds.p1 });
  });

  test('anonymous gets 401 here too', async () => {
    await request(ctx.app).get('/api/admin/applications').expect(401);
  });
});
