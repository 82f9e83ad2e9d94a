import { createHmac } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createApp } from '../../app';
import type { Config } from '../../config';
import { createSession } from '../../http/session';
import { createLogger } from '../../logger';
import { createServices } from '../../services';
import type { AuthLimits } from '../../services/auth';
import { createApiContext, type ApiContext } from '../support/api';
import { PASSWORD } from '../support/harness';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

/** The named cookie from a response's Set-Cookie headers: its value and its attributes, lower-cased. */
function cookie(res: request.Response, name: string): { value: string; attrs: string } | undefined {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = all.find((c) => c.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attrs] = line.split(';');
  return { value: pair.slice(name.length + 1), attrs: attrs.join(';').toLowerCase() };
}

/** A fresh client with its anonymous session and CSRF token. */
async function anonymous() {
  const http = request.agent(ctx.app);
  const res = await http.get('/api/auth/csrf/').expect(200);
  ctx.contract.check('get', '/api/auth/csrf/', res);
  return { http, token: res.body.csrf_token as string, res };
}

async function login(http: ReturnType<typeof request.agent>, token: string, email: string, password = PASSWORD) {
  const res = await http.post('/api/auth/login/').set('X-CSRF-Token', token).send({ email, password });
  ctx.contract.check('post', '/api/auth/login/', res);
  return res;
}

