import request from 'supertest';
import type { User } from '../../../models';
import { createApiContext, type ApiContext } from '../../support/api';
import { type Agent } from '../../support/harness';

let ctx: ApiContext;
let admin: User;
let adminAgent: Agent;

beforeAll(async () => {
  ctx = await createApiContext();
  admin = await ctx.createUser('admin');
  adminAgent = await ctx.loginChecked(admin);
});
afterAll(() => ctx.close());

const READS = [
  '/api/admin/stats',
  '/api/admin/notifications',
  // A search tells nothing either, and a bad filter is not looked at before the role is (403, not 400).
  '/api/admin/notifications?q=welcome&type=message,announcement&exclude_type=exam_result&course=1&status=done&sender=a',
  '/api/admin/notifications?type=nope&course=x',
  '/api/admin/notifications/1',
  '/api/admin/applications',
  '/api/admin/users',
];

describe('who may use the admin API', () => {
  test('anonymous: 401 on every endpoint', async () => {
    for (const url of READS) {
      const res = await request(ctx.app).get(url).expect(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    const anon = ctx.contract.wrap(await ctx.anonymous());
    await anon.post('/api/admin/audience/count', { audience: { kind: 'all' } }).expect(401);
    await anon.patch(`/api/admin/users/${admin.id}`, { role: 'candidate' }).expect(401);
  });

  test.each(['candidate', 'instructor'] as const)('%s: 403 on reads and writes', async (role) => {
    const agent = await ctx.loginChecked(await ctx.createUser(role));
    for (const url of READS) {
      const res = await agent.get(url).expect(403);
      expect(res.body).toEqual({ error: { code: 'forbidden', message: expect.any(String), details: null } });
    }
    await agent.post('/api/admin/notifications/send', {
      audience: { kind: 'all' },
      notification_type: 'announcement',
      title: 'hi',
    }).expect(403);
    await agent.post('/api/admin/notifications/bulk-delete', { ids: [1] }).expect(403);
    await agent.delete('/api/admin/notifications/1').expect(403);
    await agent.patch(`/api/admin/users/${admin.id}`, { role: 'candidate' }).expect(403);
    expect(await ctx.models.User.findByPk(admin.id)).toMatchObject({ role: 'admin', isActive: true });
  });

  test('admin: mutating calls need the CSRF token (either header name)', async () => {
    const body = { audience: { kind: 'all' } };
    const missing = await adminAgent.http.post('/api/admin/audience/count').send(body).expect(403);
    expect(missing.body.error.code).toBe('csrf_invalid');
    await adminAgent.http.post('/api/admin/audience/count').set('X-CSRF-Token', 'wrong').send(body).expect(403);
    await adminAgent.http.delete('/api/admin/notifications/1').expect(403);
    await adminAgent.http.post('/api/admin/audience/count').set('X-XSRF-TOKEN', adminAgent.csrf).send(body).expect(200);
    await adminAgent.post('/api/admin/audience/count', body).expect(200);
  });

  test('admin: reads work without a token', async () => {
    await adminAgent.get('/api/admin/stats').expect(200);
  });
});

describe('bad input is a 4xx with the JSON error shape, never a 500', () => {
  const badReads = [
    '/api/admin/notifications/abc',
    '/api/admin/notifications/1e99',
    '/api/admin/notifications/-1',
    '/api/admin/notifications/0',
    '/api/admin/notifications/1.5',
    '/api/admin/notifications?page=-1',
    '/api/admin/notifications?page=0',
    '/api/admin/notifications?page=abc',
    '/api/admin/notifications?page=1e99',
    '/api/admin/notifications?page_size=1000',
    '/api/admin/notifications?page_size=0',
    '/api/admin/notifications?from=not-a-date',
    '/api/admin/notifications?to=2026-13-45',
    '/api/admin/notifications?from=1',
    '/api/admin/notifications?sort=evil',
    '/api/admin/notifications?sort=created_at;DROP%20TABLE%20users',
    '/api/admin/notifications?order=sideways',
    '/api/admin/notifications?status=maybe',
    '/api/admin/notifications?type=nope',
    '/api/admin/notifications?type=message&type=announcement',
    `/api/admin/notifications?q=${'x'.repeat(201)}`,
    '/api/admin/applications?status=maybe',
    '/api/admin/applications?course_id=1e99',
    '/api/admin/applications?course_id=abc',
    '/api/admin/applications?page_size=101',
    '/api/admin/notifications?q=a%00b',
    '/api/admin/notifications?recipient=%00',
    '/api/admin/users?q=%00',
    '/api/admin/users?role=god',
    '/api/admin/users?page=-1',
  ];
  const short = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);
  test.each(badReads.map((url) => [short(url), url]))('GET %s -> 400', async (_label, url) => {
    const res = await adminAgent.get(url).expect(400);
    expect(res.body.error).toEqual({ code: 'validation_error', message: expect.any(String), details: expect.any(Array) });
  });

  const badWrites: Array<[string, string, unknown]> = [
    ['delete', '/api/admin/notifications/abc', undefined],
    ['post', '/api/admin/notifications/bulk-delete', {}],
    ['post', '/api/admin/notifications/bulk-delete', { ids: [] }],
    ['post', '/api/admin/notifications/bulk-delete', { ids: 'all' }],
    ['post', '/api/admin/notifications/bulk-delete', { ids: [1.5] }],
    ['post', '/api/admin/notifications/bulk-delete', { ids: [-1] }],
    ['post', '/api/admin/notifications/bulk-delete', { ids: [1e99] }],
    ['post', '/api/admin/notifications/bulk-delete', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }],
    ['post', '/api/admin/audience/count', {}],
    ['post', '/api/admin/audience/count', { audience: { kind: 'everyone' } }],
    ['post', '/api/admin/audience/count', { audience: { kind: 'user', user_id: 'abc' } }],
    ['post', '/api/admin/audience/count', { audience: { kind: 'course', course_id: 1e99 } }],
    ['post', '/api/admin/audience/count', { audience: { kind: 'role', role: 'god' } }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'announcement' }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'announcement', title: '   ' }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'application_approved', title: 'x' }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'message', title: 'x'.repeat(201) }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'message', title: 'x', data: [1] }],
    ['post', '/api/admin/notifications/send', { notification_type: 'message', title: 'x' }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'message', title: 'a\u0000b' }],
    ['post', '/api/admin/notifications/send', { audience: { kind: 'all' }, notification_type: 'message', title: 'x', message: '\ud800' }],
    ['patch', '/api/admin/users/abc', { role: 'candidate' }],
    ['patch', '/api/admin/users/1e99', { role: 'candidate' }],
    ['patch', '/api/admin/users/1', { role: 'god' }],
    ['patch', '/api/admin/users/1', { is_active: 'no' }],
    ['patch', '/api/admin/users/1', { name: 'Mallory' }],
    ['patch', '/api/admin/users/1', {}],
  ];
  test.each(badWrites.map(([m, url, body]) => [m, url, short(JSON.stringify(body) ?? ''), body]))(
    '%s %s %s -> 400',
    async (method, url, _label, body) => {
    const agent = adminAgent as unknown as Record<string, (u: string, b?: unknown) => request.Test>;
      const res = await agent[method as string](url as string, body as object).expect(400);
      expect(res.body.error.code).toBe('validation_error');
    },
  );

  test('a body that is not JSON is a 415; malformed JSON a 400', async () => {
    await adminAgent.http
      .post('/api/admin/notifications/bulk-delete')
      .set('X-CSRF-Token', adminAgent.csrf)
      .set('Content-Type', 'text/plain')
      .send('ids=1')
      .expect(415);
    const res = await adminAgent.http
      .post('/api/admin/notifications/bulk-delete')
      .set('X-CSRF-Token', adminAgent.csrf)
      .set('Content-Type', 'application/json')
      .send('{"ids": [1,')
      .expect(400);
    expect(res.body.error.code).toBe('bad_request');
  });

  test('missing records are 404s', async () => {
    await adminAgent.get('/api/admin/notifications/999999').expect(404);
    await adminAgent.delete('/api/admin/notifications/999999').expect(404);
    await adminAgent.patch('/api/admin/users/999999', { role: 'candidate' }).expect(404);
    await adminAgent.http.get('/api/admin/nothing-here').expect(404);
  });

  test('text that looks like SQL or LIKE wildcards is only text', async () => {
    for (const q of ["'; DROP TABLE users; --", '%', '_', '\\', ':q', '$1']) {
      const list = await adminAgent.get('/api/admin/notifications').query({ q, recipient: q }).expect(200);
      expect(list.body).toEqual({ results: [], total: 0, page: 1, page_size: 25, words: expect.any(Array) });
      const users = await adminAgent.get('/api/admin/users').query({ q }).expect(200);
      expect(users.body.total).toBe(0);
    }
    expect(await ctx.models.User.count()).toBeGreaterThan(0);
  });

  test('empty filter values mean "no filter" (the console sends cleared fields as blanks)', async () => {
    await adminAgent
      .get('/api/admin/notifications?type=&exclude_type=&course=&status=&from=&to=&q=&recipient=&sender=&sort=&order=')
      .expect(200);
    await adminAgent.get('/api/admin/users?role=&q=').expect(200);
    await adminAgent.get('/api/admin/applications?status=&course_id=').expect(200);
  });
});
