/**
 * The security suite, against the real app on a real port: CSRF (missing, foreign, replayed, pre-login tokens;
 * text/plain and form bodies to JSON endpoints; foreign Origins), WebSocket Origin and logout, session fixation
 * and cookie flags, IDOR on every object route, role escalation, stored XSS in every rendered field (pages,
 * htmx fragments and pushed fragments) and login brute force. Every refused request must also leave the data
 * exactly as it was.
 */
import { listRoutes } from '../support/contract';
import { createTestContext, PASSWORD, type TestContext } from '../support/harness';
import { Client, login, sleep, startServer, wsUrl } from '../support/realtime';
import { buildWorld, callerFor, digester, type Caller, type World } from './support/world';
import { record } from './support/stats';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let ctx: TestContext;
let server: Awaited<ReturnType<typeof startServer>>;
let world: World;
let doc: { paths: Record<string, Record<string, Json>> };
let digest: () => Promise<{ all: string; protected: string }>;
const as = {} as Record<'anonymous' | 'candidate' | 'instructor' | 'admin' | 'victim', Caller>;
let checks = 0;

beforeAll(async () => {
  // Hundreds of refused requests per caller within a minute: the API's rate limit (tested in api/rate-limit.test.ts)
  // would answer 429 before the CSRF, IDOR and role checks this suite is about.
  ctx = await createTestContext({ env: { API_RATE_LIMIT_PER_MINUTE: '100000000' } });
  server = await startServer(ctx);
  world = await buildWorld(ctx);
  as.anonymous = await callerFor(server.url, 'anonymous');
  for (const role of ['candidate', 'instructor', 'admin'] as const) as[role] = await callerFor(server.url, role, world.users[role]);
  as.victim = await callerFor(server.url, 'candidate', world.users.victim);
  digest = await digester(ctx.sequelize, world);
  doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
}, 60_000);

afterAll(async () => {
  record('inputs', 'security probes', checks);
  await server?.close();
  await ctx?.close();
});

interface Res {
  status: number;
  headers: Headers;
  text: string;
  json?: Json;
}

/** One request as a browser (or an attacker) would send it. No redirects are followed. */
async function call(
  method: string,
  path: string,
  opts: { who?: Caller; csrf?: string | null; body?: string; type?: string; origin?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.who?.cookie) headers.cookie = opts.who.cookie;
  const token = opts.csrf === undefined ? opts.who?.csrf : opts.csrf;
  if (token) headers['x-csrf-token'] = token;
  if (opts.type) headers['content-type'] = opts.type;
  if (opts.origin) headers.origin = opts.origin;
  checks += 1;
  const res = await fetch(`${server.url}${path}`, { method, headers, body: opts.body, redirect: 'manual' });
  const text = await res.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Runs `fn` and fails if any product data changed meanwhile. */
async function unchanged(fn: () => Promise<void>) {
  const before = await digest();
  await fn();
  expect(await digest()).toEqual(before);
}

/** The API's state-changing operations, with ids of objects the caller could legitimately touch. */
function mutatingApiOps(): Array<{ method: string; path: string; roles: string }> {
  const out: Array<{ method: string; path: string; roles: string }> = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (['get', 'head', 'options'].includes(method)) continue;
      const roles = /Roles: ([^.]+)\./.exec(op.description ?? '')?.[1] ?? (/No login needed/.test(op.description ?? '') ? 'anyone' : 'user');
      out.push({ method: method.toUpperCase(), path: `/api${fill(p, 'own')}`, roles });
    }
  }
  return out;
}

/** A documented path with real ids: the caller's own objects, or the victim's. */
function fill(p: string, which: 'own' | 'victim'): string {
  const ids: Record<string, [number, number]> = {
    notifications: [world.notifications.candidate[0], world.notifications.victim[0]],
    applications: [world.applications.victimOwn, world.applications.candidateForeign],
    courses: [world.courses.own, world.courses.foreign],
    users: [world.users.victim.id, world.users.victim.id],
  };
  return p.replace(/\/(\w+)\/\{\w+\}/g, (_m, c: string) => `/${c}/${ids[c]?.[which === 'own' ? 0 : 1] ?? 1}`);
}

