/**
 * Hostile input, property-based: fast-check throws generated bodies, query strings, headers and path parameters
 * at every route (the API's from /api/openapi.json, the pages' from the app's router), then generated frames at
 * both WebSocket endpoints. Properties, checked after every input:
 *  - no 5xx, no reset connection, the process keeps answering;
 *  - an API error is the JSON error shape;
 *  - a read (GET/HEAD) or a refused request (4xx) changes no data at all (digest of every product table);
 *  - nothing a non-admin caller does changes rows it has no right to (the victim's, the other instructor's);
 *  - Object.prototype is never polluted; no stack trace or connection string leaks into a response.
 *
 * FUZZ_RUNS scales the generated HTTP inputs (default 2500; frames are 2/5 of that). FUZZ_SEED replays a run.
 */
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { listRoutes } from '../support/contract';
import { createTestContext, type TestContext } from '../support/harness';
import { sleep, startServer, wsUrl } from '../support/realtime';
import { buildWorld, callerFor, closeKeepAlive, digester, rawRequest, type Caller, type RawResponse, type World } from './support/world';
import { record } from './support/stats';
import { assertProperty } from './support/property';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let ctx: TestContext;
let server: Awaited<ReturnType<typeof startServer>>;
let world: World;
let callers: Caller[];
let digest: () => Promise<{ all: string; protected: string }>;
let routes: Array<{ method: string; path: string }>;
let tried = 0;
const fiveXX: string[] = [];
const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();

beforeAll(async () => {
  // The rate caps (the socket's, the API's per session) would refuse long before thousands of inputs; the fuzz is
  // about parsing, not flooding.
  ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: '100000000' } });
  server = await startServer(ctx, { limits: { rateBurst: 1e9, ratePerSecond: 1e9 } });
  world = await buildWorld(ctx);
  callers = [
    await callerFor(server.url, 'anonymous'),
    await callerFor(server.url, 'candidate', world.users.candidate),
    await callerFor(server.url, 'instructor', world.users.instructor),
    await callerFor(server.url, 'admin', world.users.admin),
  ];
  digest = await digester(ctx.sequelize, world);
  const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const api = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((method) => ({ method, path: `/api${p}` })));
  // Pages and static mounts come from the router itself; the API side is the document's.
  const pages = listRoutes(ctx.app as never).filter((r) => !r.path.startsWith('/api'));
  routes = [...api, ...pages, { method: 'get', path: '/static/{file}' }, { method: 'get', path: '/admin/{file}' }];
}, 60_000);

afterAll(async () => {
  record('inputs', 'HTTP requests', tried);
  closeKeepAlive();
  await server?.close();
  await ctx?.close();
});

// --- generators

/** Keys that pollute prototypes when a parser or a merge treats them as paths. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '__proto__[polluted]', 'constructor[prototype][polluted]', 'toString', 'hasOwnProperty', 'valueOf'];
/** Field names the handlers read, so generated bodies reach past the first "unknown field" check. */
const FIELDS = [
  'email', 'password', 'title', 'message', 'notification_type', 'data', 'motivation', 'reason', 'student_id', 'ids',
  'audience', 'kind', 'course_id', 'role', 'is_active', 'status', 'limit', 'cursor', 'type', 'q', 'page', 'page_size',
  'user_id', 'preset', '_csrf', 'id', 'next',
];
const HUGE_NUMBERS = ['1e309', '-1e309', '123456789012345678901234567890', '9007199254740993', '-0', '1e-400', '0x7fffffff', '2147483648', 'NaN', 'Infinity'];

const key = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 }));
const scalarText = fc.oneof(
  fc.constantFrom(...HUGE_NUMBERS),
  fc.integer().map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '0')),
  fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('true', 'false', 'null', '"\\ud800"', '"\\u0000"', '"<script>alert(1)</script>"', '"admin"', '"instructor"', '"course"', '"all"'),
);
/** JSON text built by hand, so `__proto__` can be a real own key and numbers can exceed what JS holds. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarText,
    fc.array(tie('v'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 5 }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).v;

const deepNesting = fc.integer({ min: 100, max: 30_000 }).chain((n) =>
  fc.constantFrom('[', '{"a":').map((open) => (open === '[' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n))),
);

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
  const mutating = !['GET', 'HEAD', 'OPTIONS'].includes(verb);
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

// --- WebSocket frames

class FrameClient {
  ws!: WebSocket;
  replies: string[] = [];
  closeCode: number | null = null;
  constructor(readonly path: string, readonly cookie: string) {}
  async open() {
    this.closeCode = null;
    this.ws = new WebSocket(wsUrl(server.url, this.path), { headers: { cookie: this.cookie, origin: server.url }, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    this.ws.on('message', (d) => this.replies.push(d.toString()));
    this.ws.on('close', (code) => (this.closeCode = code));
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', (code) => reject(new Error(`closed at once: ${code}`)));
    });
  }
  /**
   * Sends `frames`, then a ping, and waits for its pong, or, when a frame must close the socket, for that close:
   * a generated ping frame earlier in the batch can be answered before the server reaches the bad frame, and
   * returning on that pong would blame the close on the next batch.
   */
  async roundTrip(frames: Array<string | Buffer>, binary: boolean[], expectClose: boolean): Promise<void> {
    const from = this.replies.length;
    for (let i = 0; i < frames.length; i++) this.ws.send(frames[i], { binary: binary[i] });
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send('{"type":"ping"}');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if (this.closeCode !== null) return;
      if (!expectClose && this.replies.slice(from).some((r) => r.includes('"pong"'))) return;
      await sleep(2);
    }
    throw new Error(`no ${expectClose ? 'close' : 'pong'} within 5 s after ${JSON.stringify(frames.map((f) => String(f).slice(0, 80)))}`);
  }
}

