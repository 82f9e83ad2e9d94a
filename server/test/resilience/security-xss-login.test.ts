/**
 * The security suite, part three, against the real app on a real port: stored XSS in every rendered field (pages,
 * htmx fragments and pushed fragments) and login brute force. The other parts: security-*.test.ts.
 */
import { PASSWORD } from '../support/harness';
import { Client, sleep, wsUrl } from '../support/realtime';
import { callerFor } from './support/world';
import { ctx, server, as, call, JSON_TYPE, countProbes, useSecurityTarget, type Json, type Res } from './support/security';

useSecurityTarget();

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
    countProbes(pages.length);
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
