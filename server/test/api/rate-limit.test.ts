import request from 'supertest';
import { createApp } from '../../app';
import { createSequelize } from '../../db';
import { createLogger } from '../../logger';
import { initModels } from '../../models';
import { createServices } from '../../services';
import { LocalEvents } from '../../services/events';
import { createSession, type SessionSetup } from '../../http/session';
import type { Sequelize } from 'sequelize';
import { createTestContext, type TestContext } from '../support/harness';

const LIMIT = 5;
let ctx: TestContext;
/** A second app on the same database: another process's worth of state (its own pools, services, memory). */
let other: { app: ReturnType<typeof createApp>; sequelize: Sequelize; session: SessionSetup };

beforeAll(async () => {
  ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  const sequelize = createSequelize({ url: ctx.dbUrl });
  const services = createServices({ sequelize, models: initModels(sequelize), events: new LocalEvents() });
  const session = createSession(ctx.config, ctx.dbUrl);
  const app = createApp({ config: ctx.config, logger: createLogger('silent'), services, session: session.middleware });
  other = { app, sequelize, session };
});
afterAll(async () => {
  await other.session.pool.end();
  await other.sequelize.close();
  await ctx.close();
});

describe('the /api rate limit', () => {
  test('per token, shared by two processes: headers on every answer, then 429 with Retry-After', async () => {
    const user = await ctx.createUser('candidate');
    const { token } = await ctx.services.tokens.create(user, { name: 'x', scopes: ['notifications:read'], expiresInDays: null });
    const remaining: number[] = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const app = i % 2 === 0 ? ctx.app : other.app;
      const res = await request(app).get('/api/notifications/unread_count/').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.headers['ratelimit-limit']).toBe(String(LIMIT));
      const reset = Number(res.headers['ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      remaining.push(Number(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await request(other.app).get('/api/notifications/').set('Authorization', `Bearer ${token}`).expect(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    await request(ctx.app).get('/api/notifications/').set('Authorization', `Bearer ${token}`).expect(429);

    // Another token of the same user has a budget of its own.
    const second = await ctx.services.tokens.create(user, { name: 'y', scopes: ['notifications:read'], expiresInDays: null });
    await request(ctx.app).get('/api/notifications/').set('Authorization', `Bearer ${second.token}`).expect(200);
  });

  test('per session for cookie clients, across both processes', async () => {
    const user = await ctx.createUser('candidate');
    const agent = await ctx.login(user); // its requests so far were anonymous (the address's budget)
    const cookie = (await agent.http.get('/api/auth/me').expect(200)).headers['ratelimit-remaining'];
    expect(cookie).toBe(String(LIMIT - 1));
    const jar = agent.http.jar.getCookies({ domain: '127.0.0.1', path: '/', script: false, secure: false }).toValueString();
    for (let i = 1; i < LIMIT; i += 1) await request(other.app).get('/api/auth/me').set('Cookie', jar).expect(200);
    const res = await agent.http.get('/api/auth/me').expect(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  test('a new window starts the budget over', async () => {
    const user = await ctx.createUser('candidate');
    const { id, token } = await ctx.services.tokens.create(user, { name: 'x', scopes: ['notifications:read'], expiresInDays: null });
    for (let i = 0; i < LIMIT; i += 1) await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(429);
    // The window ends (as a minute passing would end it).
    await ctx.sequelize.query('UPDATE rate_limits SET expire = 0 WHERE key = :key', { replacements: { key: `api:t:${id}` } });
    const res = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['ratelimit-remaining']).toBe(String(LIMIT - 1));
  });
});
