import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { renderDocsPage } from '../../api/openapi/docs-page';
import { listRoutes } from '../support/contract';
import { createApiContext, type ApiContext } from '../support/api';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

const key = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with unique operation ids and resolvable references', () => {
    const { doc } = ctx.contract;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: '/api' }]);
    const ids = ctx.contract.operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const name of refs) expect(doc.components.schemas).toHaveProperty([name]);
    for (const { path, op } of ctx.contract.operations()) {
      // Every {param} in a path is declared, and nothing else is declared in the path.
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name);
      expect(declared.sort()).toEqual(inPath);
      expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
    }
  });

  // Both the /api router and the document are built from one list of operations (server/api/operations.ts),
  // so a route missing from the document can no longer happen by construction. This test stays as the proof:
  // it walks what Express really serves, and would catch a route mounted beside the list.
  test('documents every route of /api, and documents nothing that is not a route', () => {
    const routes = new Set(listRoutes(ctx.app).filter((r) => r.path.startsWith('/api/')).map(key));
    const documented = new Set(ctx.contract.operations().map(key));
    expect([...routes].filter((r) => !documented.has(r)).sort()).toEqual([]); // undocumented routes
    expect([...documented].filter((d) => !routes.has(d)).sort()).toEqual([]); // documented, but not served
    expect(routes.size).toBeGreaterThanOrEqual(28);
  });

  test('every documented operation is reached with and without its trailing slash', async () => {
    // An anonymous client with a CSRF token: each call reaches its handler or guard (never the API's final
    // "Endpoint not found"), and the answer is one the document declares.
    const anon = ctx.contract.wrap(await ctx.anonymous());
    for (const { method, path } of ctx.contract.operations()) {
      if (path === '/api/auth/logout' || path === '/api/auth/login') continue; // they change the session
      const concrete = path.replace(/\{\w+\}/g, '999999');
      for (const url of [concrete, `${concrete}/`]) {
        const res = await (anon as unknown as Record<string, (u: string) => request.Test>)[method](url);
        expect(res.body?.error?.message).not.toBe('Endpoint not found.');
      }
    }
  });

  test('the access it documents is what the server enforces: 401 without a login, 403 for other roles', async () => {
    const anon = ctx.contract.wrap(await ctx.anonymous());
    const byRole = {
      candidate: await ctx.loginChecked(await ctx.createUser('candidate')),
      instructor: await ctx.loginChecked(await ctx.createUser('instructor')),
      admin: await ctx.loginChecked(await ctx.createUser('admin')),
    };
    let checked = 0;
    for (const { method, path, op } of ctx.contract.operations()) {
      const access = op['x-access'] as 'anyone' | 'user' | Array<keyof typeof byRole>;
      if (access === 'anyone') continue;
      const url = path.replace(/\{\w+\}/g, '999999');
      const call = (agent: typeof anon) => (agent as unknown as Record<string, (u: string) => request.Test>)[method](url);
      expect([method, path, (await call(anon)).status]).toEqual([method, path, 401]);
      if (!Array.isArray(access)) continue;
      for (const role of Object.keys(byRole) as Array<keyof typeof byRole>) {
        if (access.includes(role)) continue;
        expect([method, path, role, (await call(byRole[role])).status]).toEqual([method, path, role, 403]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  test('is served as JSON and as a readable page that lists every operation', async () => {
    const json = await request(ctx.app).get('/api/openapi.json/').expect(200);
    expect(json.body).toEqual(ctx.contract.doc);
    const page = await request(ctx.app).get('/api/docs').expect(200).expect('Content-Type', /text\/html/);
    for (const { method, path } of ctx.contract.operations()) {
      expect(page.text).toContain(`<span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code>`);
    }
    for (const name of Object.keys(ctx.contract.doc.components.schemas)) expect(page.text).toContain(`id="schema-${name}"`);
  });

  test('the page says, for each operation, which token scopes may call it, and shows every webhook event', async () => {
    const page = (await request(ctx.app).get('/api/docs').expect(200)).text;
    const section = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</section>', page.indexOf(`id="${id}"`)));
    const byPath = (method: string, path: string) => ctx.contract.doc.paths[path][method];
    expect(section(byPath('get', '/notifications').operationId)).toContain('Access tokens: with the scope <code>notifications:read</code>.');
    expect(section(byPath('post', '/webhooks').operationId)).toContain('Access tokens: with the scope <code>courses:notify</code>.');
    expect(section(byPath('post', '/tokens').operationId)).toContain('Access tokens: not accepted; sign in with a session.');
    expect(section(byPath('get', '/auth/csrf').operationId)).not.toContain('Access tokens:');
    for (const type of Object.keys(ctx.contract.doc.webhooks)) {
      const event = section(`webhook-${type}`);
      expect(event).toContain(`<code>${type}</code>`);
      for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) expect(event).toContain(`<code>${header}</code>`);
      expect(event).toContain('<code>data.');
    }
    // The walkthrough a new consumer follows: a token from a terminal, then a webhook verified with the package.
    expect(page).toContain('$B/api/tokens/');
    expect(page).toContain('$B/api/webhooks/');
    expect(page).toContain('<code>standardwebhooks</code>');
  });

  test('the page escapes whatever the document says: descriptions are text, never HTML', () => {
    const hostile = '<script>alert(1)</script> & `<b>code</b>` **<i>bold</i>**';
    const doc = {
      ...ctx.contract.doc,
      info: { ...ctx.contract.doc.info, description: hostile },
      paths: { '/x': { get: { operationId: 'x"><img>', summary: hostile, description: hostile, responses: { 200: { description: hostile } } } } },
    };
    const page = renderDocsPage(doc);
    expect(page).not.toMatch(/<script>|<b>|<i>|<img>/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>&lt;b&gt;code&lt;/b&gt;</code> <strong>&lt;i&gt;bold&lt;/i&gt;</strong>');
  });

  test('the admin console’s committed API types are what the document generates now', () => {
    // Committed so a change of ctx.contract shows in review as a change of the console's types; run
    // `npm run api:types` (or `npm run build`) after changing an operation. A child process, because
    // openapi-typescript's ES modules do not load inside jest's CommonJS runtime.
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'admin/scripts/api-types.ts', '--check'], {
      cwd: path.join(__dirname, '..', '..', '..'),
      encoding: 'utf8',
    });
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('the ctx.contract check itself rejects what the document does not promise', async () => {
    const res = await request(ctx.app).get('/api/auth/me');
    expect(() => ctx.contract.check('get', '/api/auth/me', res)).not.toThrow(); // 401 is documented
    const fake = { ...res, status: 418 } as typeof res;
    expect(() => ctx.contract.check('get', '/api/auth/me', fake)).toThrow(/Undocumented status/);
    const wrongBody = { ...res, status: 200, body: { user: { id: 'x' } } } as unknown as typeof res;
    expect(() => ctx.contract.check('get', '/api/auth/me', wrongBody)).toThrow(/does not match/);
    expect(() => ctx.contract.check('put', '/api/auth/me', res)).toThrow(/Undocumented endpoint/);
  });
});

describe('the rate-limit headers it documents (issue 15)', () => {
  const RATE = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
  type Response = { headers?: Record<string, { $ref: string }> };

  test('every /api operation documents them on every answer, and a 429 that adds Retry-After', () => {
    const { doc } = ctx.contract;
    for (const name of [...RATE, 'Retry-After']) expect(doc.components.headers[name].schema).toEqual({ type: 'integer' });
    let answers = 0;
    for (const { method, path, op } of ctx.contract.operations()) {
      const responses = op.responses as Record<string, Response>;
      expect([method, path, Object.keys(responses)]).toEqual([method, path, expect.arrayContaining(['429'])]);
      for (const [status, r] of Object.entries(responses)) {
        const names = Object.keys(r.headers ?? {});
        const expected = status === '429' ? [...RATE, 'Retry-After'] : RATE;
        expect([method, path, status, names.sort()]).toEqual([method, path, status, [...expected].sort()]);
        for (const name of names) expect(r.headers![name]).toEqual({ $ref: `#/components/headers/${name}` });
        answers += 1;
      }
    }
    expect(answers).toBeGreaterThan(100);
  });

  // The names a client reads come from the document; a real answer of each kind the API gives (the handler's own,
  // and every guard's in front of it) must carry them, and carry no rate header the document does not name.
  test('real answers carry the headers the document names, whatever the status and whoever refused', async () => {
    const { doc } = ctx.contract;
    const anon = await ctx.anonymous();
    const user = await ctx.createUser('candidate');
    const member = await ctx.login(user);
    // A token whose minute is spent (as 600 requests would spend it): the next request is over the limit.
    const { id, token } = await ctx.services.tokens.create(user, { name: 'spent', scopes: ['notifications:read'], expiresInDays: null });
    await request(ctx.app).get('/api/notifications/unread_count/').set('Authorization', `Bearer ${token}`).expect(200);
    await ctx.sequelize.query('UPDATE rate_limits SET points = :limit WHERE key = :key', {
      replacements: { limit: ctx.config.apiRateLimitPerMinute, key: `api:t:${id}` },
    });
    const json = (t: request.Test) => t.set('X-CSRF-Token', anon.csrf).set('Content-Type', 'application/json');
    const probes: Array<[string, string, number, () => request.Test]> = [
      ['get', '/auth/csrf', 200, () => request(ctx.app).get('/api/auth/csrf')],
      ['post', '/auth/login', 400, () => json(anon.http.post('/api/auth/login')).send('{"email":')], // not JSON
      ['get', '/notifications/{id}', 400, () => member.http.get('/api/notifications/1%00/')], // NUL in the path
      ['post', '/auth/login', 413, () => json(anon.http.post('/api/auth/login')).send(JSON.stringify({ email: 'a'.repeat(70_000) }))],
      ['post', '/auth/login', 415, () => anon.http.post('/api/auth/login').set('X-CSRF-Token', anon.csrf).set('Content-Type', 'text/plain').send('x')],
      ['get', '/notifications', 401, () => request(ctx.app).get('/api/notifications/')], // no login
      ['get', '/notifications', 401, () => request(ctx.app).get('/api/notifications/').set('Authorization', 'Bearer hrld_unknown')],
      ['post', '/notifications/mark_all_read', 403, () => member.http.post('/api/notifications/mark_all_read/').send({})], // no CSRF token
      ['get', '/notifications/{id}', 404, () => member.http.get('/api/notifications/999999/')],
      ['get', '/notifications', 429, () => request(ctx.app).get('/api/notifications/').set('Authorization', `Bearer ${token}`)],
    ];
    const seen: unknown[] = [];
    for (const [method, path, status, send] of probes) {
      const res = await send();
      const documented = Object.keys(doc.paths[path][method].responses[status]?.headers ?? {});
      const carried = Object.keys(res.headers).filter((h) => /^ratelimit|^retry-after$/i.test(h));
      seen.push([
        method,
        path,
        res.status,
        documented.map((name) => [name, /^\d+$/.test(res.headers[name.toLowerCase()] ?? '')]),
        carried.filter((h) => !documented.some((d) => d.toLowerCase() === h)),
      ]);
    }
    expect(seen).toEqual(
      probes.map(([method, path, status]) => [
        method,
        path,
        status,
        (status === 429 ? [...RATE, 'Retry-After'] : RATE).map((name) => [name, true]),
        [],
      ]),
    );
  });
});
