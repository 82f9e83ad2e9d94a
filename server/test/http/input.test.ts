import type request from 'supertest';
import { createApiContext, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';

/**
 * Issue 10.2: PostgreSQL cannot store NUL in text, nor (as UTF-8) a lone UTF-16 surrogate. Every text input of
 * every page form and API endpoint must refuse them with a 4xx, once, where input is parsed: never a 500.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let ctx: ApiContext;
let as: Record<'anonymous' | 'candidate' | 'instructor' | 'admin', Agent>;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ctx = await createApiContext();
  const instructor = await ctx.createUser('instructor');
  const candidate = await ctx.createUser('candidate');
  const admin = await ctx.createUser('admin');
  as = {
    anonymous: await ctx.anonymous(),
    candidate: await ctx.login(candidate),
    instructor: await ctx.login(instructor),
    admin: await ctx.login(admin),
  };
  const course = await ctx.models.Course.create({ title: 'Target', instructorId: instructor.id });
  const other = await ctx.models.Course.create({ title: 'Other', instructorId: instructor.id });
  const application = await ctx.models.Application.create({ courseId: other.id, candidateId: (await ctx.createUser('candidate')).id });
  Object.assign(ids, { courses: course.id, applications: application.id, notifications: 1, users: candidate.id });
});
afterAll(() => ctx.close());

/** The two kinds of text PostgreSQL refuses, as a form or query value (percent-encoded) and as a JSON string. */
const NUL = { name: 'NUL', form: 'a%00@example.com', json: 'a\u0000@example.com' };
const SURROGATE = { name: 'lone surrogate', json: 'x\ud800y' };

/** Every page form and query a page reads (from server/web/*.ts), with who may reach its handler. */
const PAGE_INPUTS: Array<{ who: keyof typeof as; method: 'get' | 'post'; path: string; fields: string[] }> = [
  { who: 'anonymous', method: 'get', path: '/login', fields: ['next'] },
  { who: 'anonymous', method: 'post', path: '/login', fields: ['email', 'password', 'next'] },
  { who: 'candidate', method: 'get', path: '/courses', fields: ['q'] },
  { who: 'candidate', method: 'get', path: '/courses/{courses}', fields: ['notified'] },
  { who: 'candidate', method: 'post', path: '/courses/{courses}/apply', fields: ['motivation'] },
  { who: 'instructor', method: 'post', path: '/courses/{courses}/notify', fields: ['notification_type', 'title', 'message', 'idempotency_key', 'preset'] },
  { who: 'instructor', method: 'get', path: '/instructor/applications', fields: ['status'] },
  { who: 'instructor', method: 'post', path: '/instructor/applications/{applications}/reject', fields: ['reason'] },
  { who: 'candidate', method: 'get', path: '/notifications', fields: ['status', 'cursor'] },
];

/** A valid value for each page field, so the one bad field is the only thing wrong with the request. */
const GOOD: Record<string, string> = {
  email: 'someone@test.example',
  password: 'long enough password',
  motivation: 'I would really like to learn this.',
  notification_type: 'announcement',
  title: 'Hello',
  message: 'World',
  reason: 'Not this time',
};

const fill = (path: string, id?: string) => path.replace(/\{(\w+)\}/g, (_m, k: string) => id ?? String(ids[k]));

function expect4xx(res: request.Response, what: string) {
  if (res.status < 400 || res.status >= 500) throw new Error(`${what} -> ${res.status} ${res.text.slice(0, 200)}`);
}

describe('10.2 a NUL byte (or other text PostgreSQL cannot store) is a 4xx on every form and endpoint', () => {
  test('the issue’s own case: the login page with email=a%00@example.com', async () => {
    const res = await as.anonymous.post('/login').type('form').send(`email=${NUL.form}&password=whatever`);
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toMatch(/cannot store/);
  });

  test('every page form field and page query value', async () => {
    for (const { who, method, path, fields } of PAGE_INPUTS) {
      for (const field of fields) {
        const url = fill(path);
        const others = Object.entries(GOOD).filter(([k]) => k !== field).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
        const what = `${who} ${method.toUpperCase()} ${url} with ${field}=${NUL.form}`;
        const res =
          method === 'get'
            ? await as[who].get(`${url}?${field}=${NUL.form}`)
            : await as[who].post(url).type('form').send([...others, `${field}=${NUL.form}`].join('&'));
        expect4xx(res, what);
        expect(res.status).toBe(400);
      }
    }
  });

  test('an htmx request gets the error as a toast fragment, not a page', async () => {
    const res = await as.candidate
      .post(fill('/courses/{courses}/apply'))
      .set('HX-Request', 'true')
      .type('form')
      .send(`motivation=${NUL.form}`);
    expect(res.status).toBe(400);
    expect(res.headers['hx-reswap']).toBe('none');
    expect(res.text).not.toMatch(/<html/i);
    expect(res.text).toMatch(/cannot store/);
  });

  test('NUL in a page path segment', async () => {
    for (const path of ['/courses/%00', '/courses/1%00', '/instructor/applications/%00/approve', '/notifications/%00/read']) {
      const res = path.endsWith('approve') || path.endsWith('read') ? await as.instructor.post(path) : await as.candidate.get(path);
      expect4xx(res, path);
    }
  });

  test('every string field of every API body, every query parameter and every path parameter', async () => {
    let checked = 0;
    for (const { method, path, op } of ctx.contract.operations()) {
      const access = op['x-access'];
      const who: Agent = Array.isArray(access) ? as[access[0] as 'candidate'] : access === 'anyone' ? as.anonymous : as.candidate;
      const url = fill(path.replace(/\/(\w+)\/\{\w+\}/g, '/$1/{$1}'));
      const schema = resolve(op.requestBody?.content?.['application/json']?.schema);
      for (const field of Object.keys(schema.properties ?? {})) {
        for (const bad of [NUL, SURROGATE]) {
          const res = await (who as any)[method](url).send({ [field]: bad.json });
          expect4xx(res, `${method.toUpperCase()} ${url} with ${field}=${bad.name}`);
          expect(res.body.error.code).toMatch(/^(bad_request|validation_error)$/);
          checked += 1;
        }
      }
      for (const p of (op.parameters ?? []).filter((x: Json) => x.in === 'query')) {
        const res = await (who as any)[method](`${url}?${p.name}=${NUL.form}`);
        expect4xx(res, `${method.toUpperCase()} ${url}?${p.name}=${NUL.form}`);
        expect(res.status).toBe(400);
        checked += 1;
      }
      if (path.includes('{')) {
        const bad = fill(path.replace(/\/(\w+)\/\{\w+\}/g, '/$1/{$1}'), '1%00');
        const res = await (who as any)[method](bad);
        expect4xx(res, `${method.toUpperCase()} ${bad}`);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

function resolve(schema: Json | undefined): Json {
  if (schema?.$ref) return resolve(ctx.contract.doc.components.schemas[String(schema.$ref).split('/').pop()!]);
  return schema ?? {};
}