const JSON_TYPE = 'application/json';
const SOME_BODY = JSON.stringify({ title: 't', message: 'm', notification_type: 'message', motivation: 'I would like to join.', reason: 'r', student_id: 1, ids: [1], audience: { kind: 'all' }, email: 'a@b.c', password: 'x' });

describe('CSRF', () => {
  test('every state-changing API route refuses a missing, garbage, foreign or pre-login token, and foreign Origins', async () => {
    const ops = mutatingApiOps().filter((o) => !o.path.endsWith('/logout'));
    expect(ops.length).toBeGreaterThan(10);
    // A token from before login (the anonymous session's) must be dead after login: the session id changed.
    const preLogin = await callerFor(server.url, 'anonymous');
    const relogged = { ...(await login(server.url, world.users.candidate)), name: 'candidate' as const };
    await unchanged(async () => {
      for (const op of ops) {
        const attempts: Array<[string, Parameters<typeof call>[2]]> = [
          ['missing', { who: as.admin, csrf: null }],
          ['garbage', { who: as.admin, csrf: 'A'.repeat(64) }],
          ['foreign session', { who: as.admin, csrf: as.candidate.csrf }],
          ['pre-login', { who: relogged, csrf: preLogin.csrf }],
          ['foreign origin', { who: as.admin, origin: 'http://evil.example' }],
          ['null origin', { who: as.admin, origin: 'null' }],
          ['look-alike origin', { who: as.admin, origin: `${server.url}.evil.example` }],
          ['cross-site fetch', { who: as.admin, csrf: null, headers: { 'sec-fetch-site': 'cross-site' } }],
        ];
        for (const [what, opts] of attempts) {
          const res = await call(op.method, op.path, { ...opts, body: SOME_BODY, type: JSON_TYPE });
          if (res.status !== 403) throw new Error(`${op.method} ${op.path} with a ${what} token answered ${res.status}`);
          expect(res.json?.error.code).toMatch(/^csrf_/);
        }
      }
    });
  });

  test('a token replayed after logout, or from another user, opens nothing', async () => {
    const victim = await callerFor(server.url, 'candidate', world.users.victim);
    const out = await call('POST', '/api/auth/logout', { who: victim, body: '{}', type: JSON_TYPE });
    expect(out.status).toBe(204);
    await unchanged(async () => {
      // The logged-out cookie with its old token: the session is gone, so no user and no token state.
      for (const path of ['/api/notifications/mark_all_read', `/api/notifications/${world.notifications.victim[0]}/mark_read`]) {
        const replay = await call('POST', path, { who: victim, body: '{}', type: JSON_TYPE });
        expect([401, 403]).toContain(replay.status);
        // The victim's old token on the attacker's own session.
        const cross = await call('POST', path, { who: as.candidate, csrf: victim.csrf, body: '{}', type: JSON_TYPE });
        expect(cross.status).toBe(403);
      }
    });
  });

  test('text/plain and form bodies to JSON endpoints are refused (415), even with a valid token', async () => {
    await unchanged(async () => {
      for (const op of mutatingApiOps()) {
        if (op.path.endsWith('/logout')) continue;
        for (const [type, body] of [
          ['text/plain', SOME_BODY],
          ['text/plain;charset=UTF-8', SOME_BODY],
          ['application/x-www-form-urlencoded', `_csrf=${encodeURIComponent(as.admin.csrf)}&title=t&message=m`],
          ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--x--\r\n`],
        ]) {
          // Both with the header token and (the forgery case) with only the form field.
          for (const csrf of [undefined, null]) {
            const res = await call(op.method, op.path, { who: as.admin, csrf, body, type });
            if (![403, 415].includes(res.status)) throw new Error(`${op.method} ${op.path} as ${type} answered ${res.status}`);
            if (csrf === undefined) expect(res.status).toBe(415);
          }
        }
      }
    });
  });

  test('every page form refuses a missing or foreign token and a foreign Origin', async () => {
    const forms = listRoutes(ctx.app as never).filter((r) => r.method === 'post' && !r.path.startsWith('/api') && r.path !== '/logout');
    expect(forms.length).toBeGreaterThan(5);
    const ids: Record<string, number> = {
      courseId: world.courses.own,
      applicationId: world.applications.victimOwn,
      notificationId: world.notifications.candidate[0],
    };
    await unchanged(async () => {
      for (const f of forms) {
        const path = f.path.replace(/\{(\w+)\}/g, (_m, k: string) => String(ids[k] ?? 1));
        const who = path.startsWith('/instructor') || path.endsWith('/notify') ? as.instructor : as.candidate;
        const fields = 'title=t&message=m&notification_type=message&motivation=I+would+like+to+join+this&reason=r&email=a%40b.c&password=x';
        for (const [what, body, origin] of [
          ['missing', fields, undefined],
          ['foreign', `${fields}&_csrf=${encodeURIComponent(as.victim.csrf)}`, undefined],
          ['foreign origin', `${fields}&_csrf=${encodeURIComponent(who.csrf)}`, 'http://evil.example'],
        ] as const) {
          const res = await call('POST', path, { who, csrf: null, body, type: 'application/x-www-form-urlencoded', origin });
          // One-click unsubscribe is exempt from CSRF by design (RFC 8058): its signed token is refused instead.
          const refused = path.startsWith('/unsubscribe/') ? 400 : 403;
          if (res.status !== refused) throw new Error(`POST ${path} with a ${what} token answered ${res.status}`);
        }
      }
    });
    // The logout form too: without a token the session survives.
    const res = await call('POST', '/logout', { who: as.candidate, csrf: null, body: '', type: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(403);
    expect((await call('GET', '/api/auth/me', { who: as.candidate })).status).toBe(200);
  });
});

describe('sessions', () => {
  test('login issues a new session id; the pre-login id is worthless afterwards (API and page login)', async () => {
    for (const via of ['api', 'page'] as const) {
      const anon = await callerFor(server.url, 'anonymous');
      const before = sid(anon.cookie);
      const res =
        via === 'api'
          ? await call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: world.users.victim.email, password: PASSWORD }), type: JSON_TYPE })
          : await call('POST', '/login', {
              who: anon,
              csrf: null,
              body: `email=${encodeURIComponent(world.users.victim.email)}&password=${encodeURIComponent(PASSWORD)}&_csrf=${encodeURIComponent(anon.csrf)}`,
              type: 'application/x-www-form-urlencoded',
            });
      expect([200, 303]).toContain(res.status);
      const after = sid(res.headers.getSetCookie().join('; '));
      expect(after).toBeTruthy();
      expect(after).not.toBe(before);
      // The fixated (pre-login) cookie does not carry the login.
      expect((await call('GET', '/api/auth/me', { who: anon })).status).toBe(401);
      expect((await call('GET', '/api/auth/me', { headers: { cookie: `herald.sid=${after}` } })).status).toBe(200);
    }
  });

  test('cookie flags in development: HttpOnly and SameSite=Lax, not Secure (production: security-production.test.ts)', async () => {
    const dev = await fetch(`${server.url}/api/auth/csrf`);
    const devSid = dev.headers.getSetCookie().find((c) => c.startsWith('herald.sid='))!;
    expect(devSid).toMatch(/; HttpOnly/i);
    expect(devSid).toMatch(/; SameSite=Lax/i);
    expect(devSid).not.toMatch(/; Secure/i);
  });
});

function sid(cookieHeader: string): string | undefined {
  return /herald\.sid=([^;,\s]+)/.exec(cookieHeader)?.[1];
}

describe('WebSockets', () => {
  test('a foreign, null or missing Origin gets no socket, even with a valid session', async () => {
    for (const path of ['/ws/notifications', '/ws/bell']) {
      for (const origin of ['http://evil.example', 'null', null, `${server.url}.evil.example`]) {
        const c = new Client(wsUrl(server.url, path), { cookie: as.candidate.cookie, origin });
        expect(await c.refused).toBe(403);
        c.close();
        checks += 1;
      }
    }
  });

  test('logout closes the open sockets of that session (4401), and its cookie opens no new one', async () => {
    const me = await callerFor(server.url, 'candidate', world.users.victim);
    const json = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: me.cookie });
    const bell = new Client(wsUrl(server.url, '/ws/bell'), { cookie: me.cookie });
    await json.type('connection_established');
    await bell.next(() => true);
    expect((await call('POST', '/api/auth/logout', { who: me, body: '{}', type: JSON_TYPE })).status).toBe(204);
    expect((await json.closed).code).toBe(4401);
    expect((await bell.closed).code).toBe(4401);
    const again = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: me.cookie });
    expect((await again.closed).code).toBe(4401);
    expect(again.frames).toEqual([]);
  });
});

describe('IDOR', () => {
  test('every object route answers 404 for another user’s object, and changes nothing', async () => {
    const objectOps = Object.entries(doc.paths).flatMap(([p, ops]) =>
      p.includes('{') && !p.startsWith('/admin') ? Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })) : [],
    );
    expect(objectOps.length).toBeGreaterThan(10);
    let tried = 0;
    await unchanged(async () => {
      for (const op of objectOps) {
        const collection = op.path.split('/')[1];
        // The candidate reaches for the victim's notifications and applications; the instructor for the other
        // instructor's applications and course.
        const who = collection === 'notifications' ? as.candidate : as.instructor;
        if (collection === 'courses' && op.method === 'GET') continue; // the catalogue is public by design
        if (collection === 'courses' && op.path.endsWith('/applications')) continue; // applying is open to candidates
        const path = `/api${fill(op.path, 'victim')}`;
        const res = await call(op.method, path, { who, body: op.method === 'GET' || op.method === 'DELETE' ? undefined : SOME_BODY, type: op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON_TYPE });
        if (res.status !== 404) throw new Error(`${who.name} ${op.method} ${path} answered ${res.status}: ${res.text.slice(0, 200)}`);
        tried += 1;
      }
      // The same on the pages.
      for (const [who, path] of [
        [as.candidate, `/notifications/${world.notifications.victim[0]}/read`],
        [as.candidate, `/notifications/${world.notifications.victim[0]}/open`],
        [as.instructor, `/instructor/applications/${world.applications.candidateForeign}/approve`],
        [as.instructor, `/instructor/applications/${world.applications.candidateForeign}/reject`],
        [as.instructor, `/courses/${world.courses.foreign}/notify`],
      ] as const) {
        const res = await call('POST', path, { who, csrf: null, body: `_csrf=${encodeURIComponent(who.csrf)}&reason=r&title=t&message=m&notification_type=message`, type: 'application/x-www-form-urlencoded' });
        if (res.status !== 404) throw new Error(`${who.name} POST ${path} answered ${res.status}`);
        tried += 1;
      }
      // A WebSocket mark_as_read of someone else's notification.
      const c = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: as.candidate.cookie });
      await c.type('connection_established');
      c.send({ type: 'mark_as_read', id: world.notifications.victim[0] });
      expect((await c.type('error')).code).toBe('not_found');
      c.close();
    });
    expect(tried).toBeGreaterThan(10);
  });
});

describe('roles', () => {
  test('a candidate gets 403 on every instructor or admin route; an instructor on every admin route', async () => {
    const ops = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), path: p, roles: /Roles: ([^.]+)\./.exec(op.description ?? '')?.[1] })),
    );
    let tried = 0;
    await unchanged(async () => {
      for (const op of ops) {
        if (!op.roles) continue;
        for (const who of [as.candidate, as.instructor]) {
          if (op.roles.split(', ').includes(who.name)) continue;
          const path = `/api${fill(op.path, 'own')}`;
          const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON.stringify({ role: 'admin', is_active: true, title: 't', message: 'm', notification_type: 'message', audience: { kind: 'all' }, ids: [1], student_id: world.users.candidate.id });
          const res = await call(op.method, path, { who, body, type: body ? JSON_TYPE : undefined });
          if (res.status !== 403) throw new Error(`${who.name} ${op.method} ${path} answered ${res.status}`);
          tried += 1;
        }
      }
      for (const path of ['/instructor', '/instructor/applications']) {
        expect((await call('GET', path, { who: as.candidate })).status).toBe(403);
      }
    });
    expect(tried).toBeGreaterThan(10);
  });

  test('nobody changes their own role: not through the admin API, the login body or any unknown route', async () => {
    await unchanged(async () => {
      const self = world.users.candidate.id;
      expect((await call('PATCH', `/api/admin/users/${self}`, { who: as.candidate, body: '{"role":"admin"}', type: JSON_TYPE })).status).toBe(403);
      for (const path of ['/api/auth/me', `/api/users/${self}`, '/api/me']) {
        for (const method of ['PATCH', 'POST', 'PUT']) {
          const res = await call(method, path, { who: as.candidate, body: '{"role":"admin"}', type: JSON_TYPE });
          expect([404, 405]).toContain(res.status);
        }
      }
      // An admin cannot demote or deactivate themselves either (the last admin would lock everyone out).
      const demote = await call('PATCH', `/api/admin/users/${world.users.admin.id}`, { who: as.admin, body: '{"role":"candidate"}', type: JSON_TYPE });
      expect(demote.status).toBe(409);
    });
    // Extra fields on login are ignored: the role stays the stored one.
    const anon = await callerFor(server.url, 'anonymous');
    const res = await call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: world.users.candidate.email, password: PASSWORD, role: 'admin', is_admin: true }), type: JSON_TYPE });
    expect([200, 400]).toContain(res.status);
    if (res.status === 200) expect(res.json?.user.role).toBe('candidate');
    await world.users.candidate.reload();
    expect(world.users.candidate.role).toBe('candidate');
  });
});

describe('stored XSS', () => {
  const evil = (field: string) => `<img src=x onerror=alert(1)>"'><script>alert(1)</script>' onmouseover='alert(1) XSS-${field}`;
  const RAW = [/<img src=x/i, /<script>alert/i, /' onmouseover='alert/, /"><script/];

  function assertEscaped(where: string, html: string) {
    for (const re of RAW) if (re.test(html)) throw new Error(`${where}: raw payload ${re} in:\n${html.slice(Math.max(0, html.search(re) - 200), html.search(re) + 200)}`);
  }

  test('every user-written field is escaped on every page, fragment and pushed fragment that shows it', async () => {
    const xctx = ctx;
    const instructor = await xctx.createUser('instructor', { name: evil('instructor-name') });
    const candidate = await xctx.createUser('candidate', { name: evil('candidate-name') });
    const course = await xctx.models.Course.create({ title: evil('course-title').slice(0, 190), description: evil('course-description'), instructorId: instructor.id });
    await xctx.models.Enrollment.create({ courseId: course.id, studentId: candidate.id });
    const course2 = await xctx.models.Course.create({ title: evil('course2-title').slice(0, 190), instructorId: instructor.id });
    const t = await callerFor(server.url, 'instructor', instructor);
    const c = await callerFor(server.url, 'candidate', candidate);
    const bell = new Client(wsUrl(server.url, '/ws/bell'), { cookie: c.cookie });
    const jsonWs = new Client(wsUrl(server.url, '/ws/notifications'), { cookie: c.cookie });
    await bell.next(() => true);
    await jsonWs.type('connection_established');

    // Motivation (candidate), then a rejection reason and a broadcast (instructor): each lands on some page.
    const applied = await call('POST', `/api/courses/${course2.id}/applications`, { who: c, body: JSON.stringify({ motivation: evil('motivation') }), type: JSON_TYPE });
    expect(applied.status).toBe(201);
    const fromBell = bell.frames.length;
    const sent = await call('POST', `/api/courses/${course.id}/notify-students`, {
      who: t,
      body: JSON.stringify({ notification_type: 'message', title: evil('title').slice(0, 190), message: evil('message'), data: { link: 'javascript:alert(1)', html: evil('data') } }),
      type: JSON_TYPE,
    });
    expect(sent.status).toBe(201);
    const pushed = await bell.next((f) => f.text.includes('XSS-title'), { from: fromBell });
    assertEscaped('pushed bell fragment', pushed.text);
    expect(pushed.text).not.toContain('javascript:');
    const jsonPush = await jsonWs.type('notification');
    expect((jsonPush.notification as Json).title).toContain('<img'); // JSON carries the text as text; clients must not innerHTML it

    const rejected = await call('POST', `/api/applications/${applied.json!.id}/reject`, { who: t, body: JSON.stringify({ reason: evil('reason') }), type: JSON_TYPE });
    expect(rejected.status).toBe(200);
    const afterReject = await bell.next((f) => f.text.includes('XSS-course2-title') || f.text.includes('XSS-reason'), { from: fromBell }).catch(() => undefined);
    if (afterReject) assertEscaped('pushed rejection fragment', afterReject.text);

    const pages: Array<[typeof c, string, Record<string, string>?]> = [
      [c, '/notifications'],
      [c, '/notifications?status=unread', { 'hx-request': 'true' }],
      [c, '/courses'],
      [c, `/courses/${course.id}`],
      [c, `/courses?q=${encodeURIComponent('<img')}`, { 'hx-request': 'true' }],
      [c, '/applications'],
      [t, '/instructor'],
      [t, '/instructor/applications'],
      [t, `/courses/${course.id}`],
      [c, `/login?next=${encodeURIComponent('"><script>alert(1)</script>')}`],
      [c, `/notifications?status=${encodeURIComponent('"><script>alert(1)</script>')}`],
      [c, `/nowhere/${encodeURIComponent('<script>alert(1)</script>')}`],
    ];
    const seen = new Set<string>();
    for (const [who, path, headers] of pages) {
      const res = await call('GET', path, { who, headers });
      expect(res.status).toBeLessThan(500);
      assertEscaped(`GET ${path}`, res.text);
      expect(res.text).not.toMatch(/href="javascript:/i);
      for (const m of res.text.matchAll(/XSS-([a-z0-9-]+)/g)) seen.add(m[1]);
    }
    for (const f of bell.frames) {
      assertEscaped('bell frame', f.text);
      for (const m of f.text.matchAll(/XSS-([a-z0-9-]+)/g)) seen.add(m[1]);
    }
    // Every field the product shows somewhere was seen escaped at least once (so none escaped this check).
    for (const field of ['instructor-name', 'candidate-name', 'course-title', 'course-description', 'course2-title', 'motivation', 'reason', 'title', 'message']) {
      expect([...seen]).toContain(field);
    }
    bell.close();
    jsonWs.close();
    checks += pages.length;
  });
});

describe('login brute force', () => {
  test('after 5 wrong passwords the account answers 429 with Retry-After, even to the right password (API and page)', async () => {
    const target = await ctx.createUser('candidate');
    const anon = await callerFor(server.url, 'anonymous');
    const attempt = (password: string) =>
      call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: target.email, password }), type: JSON_TYPE });
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    for (const password of ['wrong-again', PASSWORD]) {
      const res = await attempt(password);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.json?.error.code).toBe('too_many_requests');
    }
    // The page's login form is limited by the same counter and says so with the same status.
    const form = await call('POST', '/login', {
      who: anon,
      csrf: null,
      body: `email=${encodeURIComponent(target.email)}&password=${encodeURIComponent(PASSWORD)}&_csrf=${encodeURIComponent(anon.csrf)}`,
      type: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(429);
    expect(Number(form.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(form.text).toMatch(/Too many attempts/);
  });

  test('spraying many accounts from one address hits the per-address limit', async () => {
    const anon = await callerFor(server.url, 'anonymous');
    let limited: Res | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await call('POST', '/api/auth/login', { who: anon, body: JSON.stringify({ email: `nobody${i}@spray.example`, password: 'x' }), type: JSON_TYPE });
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    await sleep(0);
  });
});