test(`${Math.round(RUNS * 0.4)} generated WebSocket frames on both endpoints: answers or named closes, never a crash`, async () => {
  const candidate = callers[1];
  const clients = [new FrameClient('/ws/notifications', candidate.cookie), new FrameClient('/ws/bell', candidate.cookie)];
  for (const c of clients) await c.open();
  // Frames may legitimately mark the candidate's own notifications read; nothing else may change.
  const othersDigest = async () => {
    const [row] = await ctx.sequelize.query<{ d: string }>(
      `SELECT md5(string_agg(n::text, ',' ORDER BY n.id)) AS d FROM notifications n WHERE recipient_id <> :me`,
      { replacements: { me: world.users.candidate.id }, type: 'SELECT' as never },
    );
    return row.d;
  };
  const before = await othersDigest();
  const protectedBefore = (await digest()).protected;
  const frame = fc.oneof(
    jsonText,
    fc.record({ type: fc.constantFrom('mark_as_read', 'mark_all_as_read', 'ping', 'subscribe', '__proto__'), id: fc.oneof(fc.constantFrom(...HUGE_NUMBERS), fc.constantFrom(String(world.notifications.victim[0]), `"${world.notifications.victim[1]}"`, String(world.notifications.candidate[1]))) })
      .map((m) => `{"type":"${m.type}","id":${m.id}}`),
    fc.constantFrom('{"type":"mark_as_read","id":' + world.notifications.victim[0] + ',"__proto__":{"polluted":1}}', 'null', '[]', '"x"', '1e309', ''),
    deepNesting,
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  const special = fc.oneof(
    // A text frame past 64 KiB (deep nesting can be) is an oversized one: ws closes it with 1009.
    { weight: 12, arbitrary: frame.map((f) => ({ bytes: f as string | Buffer, binary: false, kind: Buffer.byteLength(f) > 64 * 1024 ? 'oversized' : 'text' })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: Buffer.from(b) as string | Buffer, binary: true, kind: 'binary' })) },
    // Text frames whose bytes are not UTF-8: ws closes with 1007.
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.from([0x7b, 0xc3, 0x28, 0xff]) as string | Buffer, binary: false, kind: 'bad-utf8' }) },
    // Past the 64 KiB frame limit: 1009.
    { weight: 1, arbitrary: fc.constant({ bytes: 'x'.repeat(65 * 1024 + 1) as string | Buffer, binary: false, kind: 'oversized' }) },
  );
  let frames = 0;
  const closes = new Map<number, number>();
  await assertProperty(
    fc.asyncProperty(fc.nat({ max: 1 }), fc.array(special, { minLength: 1, maxLength: 4 }), async (which, batch) => {
      const c = clients[which];
      frames += batch.length;
      const mustClose = batch.some((b) => b.kind === 'bad-utf8' || b.kind === 'oversized');
      await c.roundTrip(batch.map((b) => b.bytes), batch.map((b) => b.binary), mustClose);
      for (const r of c.replies.splice(0)) {
        // Every answer is a JSON frame of a known kind, or (bell) an HTML fragment.
        if (r.startsWith('<')) continue;
        const msg = JSON.parse(r);
        expect(['pong', 'error', 'notification_read', 'unread_count', 'connection_established', 'notification']).toContain(msg.type);
      }
      if (c.closeCode !== null) {
        // Only the two named closes a hostile frame may cause; anything else is a bug.
        expect([1007, 1009]).toContain(c.closeCode);
        expect(mustClose).toBe(true);
        closes.set(c.closeCode, (closes.get(c.closeCode) ?? 0) + 1);
        await c.open();
      }
      for (const k in {}) throw new Error(`Object.prototype polluted with ${k}`);
    }),
    { numRuns: Math.round(RUNS * 0.4), seed: SEED },
  );
  await sleep(200); // mark_as_read frames are answered asynchronously
  expect(await othersDigest()).toBe(before);
  expect((await digest()).protected).toBe(protectedBefore);
  record('inputs', 'WebSocket frames', frames);
  for (const c of clients) c.ws.terminate();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}, 600_000);
