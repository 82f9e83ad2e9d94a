import { QueryTypes } from 'sequelize';
import request from 'supertest';
import type { User } from '../../models';
import { createApiContext, type ApiContext, type Party } from '../support/api';
import type { Agent } from '../support/harness';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

const signedIn = (role: User['role']): Promise<Party> => ctx.party(role);

async function mint(agent: Agent, scopes: string[], extra: object = {}): Promise<{ id: number; token: string }> {
  const res = await agent.post('/api/tokens/', { name: 'script', scopes, ...extra }).expect(201);
  return res.body;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('personal access tokens', () => {
  test('created once with its secret, listed without it, stored only as a SHA-256', async () => {
    const { user, agent } = await signedIn('candidate');
    const res = await agent.post('/api/tokens/', { name: 'exporter', scopes: ['notifications:read'], expires_in_days: 30 }).expect(201);
    expect(res.body.token).toMatch(/^hrld_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ name: 'exporter', scopes: ['notifications:read'], prefix: res.body.token.slice(0, 9) });
    expect(Date.parse(res.body.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const list = await agent.get('/api/tokens/').expect(200);
    expect(list.body.results).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    const [row] = await ctx.sequelize.query<{ hash: string }>('SELECT hash FROM api_tokens WHERE user_id = :id', {
      replacements: { id: user.id },
      type: QueryTypes.SELECT,
    });
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.hash).not.toContain(res.body.token.slice(5));
  });

  test('a scope above the owner’s role is refused (403); admin may grant admin', async () => {
    const { agent: candidate } = await signedIn('candidate');
    await candidate.post('/api/tokens/', { name: 'x', scopes: ['courses:notify'] }).expect(403);
    await candidate.post('/api/tokens/', { name: 'x', scopes: ['admin'] }).expect(403);
    const { agent: instructor } = await signedIn('instructor');
    await instructor.post('/api/tokens/', { name: 'x', scopes: ['admin'] }).expect(403);
    await mint(instructor, ['courses:notify', 'applications:decide']);
    const { agent: admin } = await signedIn('admin');
    await mint(admin, ['admin']);
  });

  test('bad bodies are a 400: no scopes, unknown scope, expiry out of range', async () => {
    const { agent } = await signedIn('candidate');
    await agent.post('/api/tokens/', { name: 'x', scopes: [] }).expect(400);
    await agent.post('/api/tokens/', { name: 'x', scopes: ['everything'] }).expect(400);
    await agent.post('/api/tokens/', { name: 'x', scopes: ['notifications:read'], expires_in_days: 366 }).expect(400);
    await agent.post('/api/tokens/', { name: '', scopes: ['notifications:read'] }).expect(400);
  });

  test('a bearer token works without a cookie or CSRF token, and a request with both is judged by the token', async () => {
    const { user, agent } = await signedIn('candidate');
    const { token } = await mint(agent, ['notifications:read', 'notifications:write']);
    const me = await request(ctx.app).get('/api/auth/me').set(bearer(token)).expect(200);
    expect(me.body.user.id).toBe(user.id);
    await request(ctx.app).post('/api/notifications/mark_all_read/').set(bearer(token)).expect(200);
    // The cookie's session could list tokens; the token cannot, even riding along with that cookie.
    const both = await agent.http.get('/api/tokens/').set(bearer(token)).expect(403);
    expect(both.body.error.code).toBe('insufficient_scope');
    // A token cannot mint tokens, with or without a CSRF token.
    await request(ctx.app).post('/api/tokens/').set(bearer(token)).send({ name: 'y', scopes: ['notifications:read'] }).expect(403);
  });

  test('a missing scope is 403 insufficient_scope', async () => {
    const { agent } = await signedIn('candidate');
    const { token } = await mint(agent, ['notifications:read']);
    const res = await request(ctx.app).post('/api/notifications/mark_all_read/').set(bearer(token)).expect(403);
    expect(res.body.error.code).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
  });

  test('unknown, revoked or expired tokens are 401 invalid_token with WWW-Authenticate', async () => {
    const { user, agent } = await signedIn('candidate');
    const expectInvalid = async (token: string) => {
      const res = await request(ctx.app).get('/api/notifications/').set(bearer(token)).expect(401);
      expect(res.body.error.code).toBe('invalid_token');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    };
    await expectInvalid('hrld_nothing-like-a-real-one');
    await expectInvalid('not-even-ours');

    const revoked = await mint(agent, ['notifications:read']);
    await request(ctx.app).get('/api/notifications/').set(bearer(revoked.token)).expect(200);
    const gone = await agent.delete(`/api/tokens/${revoked.id}/`).expect(200);
    expect(gone.body.revoked_at).not.toBeNull();
    expect(ctx.published).toContainEqual({ type: 'token.revoked', tokenIds: [revoked.id] });
    await expectInvalid(revoked.token);

    const expired = await mint(agent, ['notifications:read'], { expires_in_days: 1 });
    await ctx.sequelize.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = :id", {
      replacements: { id: expired.id },
    });
    await expectInvalid(expired.token);

    // Someone else's token id is not found.
    const { agent: other } = await signedIn('candidate');
    const theirs = await mint(other, ['notifications:read']);
    await agent.delete(`/api/tokens/${theirs.id}/`).expect(404);
    expect(user.id).toBeGreaterThan(0);
  });

  test('deactivating the owner revokes their tokens', async () => {
    const { user, agent } = await signedIn('instructor');
    const { token } = await mint(agent, ['notifications:read']);
    const { agent: admin } = await signedIn('admin');
    await admin.patch(`/api/admin/users/${user.id}/`, { is_active: false }).expect(200);
    await request(ctx.app).get('/api/notifications/').set(bearer(token)).expect(401);
    const [row] = await ctx.sequelize.query<{ n: string }>(
      'SELECT count(*) AS n FROM api_tokens WHERE user_id = :id AND revoked_at IS NULL',
      { replacements: { id: user.id }, type: QueryTypes.SELECT },
    );
    expect(Number(row.n)).toBe(0);
  });

  test('admins list and revoke anyone’s tokens', async () => {
    const { user, agent } = await signedIn('candidate');
    const { id, token } = await mint(agent, ['notifications:read']);
    const { agent: admin } = await signedIn('admin');
    const list = await admin.get(`/api/admin/tokens/?user_id=${user.id}`).expect(200);
    expect(list.body.results.map((t: { id: number }) => t.id)).toEqual([id]);
    expect(list.body.results[0].user_id).toBe(user.id);
    await admin.delete(`/api/admin/tokens/${id}/`).expect(200);
    await request(ctx.app).get('/api/notifications/').set(bearer(token)).expect(401);
    expect((await admin.get(`/api/admin/tokens/?user_id=${user.id}`).expect(200)).body.results).toEqual([]);
    expect((await admin.get(`/api/admin/tokens/?user_id=${user.id}&status=all`).expect(200)).body.results).toHaveLength(1);
  });

  test('last_used_at is written at most once a minute, not on every request', async () => {
    const { agent } = await signedIn('candidate');
    const { id, token } = await mint(agent, ['notifications:read']);
    const { statements } = await ctx.countStatements(async () => {
      for (let i = 0; i < 5; i += 1) await request(ctx.app).get('/api/notifications/unread_count/').set(bearer(token)).expect(200);
    });
    expect(statements.filter((s) => /UPDATE api_tokens SET last_used_at/.test(s))).toHaveLength(1);
    const [row] = await ctx.sequelize.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM api_tokens WHERE id = :id', {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    expect(row.last_used_at).not.toBeNull();
  });

  test('as the docs page shows it: an instructor’s script announces to a course, a retry sends nothing twice', async () => {
    const { user, agent } = await signedIn('instructor');
    const student = await ctx.createUser('candidate');
    const course = await ctx.models.Course.create({ title: 'Tokens 101', instructorId: user.id });
    await ctx.models.Enrollment.create({ courseId: course.id, studentId: student.id });
    const { token } = await mint(agent, ['courses:notify']);
    const send = () =>
      request(ctx.app)
        .post(`/api/courses/${course.id}/notify-students/`)
        .set('Authorization', `Bearer ${token}`)
        .set('Idempotency-Key', 'week-3')
        .send({ notification_type: 'announcement', title: 'Week 3', message: 'Slides are up' });
    expect((await send().expect(201)).body).toMatchObject({ recipients: 1, replayed: false });
    expect((await send().expect(200)).body).toMatchObject({ recipients: 1, replayed: true });
  });
});
