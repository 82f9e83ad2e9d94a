/**
 * Hostile HTTP input, property-based: fast-check throws generated bodies, query strings, headers and path
 * parameters at every route (the API's from /api/openapi.json, the pages' from the app's router). Properties,
 * checked after every input:
 *  - no 5xx, no reset connection, the process keeps answering;
 *  - an API error is the JSON error shape;
 *  - a read (GET/HEAD) or a refused request (4xx) changes no data at all (digest of every product table);
 *  - nothing a non-admin caller does changes rows it has no right to (the victim's, the other instructor's);
 *  - Object.prototype is never polluted; no stack trace or connection string leaks into a response.
 * The WebSocket side: fuzz-ws.test.ts. FUZZ_RUNS and FUZZ_SEED: see support/fuzz.ts.
 */
import fc from 'fast-check';
import { listRoutes } from '../support/contract';
import { rawRequest, type Caller, type RawResponse } from './support/world';
import { callers, ctx, deepNesting, digest, HUGE_NUMBERS, jsonText, key, RUNS, SEED, server, useFuzzTarget, world } from './support/fuzz';
import { record } from './support/stats';
import { assertProperty } from './support/property';

let routes: Array<{ method: string; path: string }>;
let tried = 0;
const fiveXX: string[] = [];
const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();

useFuzzTarget();

beforeAll(async () => {
  const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const api = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((method) => ({ method, path: `/api${p}` })));
  // Pages and static mounts come from the router itself; the API side is the document's.
  const pages = listRoutes(ctx.app as never).filter((r) => !r.path.startsWith('/api'));
  routes = [...api, ...pages, { method: 'get', path: '/static/{file}' }, { method: 'get', path: '/admin/{file}' }];
});

afterAll(() => record('inputs', 'HTTP requests', tried));

// --- generators

type Body = { type?: string; bytes: Buffer; label: string };
const body: fc.Arbitrary<Body | undefined> = fc.oneof(
  fc.constant(undefined),
  jsonText.map((t) => ({ type: 'application/json', bytes: Buffer.from(t), label: 'json' })),
  jsonText.map((t) => ({ type: 'application/json', bytes: Buffer.from(t), label: 'json' })),
  deepNesting.map((t) => ({ type: 'application/json', bytes: Buffer.from(t), label: 'deep' })),
  // Invalid UTF-8 inside a JSON string, and a lone invalid byte.
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => ({
    type: 'application/json',
    bytes: Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(b), Buffer.from('"}')]),
    label: 'bad-utf8',
  })),
  // Oversized: just past the 64 KiB limit, or far past it.
  fc.constantFrom(65 * 1024, 1024 * 1024).map((n) => ({ type: 'application/json', bytes: Buffer.from(`{"title":"${'x'.repeat(n)}"}`), label: 'oversized' })),
  fc.array(fc.tuple(key, fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...HUGE_NUMBERS))), { maxLength: 60 }).map((kv) => ({
    type: 'application/x-www-form-urlencoded',
    bytes: Buffer.from(kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
    label: 'form',
  })),
  fc
    .tuple(jsonText, fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/json; charset=koi8-r', 'multipart/form-data; boundary=x', 'application/xml'))
    .map(([t, type]) => ({ type, bytes: Buffer.from(t), label: 'wrong-type' })),
  jsonText.map((t) => ({ bytes: Buffer.from(t), label: 'no-type' })),
);

const queryPart = fc.oneof(
  fc.tuple(key, fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom(...HUGE_NUMBERS))).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
  // Raw bytes a careful client would never send: broken percent-escapes, encoded invalid UTF-8, brackets.
  fc.constantFrom('%', '%ZZ', 'q=%C3%28', 'q=%FF%FE', 'status[]=unread', 'limit[$gt]=1', '__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'cursor=%00', 'limit=1&limit=2', 'a'.repeat(3000) + '=1'),
);
const query = fc.array(queryPart, { maxLength: 6 }).map((parts) => (parts.length ? `?${parts.join('&')}` : ''));

const param = fc.oneof(
  fc.constantFrom('own', 'victim', 'missing'),
  fc.constantFrom(...HUGE_NUMBERS, '-1', '0', '1.5', '%00', '..%2F..%2Fpackage.json', '__proto__', 'constructor', '%C3%28', 'null', '[]'),
  fc.string({ maxLength: 16 }).map(encodeURIComponent),
);

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const headers = fc.record(
  {
    origin: fc.constantFrom('own', 'http://evil.example', 'null', 'http://allowed.example'),
    csrf: fc.constantFrom('own', 'own', 'own', 'missing', 'garbage'),
    cookie: fc.constantFrom('own', 'own', 'own', 'garbage', 'none'),
    hx: fc.boolean(),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'text/event-stream', ''),
    extra: fc.dictionary(fc.stringMatching(/^x-[a-z-]{1,20}$/), headerValue, { maxKeys: 3 }),
    forwarded: fc.option(fc.constantFrom('https', 'evil, https', '1.2.3.4'), { nil: undefined }),
  },
  { requiredKeys: ['origin', 'csrf', 'cookie', 'hx', 'accept', 'extra'] },
);

