import type { User } from '../../models';
import { Renderer } from '../../web/render';
import { createTestContext, PASSWORD, type TestContext } from '../support/harness';
import { HX, form, hx, seedPageCast } from '../support/web';

/** Logging in and out, what every page has, and the escaping of user text on pages and in pushes. */

let ctx: TestContext;
let instructor: User;
let candidate: User;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ instructor, candidate } = await seedPageCast(ctx));
});
afterAll(() => ctx.close());

describe('login and logout', () => {
  test('pages need a login; htmx requests are sent there with HX-Redirect', async () => {
    const anon = await ctx.anonymous();
    await anon.get('/').expect(303).expect('Location', '/login');
    await anon.get('/courses?q=x').expect(303).expect('Location', '/login?next=%2Fcourses%3Fq%3Dx');
    const res = await anon.get('/notifications').set(HX).expect(401);
    expect(res.headers['hx-redirect']).toBe('/login?next=%2Fnotifications');
  });

  test('the login form posts with CSRF, says so kindly when the password is wrong, and honours a local next', async () => {
    const anon = await ctx.anonymous();
    const page = await anon.get('/login').expect(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    await anon.http.post('/login').type('form').send({ email: candidate.email, password: PASSWORD }).expect(403);
    const bad = await anon.http.post('/login').type('form').send({ _csrf: token, email: candidate.email, password: 'nope' }).expect(401);
    expect(bad.text).toContain('That email and password do not match an account.');
    expect(bad.text).toContain(`value="${candidate.email}"`);
    await anon.http
      .post('/login')
      .type('form')
      .send({ _csrf: token, email: candidate.email, password: PASSWORD, next: '//evil.example/x' })
      .expect(303)
      .expect('Location', '/courses');
    // The session was regenerated with a new token: the old one no longer works.
    await anon.http.post('/logout').type('form').send({ _csrf: token }).expect(403);
    const fresh = /name="_csrf" value="([^"]+)"/.exec((await anon.get('/courses').expect(200)).text)![1];
    await anon.http.post('/logout').type('form').send({ _csrf: fresh }).expect(303).expect('Location', '/login');
    await anon.get('/courses').expect(303);
  });

  test('next= returns to the page that asked for the login', async () => {
    const anon = await ctx.anonymous();
    await anon.http
      .post('/login')
      .type('form')
      .send({ _csrf: anon.csrf, email: instructor.email, password: PASSWORD, next: '/notifications?status=unread' })
      .expect(303)
      .expect('Location', '/notifications?status=unread');
  });
});

describe('every page', () => {
  test('CSP with a fresh nonce on every script, no inline script, the bell, the CSRF header for htmx', async () => {
    const cand = await ctx.login(candidate);
    const res = await cand.get('/courses').expect(200).expect('Content-Type', /html/);
    const csp = res.headers['content-security-policy'];
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
    const scripts = [...res.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    for (const attrs of scripts) {
      expect(attrs).toContain(`nonce="${nonce}"`);
      expect(attrs).toMatch(/src="\/(vendor|static)\//);
    }
    expect(res.text).toContain('id="bell"');
    expect(res.text).toContain('hx-ws:connect="/ws/bell"');
    expect(res.text).toContain(`hx-headers:inherited='{&quot;X-CSRF-Token&quot;:&quot;${cand.csrf}&quot;}'`);
    expect(res.headers.vary).toMatch(/HX-Request/);
    // Every hx-* element of the page carries this response's nonce (hx-csp ignores the others).
    for (const m of res.text.matchAll(/<[a-z]+\s[^>]*\bhx-(?:get|post|boost:inherited|ws:connect)[^>]*>/g)) {
      expect(m[0]).toContain(`hx-nonce="${nonce}"`);
    }
    const again = await cand.get('/courses').expect(200);
    expect(again.headers['content-security-policy']).not.toContain(nonce);
  });

  test('htmx and the client script are served from our own origin', async () => {
    const anon = await ctx.anonymous();
    await anon.get('/vendor/htmx/htmx.min.js').expect(200).expect('Content-Type', /javascript/);
    await anon.get('/vendor/htmx/ext/hx-ws.min.js').expect(200);
    await anon.get('/vendor/htmx/ext/hx-csp.min.js').expect(200);
    await anon.get('/static/app.js').expect(200);
    await anon.get('/static/live.js').expect(200);
    await anon.get('/static/app.css').expect(200);
  });

  test('an unknown page is a friendly 404; for htmx, a toast and HX-Reswap none', async () => {
    const cand = await ctx.login(candidate);
    const page = await cand.get('/nowhere').expect(404);
    expect(page.text).toContain('Page not found');
    expect(page.text).toContain('id="bell"');
    const frag = await cand.get('/courses/999999').set(HX).expect(404);
    expect(frag.headers['hx-reswap']).toBe('none');
    expect(frag.text).not.toContain('<html');
    expect(frag.text).toContain('hx-swap-oob="beforeend:#toasts"');
    expect(frag.text).toContain('Course not found.');
  });

  test('an error page that cannot be rendered (its bell reads the database) is still a small HTML page', async () => {
    // What a page request meets while PostgreSQL restarts: the page fails, and so does the layout of its error page.
    const cand = await ctx.login(candidate);
    await ctx.sequelize.query('ALTER TABLE notifications RENAME TO notifications_away');
    try {
      const page = await cand.get('/nowhere').expect(404);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toMatch(/^<!doctype html>/);
      expect(page.text).toContain('<p>Page not found.</p>');
    } finally {
      await ctx.sequelize.query('ALTER TABLE notifications_away RENAME TO notifications');
    }
  });

  test('a candidate cannot open the instructor pages', async () => {
    const cand = await ctx.login(candidate);
    const res = await cand.get('/instructor').expect(403);
    expect(res.text).toContain('Not allowed');
  });
});


describe('escaping and pushed HTML', () => {
  const EVIL = '<img src=x onerror=alert(1)> <div hx-get="/logout" hx-trigger="load">';

  test('user text is escaped on pages and in pushes; pushes carry no token, nonce or request attributes', async () => {
    const user = await ctx.createUser('candidate');
    await ctx.services.notifications.fanOut(
      { kind: 'user', userId: user.id },
      { type: 'message', title: EVIL, message: EVIL, senderId: null },
    );
    const agent = await ctx.login(user);
    const page = await agent.get('/notifications').expect(200);
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).not.toContain('<div hx-get="/logout"');
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');

    const renderer = new Renderer();
    const [n] = (await ctx.services.notifications.bell(user.id)).latest;
    const pushes = [
      renderer.newNotificationPush(n)(n.id, 3),
      renderer.bell({ unreadCount: 150, latest: [n], olderUnread: [] }, { oob: true }),
      renderer.readPush({ unreadCount: 0, latest: [n], olderUnread: [] }, [n.id]),
    ];
    for (const html of pushes) {
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<div hx-get');
      expect(html).not.toContain('_csrf');
      expect(html).not.toContain('hx-nonce');
      // Real attributes only (`="`): the escaped title shows `hx-get=&quot;` as text.
      const hxAttrs = [...html.matchAll(/\s(hx-[\w:-]+)="/g)].map((m) => m[1]);
      expect(hxAttrs.every((a) => a === 'hx-swap-oob' || a === 'hx-boost')).toBe(true);
    }
    expect(pushes[1]).toContain('>99+<');
    expect(pushes[0]).toContain(`id="bell-item-${n.id}"`);
    expect(pushes[0]).toContain(`id="notification-${n.id}"`);
    expect(pushes[0]).toContain('hx-swap-oob="innerHTML:#live-announcer"');
  });
});
