import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import express, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import type { Config } from '../../config';
import { csrfProtection, originAllowed } from '../../http/security';
import { createApp } from '../../app';
import { createSession } from '../../http/session';
import { createLogger } from '../../logger';
import { createApiContext, type ApiContext } from '../support/api';
import { PASSWORD } from '../support/harness';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

describe('CORS', () => {
  test('a configured origin may call the API with credentials', async () => {
    const preflight = await request(ctx.app)
      .options('/api/notifications/mark_all_read/')
      .set('Origin', 'http://allowed.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-csrf-token');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://allowed.example');
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/X-CSRF-Token/i);
    expect(preflight.headers['access-control-allow-methods']).toMatch(/PATCH/);

    const agent = await ctx.login(await ctx.createUser('candidate'));
    const res = await agent.get('/api/notifications/unread_count').set('Origin', 'http://allowed.example').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://allowed.example');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers.vary).toMatch(/Origin/);
  });

  test('any other origin gets no CORS headers at all', async () => {
    for (const origin of ['http://evil.example', 'http://allowed.example.evil.example', 'null', 'http://allowed.example:8080']) {
      const preflight = await request(ctx.app)
        .options('/api/notifications/')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'GET');
      const simple = await request(ctx.app).get('/api/auth/csrf').set('Origin', origin);
      for (const res of [preflight, simple]) {
        expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      }
    }
  });
});

describe('every API answer', () => {
  test('carries security headers and a request id, and errors are JSON without internals', async () => {
    const res = await request(ctx.app).get('/api/no/such/thing').expect(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'Endpoint not found.', details: null } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['referrer-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    const other = await request(ctx.app).get('/api/no/such/thing');
    expect(other.headers['x-request-id']).not.toBe(res.headers['x-request-id']);
  });

  test('GET /healthz answers 200 without a session', async () => {
    const res = await request(ctx.app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('an unknown method on a known path is a JSON 404, not an HTML page', async () => {
    const agent = await ctx.login(await ctx.createUser('candidate'));
    const res = await agent.http.put('/api/notifications/1').set('X-CSRF-Token', agent.csrf).send({}).expect(404);
    expect(res.type).toBe('application/json');
    expect(res.body.error.code).toBe('not_found');
  });

  test('validation errors say which field is wrong and why', async () => {
    const agent = await ctx.loginChecked(await ctx.createUser('candidate'));
    const res = await agent.get('/api/notifications/?limit=1000&status=maybe').expect(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'limit', message: expect.stringMatching(/100/) },
        { field: 'status', message: expect.any(String) },
      ]),
    );
    expect(res.body.error.message).toMatch(/limit/);
  });
});

describe('logs', () => {
  test('are structured, carry the request id, and never hold passwords, cookies or tokens', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const session = createSession(ctx.config, ctx.dbUrl);
    const app = createApp({ config: ctx.config, logger: createLogger('info', sink), services: ctx.services, session: session.middleware });
    try {
      const user = await ctx.createUser('candidate');
      const http = request.agent(app);
      const { body } = await http.get('/api/auth/csrf').expect(200);
      const wrong = await http.post('/api/auth/login').set('X-CSRF-Token', body.csrf_token).send({ email: user.email, password: 'hunter2-wrong' });
      expect(wrong.status).toBe(401);
      const login = await http.post('/api/auth/login').set('X-CSRF-Token', body.csrf_token).send({ email: user.email, password: PASSWORD }).expect(200);
      const me = await http.get('/api/auth/me').set('X-CSRF-Token', login.body.csrf_token).expect(200);
      await http.post('/api/auth/login').set('X-XSRF-TOKEN', login.body.csrf_token).type('json').send('{"password": "in-a-broken-body", ').expect(400);

      const records = lines.map((l) => JSON.parse(l));
      const requests = records.filter((r) => r.req);
      expect(requests.length).toBeGreaterThanOrEqual(5);
      expect(requests.find((r) => r.req.url === '/api/auth/me')?.req.id).toBe(me.headers['x-request-id']);
      const text = lines.join('\n');
      const cookieValues = ([] as string[])
        .concat(login.headers['set-cookie'])
        .map((c) => decodeURIComponent(c.split(';')[0].split('=')[1]));
      for (const secret of [PASSWORD, 'hunter2-wrong', 'in-a-broken-body', body.csrf_token, login.body.csrf_token, ...cookieValues]) {
        expect(text).not.toContain(secret);
      }
      expect(text).toContain('[redacted]');
    } finally {
      await session.pool.end();
    }
  });
});

describe('one Origin rule for CSRF and WebSocket upgrades', () => {
  const behindProxy = (): Config => ({ ...ctx.config, publicUrl: 'https://herald.example/app', trustProxy: true });
  const plain = (): Config => ctx.config;
  const forwarded = (proto: string) => ({ 'x-forwarded-proto': proto });
  const untrusted = (): Config => ({ ...behindProxy(), trustProxy: false });
  const cases: Array<[string, Record<string, string>, () => Config, boolean]> = [
    ['PUBLIC_URL', { origin: 'https://herald.example' }, behindProxy, true],
    ['ALLOWED_ORIGINS', { origin: 'http://allowed.example' }, behindProxy, true],
    ['own origin, scheme from a trusted proxy', { origin: 'https://herald.internal', ...forwarded('https, http') }, behindProxy, true],
    ['own origin, untrusted proxy header', { origin: 'https://herald.internal', ...forwarded('https') }, untrusted, false],
    ['own origin, plain', { origin: 'http://herald.internal' }, plain, true],
    ['look-alike of PUBLIC_URL', { origin: 'https://herald.example.evil.com' }, behindProxy, false],
    ['PUBLIC_URL with its path', { origin: 'https://herald.example/app' }, behindProxy, false],
    ['foreign', { origin: 'http://evil.example' }, behindProxy, false],
  ];

  test.each(cases)('%s', async (_name, headers, configure, allowed) => {
    const config = configure();
    // The upgrade calls originAllowed on the bare request...
    const req = { headers: { host: 'herald.internal', ...headers }, socket: {} } as unknown as IncomingMessage;
    expect(originAllowed(req, config)).toBe(allowed);
    // ...and so does the CSRF check: an allowed origin gets as far as the (missing) token.
    const app = express();
    app.use(csrfProtection(config));
    app.use(((err, _req, res, _next) => res.status(err.status).json({ code: err.code })) as ErrorRequestHandler);
    const res = await request(app).post('/').set('Host', 'herald.internal').set(headers).expect(403);
    expect(res.body.code).toBe(allowed ? 'csrf_invalid' : 'csrf_origin');
  });

  test('a missing Origin is never an allowed one (the upgrade refuses it; CSRF falls back to the token)', () => {
    const req = { headers: { host: 'herald.internal' }, socket: {} } as unknown as IncomingMessage;
    expect(originAllowed(req, ctx.config)).toBe(false);
  });
});