const method = fc.oneof(
  { weight: 9, arbitrary: fc.constant('route') },
  { weight: 1, arbitrary: fc.constantFrom('PUT', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND') },
);

interface Input {
  callerIndex: number;
  routeIndex: number;
  method: string;
  param: string;
  query: string;
  headers: { origin: string; csrf: string; cookie: string; hx: boolean; accept: string; extra: Record<string, string>; forwarded?: string };
  body: Body | undefined;
}

function idFor(collection: string, which: string, caller: Caller): string {
  const w = world;
  const table: Record<string, Record<string, number>> = {
    notifications: { own: w.notifications.candidate[0], victim: w.notifications.victim[0] },
    applications: { own: caller.name === 'candidate' ? w.applications.candidateForeign : w.applications.victimOwn, victim: w.applications.candidateForeign },
    courses: { own: w.courses.own, victim: w.courses.foreign },
    // Admin user edits only ever aim at the victim: deactivating a fuzz caller would turn the rest into 401s.
    users: { own: w.users.victim.id, victim: w.users.victim.id },
  };
  if (which === 'missing') return '987654321';
  return String(table[collection]?.[which] ?? which);
}

function concretePath(template: string, p: string, caller: Caller): string {
  return template.replace(/\/(\w+)\/\{(\w+)\}/g, (_m, collection: string) => {
    const key = collection === 'instructor' ? 'applications' : collection;
    const value = ['own', 'victim', 'missing'].includes(p) ? idFor(key, p, caller) : p;
    return `/${collection}/${value}`;
  }).replace(/\{\w+\}/g, ['own', 'victim', 'missing'].includes(p) ? 'app.js' : p);
}

function check(label: string, res: RawResponse, path: string) {
  if (res.status === 0) throw new Error(`${label}: connection reset (server crashed or aborted)`);
  if (res.status >= 500) {
    fiveXX.push(label);
    throw new Error(`${label}: ${res.status} ${res.body.slice(0, 300)}`);
  }
  if (/\n\s+at .+\.(ts|js):\d+/.test(res.body) || res.body.includes(ctx.dbUrl) || res.body.includes(ctx.config.sessionSecret)) {
    throw new Error(`${label}: the response leaks internals: ${res.body.slice(0, 300)}`);
  }
  const isApi = path.startsWith('/api/') && !path.startsWith('/api/docs');
  if (isApi && res.status >= 400 && res.status !== 405 && !label.includes(' HEAD ')) {
    expect(String(res.headers['content-type'])).toMatch(/application\/json/);
    const err = JSON.parse(res.body).error;
    expect(typeof err.code).toBe('string');
  }
  // Anything in `for (k in {})` means Object.prototype gained an enumerable key.
  for (const k in {}) throw new Error(`${label}: Object.prototype polluted with ${k}`);
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(protoBefore);
}

async function send(input: Input, state: { before: { all: string; protected: string } }) {
  const caller = callers[input.callerIndex % callers.length];
  const route = routes[input.routeIndex % routes.length];
  const verb = input.method === 'route' ? route.method.toUpperCase() : input.method;
  // Logging out would leave every later input of this caller anonymous; the security suite covers logout.
  if (caller.name !== 'anonymous' && /\/logout$/.test(route.path)) return;
  // A signed-in caller's event stream is an answer that never ends; test/realtime/sse.test.ts covers the stream.
  if (caller.name !== 'anonymous' && /\/notifications\/stream$/.test(route.path)) return;
  const path = concretePath(route.path, input.param, caller) + input.query;
  const h = input.headers;
  const headers: Record<string, string> = { ...h.extra, accept: h.accept };
  if (h.origin !== 'own') headers.origin = h.origin;
  else headers.origin = server.url;
  if (h.csrf === 'own') headers['x-csrf-token'] = caller.csrf;
  if (h.csrf === 'garbage') headers['x-csrf-token'] = 'x'.repeat(43);
  if (h.cookie === 'own') headers.cookie = caller.cookie;
  if (h.cookie === 'garbage') headers.cookie = `${caller.cookie}; herald.sid=s%3Agarbage.sig; __proto__=1`;
  if (h.hx) headers['hx-request'] = 'true';
  if (h.forwarded) headers['x-forwarded-proto'] = h.forwarded;
  if (input.body?.type) headers['content-type'] = input.body.type;
  const label = `${caller.name} ${verb} ${path.slice(0, 120)} body=${input.body?.label ?? 'none'}`;
  tried += 1;
  const res = await rawRequest(server.url, { method: verb, path, headers, body: input.body?.bytes });
  check(label, res, path);
  const after = await digest();
  // GET /notifications/:id marks the viewer's own notification read, on purpose (server/web/notifications.ts: what
  // an email link or a push click opens); a fuzz walk that reaches it with the candidate's own id sees that change.
  const readsOnOpen = verb === 'GET' && route.path === '/notifications/:notificationId' && res.status === 200;
  const mutating = readsOnOpen || !['GET', 'HEAD', 'OPTIONS'].includes(verb);
  if (!mutating || res.status >= 400) {
    if (after.all !== state.before.all) throw new Error(`${label}: answered ${res.status} but changed data`);
  }
  if (caller.name !== 'admin' && after.protected !== state.before.protected) {
    throw new Error(`${label}: ${caller.name} changed rows it has no right to (answered ${res.status})`);
  }
  state.before = after;
}

const input: fc.Arbitrary<Input> = fc.record({
  callerIndex: fc.nat(),
  routeIndex: fc.nat(),
  method,
  param,
  query,
  headers,
  body,
}) as fc.Arbitrary<Input>;

test(`every route, ${RUNS} generated requests: no 5xx, no unasked change, no pollution`, async () => {
  const state = { before: await digest() };
  await assertProperty(fc.asyncProperty(input, (i) => send(i, state)), { numRuns: RUNS, seed: SEED });
  // Every route was reached by something, so no route escaped the fuzz.
  expect(fiveXX).toEqual([]);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}, 600_000);

test('every route × every caller gets each hostile classic once', async () => {
  const classics: Array<Body | undefined> = [
    undefined,
    { type: 'application/json', bytes: Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'), label: 'proto' },
    { type: 'application/json', bytes: Buffer.from('['.repeat(20_000) + ']'.repeat(20_000)), label: 'deep' },
    { type: 'application/json', bytes: Buffer.from(`{"title":"${'x'.repeat(70 * 1024)}"}`), label: 'oversized' },
    { type: 'application/json', bytes: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), label: 'bad-utf8' },
    { type: 'application/json', bytes: Buffer.from('{"student_id":1e309,"ids":[123456789012345678901234567890],"limit":-0}'), label: 'huge' },
    { type: 'application/x-www-form-urlencoded', bytes: Buffer.from('__proto__[polluted]=1&constructor[prototype][polluted]=1&title=%C3%28'), label: 'form-proto' },
    { type: 'text/plain', bytes: Buffer.from('{"title":"t","message":"m","notification_type":"message"}'), label: 'text-plain' },
  ];
  const state = { before: await digest() };
  for (let c = 0; c < callers.length; c++) {
    for (let r = 0; r < routes.length; r++) {
      for (const b of classics) {
        // Real ids with every body; on routes with ids, every hostile id once more (with the first body).
        const hostileIds = ['1e309', 'NaN', '-1', '1.5', '%00', 'abc', '99999999999999999999', '__proto__'];
        const params = routes[r].path.includes('{') ? ['own', 'victim', ...(b === classics[0] ? hostileIds : [])] : ['own'];
        for (const p of params) {
          await send(
            {
              callerIndex: c,
              routeIndex: r,
              method: 'route',
              param: p,
              query: '?__proto__[polluted]=1&limit=1e309',
              headers: { origin: 'own', csrf: 'own', cookie: 'own', hx: false, accept: '*/*', extra: {} },
              body: b,
            },
            state,
          );
        }
      }
    }
  }
  expect(fiveXX).toEqual([]);
}, 600_000);
