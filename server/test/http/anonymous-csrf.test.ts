import { QueryTypes } from 'sequelize';
import request from 'supertest';
import { createTestContext, PASSWORD, type TestContext } from '../support/harness';

// A thousand requests: a correctness check, not a timed one, so a loaded machine must not fail it.
jest.setTimeout(120_000);

let ctx: TestContext;
beforeAll(async () => {
  // 1,000 fresh clients from one test address: above the per-address API budget (600 a minute), which is not
  // what this file is about (server/test/api/rate-limit.test.ts is).
  ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' } });
});
afterAll(() => ctx.close());

async function sessionRows(): Promise<number> {
  const [{ n }] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM session', { type: QueryTypes.SELECT });
  return Number(n);
}

describe('10.8 anonymous clients store no session', () => {
  test('1,000 GET /api/auth/csrf from fresh clients (and the login page) create no session row', async () => {
    const before = await sessionRows();
    for (let i = 0; i < 1_000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => request(ctx.app).get('/api/auth/csrf').expect(200)));
      for (const res of batch) {
        expect(res.body.csrf_token).toMatch(/^[0-9a-f]{64}$/);
        expect(String(res.headers['set-cookie'])).not.toMatch(/herald\.sid=/);
      }
    }
    await request(ctx.app).get('/login').expect(200);
    // The same client asking again keeps its token (no new cookie, nothing stored).
    const agent = request.agent(ctx.app);
    const a = await agent.get('/api/auth/csrf').expect(200);
    const b = await agent.get('/api/auth/csrf').expect(200);
    expect(b.body.csrf_token).toBe(a.body.csrf_token);
    expect(await sessionRows()).toBe(before);
  });

  test('the anonymous token is bound to its own cookie: login needs it, from a header, the XSRF header or a form field', async () => {
    const user = await ctx.createUser('candidate');
    const other = (await request(ctx.app).get('/api/auth/csrf').expect(200)).body.csrf_token as string;
    const agent = request.agent(ctx.app);
    const { csrf_token: token } = (await agent.get('/api/auth/csrf').expect(200)).body as { csrf_token: string };
    const body = { email: user.email, password: PASSWORD };
    for (const forged of [undefined, other, 'f'.repeat(64), token.slice(0, 63)]) {
      const t = agent.post('/api/auth/login');
      const res = await (forged === undefined ? t : t.set('X-CSRF-Token', forged)).send(body).expect(403);
      expect(res.body.error.code).toBe('csrf_invalid');
    }
    // The right token without its cookie is no better.
    await request(ctx.app).post('/api/auth/login').set('X-CSRF-Token', token).send(body).expect(403);
    const before = await sessionRows();
    await agent.post('/api/auth/login').set('X-XSRF-TOKEN', token).send(body).expect(200);
    expect(await sessionRows()).toBe(before + 1); // stored at login, not before

    const page = request.agent(ctx.app);
    const html = (await page.get('/login').expect(200)).text;
    const field = /name="_csrf" value="([0-9a-f]{64})"/.exec(html)![1];
    await page.post('/login').type('form').send({ ...body, _csrf: other }).expect(403);
    await page.post('/login').type('form').send({ ...body, _csrf: field }).expect(303);
    expect(await sessionRows()).toBe(before + 2);
  });
});