describe('sessions and CSRF tokens', () => {
  test('GET /api/auth/csrf gives a token bound to an httpOnly cookie, no session; the session cookie comes at login', async () => {
    const { http, res, token } = await anonymous();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(cookie(res, 'herald.sid')).toBeUndefined(); // nothing stored for anonymous clients
    const anon = cookie(res, 'herald.csrf')!;
    expect(anon.attrs).toContain('httponly');
    expect(anon.attrs).toContain('samesite=lax');
    expect(anon.attrs).not.toContain('secure'); // not in production (see below)
    // Angular reads the token from a script-readable cookie.
    const xsrf = cookie(res, 'XSRF-TOKEN')!;
    expect(xsrf.value).toBe(token);
    expect(xsrf.attrs).not.toContain('httponly');

    const user = await ctx.createUser('candidate');
    const sid = cookie(await login(http, token, user.email), 'herald.sid')!;
    expect(sid.attrs).toContain('httponly');
    expect(sid.attrs).toContain('samesite=lax');
    expect(sid.attrs).not.toContain('secure');
    // The idle timeout is the cookie's lifetime, renewed on every request.
    const expires = Date.parse(/expires=([^;]+)/.exec(sid.attrs)![1]);
    expect(Math.abs(expires - (Date.now() + ctx.config.sessionIdleMs))).toBeLessThan(60_000);
  });

  test('GET /api/auth/csrf says who is signed in: null when anonymous, the user after login, null after logout', async () => {
    const user = await ctx.createUser('instructor');
    const { http, res: anon } = await anonymous();
    expect(anon.body).toEqual({ csrf_token: expect.stringMatching(/^[0-9a-f]{64}$/), user: null });

    const loggedIn = await login(http, anon.body.csrf_token, user.email);
    expect(loggedIn.status).toBe(200);
    const during = await http.get('/api/auth/csrf').expect(200);
    ctx.contract.check('get', '/api/auth/csrf', during);
    expect(during.body).toEqual({
      csrf_token: loggedIn.body.csrf_token, // the session's token, not a new one
      user: { id: user.id, email: user.email, name: user.name, role: 'instructor' },
    });

    await http.post('/api/auth/logout').set('X-CSRF-Token', during.body.csrf_token).expect(204);
    const after = await http.get('/api/auth/csrf').expect(200);
    ctx.contract.check('get', '/api/auth/csrf', after);
    expect(after.body).toEqual({ csrf_token: expect.stringMatching(/^[0-9a-f]{64}$/), user: null });
    expect(after.body.csrf_token).not.toBe(during.body.csrf_token);
  });

  test('login needs the anonymous session’s token (no login CSRF)', async () => {
    const user = await ctx.createUser('candidate');
    const { http } = await anonymous();
    const res = await http.post('/api/auth/login').send({ email: user.email, password: PASSWORD }).expect(403);
    expect(res.body.error.code).toBe('csrf_invalid');
    // A token from another session does not work either.
    const other = await anonymous();
    await http.post('/api/auth/login').set('X-CSRF-Token', other.token).send({ email: user.email, password: PASSWORD }).expect(403);
    // Nor does a request without any session.
    await request(ctx.app).post('/api/auth/login').set('X-CSRF-Token', other.token).send({ email: user.email, password: PASSWORD }).expect(403);
  });

  test('login answers the user and a new token, in a new session; the old id and token are dead', async () => {
    const user = await ctx.createUser('instructor', { email: 'Mixed.Case@Test.Example' });
    const { http, token } = await anonymous();
    // No session exists before login, so plant one as a fixation attack would: a validly signed id of our choosing.
    const planted = 'planted-session-id-planted-session';
    const mac = createHmac('sha256', ctx.config.sessionSecret).update(planted).digest('base64').replace(/=+$/, '');
    const anonSid = encodeURIComponent(`s:${planted}.${mac}`);
    const res = await http
      .post('/api/auth/login/')
      .set('Cookie', `herald.sid=${anonSid}`)
      .set('X-CSRF-Token', token)
      .send({ email: 'MIXED.case@test.example', password: PASSWORD });
    ctx.contract.check('post', '/api/auth/login/', res);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id: user.id, email: user.email, name: user.name, role: 'instructor' },
      csrf_token: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(res.body)).not.toMatch(/argon|hash/i);
    expect(res.body.csrf_token).not.toBe(token);
    expect(cookie(res, 'herald.sid')!.value).not.toBe(anonSid); // regenerated: no session fixation
    expect(cookie(res, 'XSRF-TOKEN')!.value).toBe(res.body.csrf_token);

    expect((await http.get('/api/auth/me/').expect(200)).body).toEqual({ user: res.body.user });
    // The pre-login session id logs nobody in, and the pre-login token no longer passes.
    await request(ctx.app).get('/api/auth/me').set('Cookie', `herald.sid=${anonSid}`).expect(401);
    await http.post('/api/notifications/mark_all_read').set('X-CSRF-Token', token).expect(403);
    await http.post('/api/notifications/mark_all_read').set('X-CSRF-Token', res.body.csrf_token).expect(200);
    expect((await ctx.models.User.findByPk(user.id))!.lastLoginAt).not.toBeNull();
  });

  test('an unknown email, a wrong password and a deactivated account get the same answer', async () => {
    const user = await ctx.createUser('candidate');
    const gone = await ctx.createUser('candidate', { isActive: false });
    const answers = [];
    for (const [email, password] of [
      ['nobody@test.example', PASSWORD],
      [user.email, 'wrong password'],
      [gone.email, PASSWORD],
    ]) {
      const { http, token } = await anonymous();
      const res = await login(http, token, email, password);
      expect(res.status).toBe(401);
      answers.push(res.body);
    }
    expect(answers[0]).toEqual({ error: { code: 'unauthorized', message: 'Invalid email or password.', details: null } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  test('logout destroys the session: the cookie no longer works and its row is gone', async () => {
    const user = await ctx.createUser('candidate');
    const { http, token } = await anonymous();
    const res = await login(http, token, user.email);
    const sid = decodeURIComponent(cookie(res, 'herald.sid')!.value);
    const sessionRows = () =>
      ctx.sequelize.query('SELECT 1 FROM session WHERE sid = :sid', {
        replacements: { sid: sid.slice(2).split('.')[0] }, // the cookie is "s:<id>.<signature>"
        type: QueryTypes.SELECT,
      });
    expect(await sessionRows()).toHaveLength(1);
    ctx.published.length = 0;
    const out = await http.post('/api/auth/logout/').set('X-CSRF-Token', res.body.csrf_token);
    ctx.contract.check('post', '/api/auth/logout/', out);
    expect(out.status).toBe(204);
    expect(cookie(out, 'herald.sid')!.attrs).toMatch(/expires=thu, 01 jan 1970/);
    await http.get('/api/auth/me').expect(401);
    await request(ctx.app).get('/api/auth/me').set('Cookie', `herald.sid=${encodeURIComponent(sid)}`).expect(401);
    expect(await sessionRows()).toEqual([]);
    expect(ctx.published).toEqual([{ type: 'session.ended', sessionIds: [expect.any(String)] }]);
  });

  test('an idle session expires; a deactivated user is logged out at once', async () => {
    const user = await ctx.createUser('candidate');
    const { http, token } = await anonymous();
    await login(http, token, user.email);
    await http.get('/api/auth/me').expect(200);
    await ctx.sequelize.query(`UPDATE session SET expire = now() - interval '1 minute' WHERE sess ->> 'userId' = :id`, {
      replacements: { id: String(user.id) },
    });
    await http.get('/api/auth/me').expect(401);

    const other = await ctx.createUser('candidate');
    const agent = await ctx.login(other);
    await agent.get('/api/auth/me').expect(200);
    await other.update({ isActive: false });
    await agent.get('/api/auth/me').expect(401);
    await agent.get('/api/notifications/').expect(401);
  });
});

describe('CSRF on state-changing requests', () => {
  test('the token works from X-CSRF-Token, X-XSRF-TOKEN (mirroring the cookie) or a _csrf field', async () => {
    const agent = await ctx.login(await ctx.createUser('candidate'));
    await agent.http.post('/api/notifications/mark_all_read').expect(403);
    await agent.http.post('/api/notifications/mark_all_read').set('X-CSRF-Token', 'f'.repeat(64)).expect(403);
    await agent.http.post('/api/notifications/mark_all_read').set('X-CSRF-Token', agent.csrf).expect(200);
    await agent.http.post('/api/notifications/mark_all_read').set('X-XSRF-TOKEN', agent.csrf).expect(200);
    await agent.http.post('/api/notifications/mark_all_read').send({ _csrf: agent.csrf }).expect(200);
    await agent.http.delete('/api/notifications/1').expect(403);
    await agent.http.patch('/api/notifications/1/mark_read').expect(403);
  });

  test('a foreign Origin or a cross-site fetch is refused even with a valid token; our origins pass', async () => {
    const agent = await ctx.login(await ctx.createUser('candidate'));
    const post = () => agent.http.post('/api/notifications/mark_all_read').set('X-CSRF-Token', agent.csrf);
    const evil = await post().set('Origin', 'http://evil.example').expect(403);
    expect(evil.body.error.code).toBe('csrf_origin');
    await post().set('Origin', 'null').expect(403);
    await post().set('Sec-Fetch-Site', 'cross-site').expect(403);
    await post().set('Origin', 'http://allowed.example').expect(200); // ALLOWED_ORIGINS
    await post().set('Sec-Fetch-Site', 'same-origin').expect(200);
  });

  test('GET never needs a token and never changes data', async () => {
    const user = await ctx.createUser('candidate');
    const agent = await ctx.login(user);
    await ctx.sequelize.query("INSERT INTO notifications (recipient_id, type, title) VALUES (:id, 'message', 'x')", {
      replacements: { id: user.id },
    });
    for (const url of ['/api/notifications/mark_all_read', '/api/notifications/1/mark_read']) {
      const res = await agent.get(url);
      expect([400, 404]).toContain(res.status);
    }
    expect((await agent.get('/api/notifications/unread_count').expect(200)).body.unread_count).toBe(1);
  });
});

/**
 * The same database and models with another configuration or other limits. (A second test context would
 * rebind the model classes to its own database, so variants share this file's context instead.)
 */
function variant(opts: { config?: Partial<Config>; authLimits?: Partial<AuthLimits> }) {
  const config = { ...ctx.config, ...opts.config };
  const services = opts.authLimits
    ? createServices({ sequelize: ctx.sequelize, models: ctx.models, events: ctx.events, authLimits: opts.authLimits })
    : ctx.services;
  const session = createSession(config, ctx.dbUrl);
  const app = createApp({ config, logger: createLogger('silent'), services, session: session.middleware });
  return { app, close: () => session.pool.end() };
}

describe('in production', () => {
  test('the session and XSRF cookies are Secure', async () => {
    const prod = variant({ config: { env: 'production', isProduction: true, trustProxy: true } });
    try {
      const res = await request(prod.app).get('/api/auth/csrf').set('X-Forwarded-Proto', 'https').expect(200);
      expect(cookie(res, 'herald.csrf')!.attrs).toContain('secure');
      expect(cookie(res, 'XSRF-TOKEN')!.attrs).toContain('secure');
      const user = await ctx.createUser('candidate');
      const in_ = await request(prod.app)
        .post('/api/auth/login')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', `herald.csrf=${cookie(res, 'herald.csrf')!.value}`)
        .set('X-CSRF-Token', res.body.csrf_token)
        .send({ email: user.email, password: PASSWORD })
        .expect(200);
      expect(cookie(in_, 'herald.sid')!.attrs).toContain('secure');
      expect(cookie(in_, 'XSRF-TOKEN')!.attrs).toContain('secure');
    } finally {
      await prod.close();
    }
  });
});

describe('login throttling', () => {
  let limited: ReturnType<typeof variant>;
  beforeAll(async () => {
    limited = variant({ authLimits: { perAccountAndSource: 3, perSource: 6, windowSeconds: 600 } });
    await ctx.sequelize.query('DELETE FROM login_throttle'); // the counters are shared with this file's other logins
  });
  afterAll(async () => {
    await ctx.sequelize.query('DELETE FROM login_throttle');
    await limited.close();
  });

  async function attempt(email: string, password: string) {
    const http = request.agent(limited.app);
    const { body } = await http.get('/api/auth/csrf').expect(200);
    const res = await http.post('/api/auth/login').set('X-CSRF-Token', body.csrf_token).send({ email, password });
    ctx.contract.check('post', '/api/auth/login', res);
    return res;
  }

  // The other side (another address is not refused, successes spend nothing) is server/test/services/auth/throttle.test.ts.
  test('per account from one address, then per address: 429 with Retry-After, even for the right password', async () => {
    const user = await ctx.createUser('candidate');
    for (let i = 0; i < 3; i += 1) expect((await attempt(user.email, 'nope')).status).toBe(401);
    const blocked = await attempt(user.email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body.error).toMatchObject({ code: 'too_many_requests', details: { retry_after: expect.any(Number) } });

    // Another account still logs in from here, until this address has failed 6 times in all.
    const other = await ctx.createUser('candidate');
    expect((await attempt(other.email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await attempt(`nobody${i}@test.example`, 'nope')).status).toBe(401);
    expect((await attempt(other.email, PASSWORD)).status).toBe(429);
  });
});

test('every auth endpoint answered 2xx in this file', async () => {
  const agent = await ctx.loginChecked(await ctx.createUser('admin'));
  await agent.get('/api/auth/me').expect(200);
  expect(ctx.contract.unexercised('/api/auth')).toEqual([]);
});
