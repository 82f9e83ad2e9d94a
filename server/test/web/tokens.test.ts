import request from 'supertest';
import { createTestContext, type Agent, type TestContext } from '../support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const HX = { 'HX-Request': 'true' };
/** A form body as a browser sends it: a checkbox group repeats its name. */
const encode = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
const post = (a: Agent, url: string, pairs: Array<[string, string]>) =>
  a.http.post(url).type('form').send(encode([['_csrf', a.csrf], ...pairs]));
const secretOf = (html: string) => /<code class="token-secret" id="token-secret">(hrld_[\w-]+)<\/code>/.exec(html)?.[1];

describe('/settings/tokens', () => {
  test('offers only the scopes the role may grant', async () => {
    const candidate = await ctx.login(await ctx.createUser('candidate'));
    const page = await candidate.get('/settings/tokens').expect(200);
    expect(page.text).toContain('value="notifications:read"');
    expect(page.text).not.toContain('value="courses:notify"');
    expect(page.text).not.toContain('value="admin"');
    expect(page.text).toContain('No tokens yet.');
  });

  test('a plain form creates a token, shows its secret once, and the secret works on the API', async () => {
    const agent = await ctx.login(await ctx.createUser('instructor'));
    const res = await post(agent, '/settings/tokens', [
      ['name', 'announcer'],
      ['scopes', 'courses:notify'],
      ['scopes', 'notifications:read'],
      ['expires', '30'],
    ]).expect(201);
    const secret = secretOf(res.text)!;
    expect(secret).toBeDefined();
    expect(res.text).toContain('<code>courses:notify</code>, <code>notifications:read</code>');
    await request(ctx.app).get('/api/notifications/').set('Authorization', `Bearer ${secret}`).expect(200);
    const again = await agent.get('/settings/tokens').expect(200);
    expect(again.text).not.toContain(secret);
    expect(again.text).toContain(`<code>${secret.slice(0, 9)}…</code>`);
  });

  test('needs the CSRF token; a forged scope above the role is refused; a bad form says what is wrong', async () => {
    const agent = await ctx.login(await ctx.createUser('candidate'));
    await agent.http.post('/settings/tokens').type('form').send(encode([['name', 'x'], ['scopes', 'notifications:read'], ['expires', '7']])).expect(403);
    await post(agent, '/settings/tokens', [['name', 'x'], ['scopes', 'admin'], ['expires', '7']]).expect(403);
    // No body at all (no Content-Type): the empty form's errors, never a 500.
    await agent.http.post('/settings/tokens').set('X-CSRF-Token', agent.csrf).expect(422);
    const bad = await post(agent, '/settings/tokens', [['name', 'kept'], ['expires', '7']]).expect(422);
    expect(bad.text).toContain('Choose at least one scope.');
    expect(bad.text).toContain('value="kept"');
  });

  test('htmx gets the panel alone; revoking re-renders it and the token stops working', async () => {
    const agent = await ctx.login(await ctx.createUser('candidate'));
    const created = await agent.http
      .post('/settings/tokens')
      .set(HX)
      .set('X-CSRF-Token', agent.csrf)
      .type('form')
      .send(encode([['name', 'bot'], ['scopes', 'notifications:read'], ['expires', 'never']]))
      .expect(201);
    expect(created.text).not.toContain('<html');
    expect(created.text).toMatch(/^<section id="token-panel"/);
    const secret = secretOf(created.text)!;
    const id = /id="token-(\d+)"/.exec(created.text)![1];
    const revoked = await agent.http.post(`/settings/tokens/${id}/revoke`).set(HX).set('X-CSRF-Token', agent.csrf).expect(200);
    expect(revoked.text).toContain('revoked');
    expect(revoked.text).not.toContain(secret);
    await request(ctx.app).get('/api/notifications/').set('Authorization', `Bearer ${secret}`).expect(401);
    // Someone else's token is not found; a plain revoke redirects back.
    const other = await ctx.login(await ctx.createUser('candidate'));
    await post(other, `/settings/tokens/${id}/revoke`, []).expect(404);
    await post(agent, `/settings/tokens/${id}/revoke`, []).expect(303).expect('Location', '/settings/tokens');
  });
});
