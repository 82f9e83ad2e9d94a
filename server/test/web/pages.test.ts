import type { User } from '../../models';
import { Renderer } from '../../web/render';
import { createTestContext, PASSWORD, type Agent, type TestContext } from '../support/harness';

let ctx: TestContext;
let instructor: User;
let candidate: User;
let student: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  instructor = await ctx.createUser('instructor', { name: 'Ines Teacher' });
  candidate = await ctx.createUser('candidate', { name: 'Cam Candidate' });
  student = await ctx.createUser('candidate', { name: 'Stu Student' });
  const course = await ctx.models.Course.create({ title: 'Realtime Web', description: 'Sockets', instructorId: instructor.id });
  await ctx.models.Course.create({ title: 'PostgreSQL in Practice', instructorId: instructor.id });
  await ctx.models.Enrollment.create({ courseId: course.id, studentId: student.id });
  courseId = course.id;
});
afterAll(() => ctx.close());

const HX = { 'HX-Request': 'true' };
const form = (a: Agent, url: string, body: Record<string, string> = {}) =>
  a.http.post(url).type('form').send({ _csrf: a.csrf, ...body });
const hx = (a: Agent, url: string, body: Record<string, string> = {}) =>
  a.http.post(url).set(HX).set('X-CSRF-Token', a.csrf).type('form').send(body);

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

  test('a candidate cannot open the instructor pages', async () => {
    const cand = await ctx.login(candidate);
    const res = await cand.get('/instructor').expect(403);
    expect(res.text).toContain('Not allowed');
  });
});

describe('candidate', () => {
  test('catalog search: a page without htmx, the result list alone with it', async () => {
    const cand = await ctx.login(candidate);
    const page = await cand.get('/courses?q=realtime').expect(200);
    expect(page.text).toContain('Realtime Web');
    expect(page.text).not.toContain('PostgreSQL in Practice');
    const frag = await cand.get('/courses?q=postgres').set(HX).expect(200);
    expect(frag.text.trimStart()).toMatch(/^<div id="course-results"/);
    expect(frag.text).toContain('PostgreSQL in Practice');
    expect(frag.text).not.toContain('<html');
    expect((await cand.get('/courses?q=zzz').set(HX)).text).toContain('No courses');
  });

  test('apply: field message beside the motivation, then the panel shows the pending application', async () => {
    const cand = await ctx.login(candidate);
    const course = await cand.get(`/courses/${courseId}`).expect(200);
    expect(course.text).toContain('Apply to this course');
    const invalid = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'short' }).expect(422);
    expect(invalid.text).toContain('id="motivation-error"');
    expect(invalid.text).toContain('aria-invalid="true"');
    const ok = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'I would love to learn sockets.' }).expect(200);
    expect(ok.text).toContain('Application sent');
    expect(ok.text).toContain('Pending review');
    const again = await hx(cand, `/courses/${courseId}/apply`, { motivation: 'I would love to learn sockets.' });
    expect(again.text).toContain('Your application');
    const mine = await cand.get('/applications').expect(200);
    expect(mine.text).toContain('Realtime Web');
    expect(mine.text).toMatch(/id="application-\d+-status" class="status-chip status-pending"/);
  });
});

describe('instructor', () => {
  let applicationId: number;
  let second: User;

  beforeAll(async () => {
    const course = await ctx.models.Course.create({ title: 'Design Systems', instructorId: instructor.id });
    const [a1, a2] = await Promise.all([ctx.createUser('candidate'), ctx.createUser('candidate')]);
    second = a2;
    applicationId = (await ctx.services.applications.apply(a1, course.id, 'Motivated <b>very</b>')).id;
    await ctx.services.applications.apply(a2, course.id, 'Also motivated');
  });

  test('my courses show enrolled and pending counts', async () => {
    const inst = await ctx.login(instructor);
    const res = await inst.get('/instructor').expect(200);
    expect(res.text).toContain('Design Systems');
    expect(res.text).toMatch(/<strong>2<\/strong> pending/);
    expect(res.text).toMatch(/<strong>1<\/strong> enrolled/);
  });

  test('approve and reject inline; a reject needs a reason; the candidate sees it', async () => {
    const inst = await ctx.login(instructor);
    const list = await inst.get('/instructor/applications?status=pending').expect(200);
    expect(list.text).toContain('Motivated &lt;b&gt;very&lt;/b&gt;');
    const approved = await hx(inst, `/instructor/applications/${applicationId}/approve`).expect(200);
    expect(approved.text.trimStart()).toMatch(new RegExp(`^<li id="application-${applicationId}"`));
    expect(approved.text).toContain('Approved');
    const twice = await hx(inst, `/instructor/applications/${applicationId}/approve`).expect(200);
    expect(twice.text).toContain('already approved');

    const other = (await ctx.services.applications.list(second)).results[0];
    const noReason = await hx(inst, `/instructor/applications/${other.id}/reject`, { reason: ' ' }).expect(422);
    expect(noReason.text).toContain('Give the candidate a reason.');
    const rejected = await hx(inst, `/instructor/applications/${other.id}/reject`, { reason: 'Course is full' }).expect(200);
    expect(rejected.text).toContain('Reason: Course is full');
    const cand = await ctx.login(second);
    expect((await cand.get('/applications').expect(200)).text).toContain('Reason: Course is full');
  });

  test('without JavaScript a decision redirects back to the list', async () => {
    const course = await ctx.models.Course.create({ title: 'No JS', instructorId: instructor.id });
    const a = await ctx.services.applications.apply(await ctx.createUser('candidate'), course.id, 'please');
    const inst = await ctx.login(instructor);
    await form(inst, `/instructor/applications/${a.id}/approve`)
      .set('Host', 'herald.test')
      .set('Referer', 'http://herald.test/instructor/applications?status=pending')
      .expect(303)
      .expect('Location', `/instructor/applications?status=pending#application-${a.id}`);
  });

  test('notify students: the sender sees how many; the one-click "course updated" works too', async () => {
    const inst = await ctx.login(instructor);
    const page = await inst.get(`/courses/${courseId}`).expect(200);
    expect(page.text).toContain('Notify students');
    const invalid = await hx(inst, `/courses/${courseId}/notify`, { notification_type: 'announcement', title: '' }).expect(422);
    expect(invalid.text).toContain('Title is required.');
    const sent = await hx(inst, `/courses/${courseId}/notify`, {
      notification_type: 'exam_result',
      title: 'Exam marks are out',
      message: 'Check your results.',
    }).expect(200);
    expect(sent.text).toMatch(/to\s+<strong>1<\/strong> student\./);
    const quick = await hx(inst, `/courses/${courseId}/notify`, { preset: 'course_update' }).expect(200);
    expect(quick.text).toContain('Realtime Web was updated');
    const noJs = await form(inst, `/courses/${courseId}/notify`, { notification_type: 'message', title: 'Hi' }).expect(303);
    expect(noJs.headers.location).toBe(`/courses/${courseId}?notified=1#notify-${courseId}`);
    const latest = (await ctx.services.notifications.bell(student.id)).latest.slice(0, 3);
    expect(latest.map((n) => n.type)).toEqual(['message', 'course_update', 'exam_result']);
    // Another instructor's course is not theirs to notify.
    const other = await ctx.login(await ctx.createUser('instructor'));
    await hx(other, `/courses/${courseId}/notify`, { preset: 'course_update' }).expect(404);
  });
});

describe('notifications', () => {
  let user: User;
  let agent: Agent;
  beforeAll(async () => {
    user = await ctx.createUser('candidate');
    await ctx.services.notifications.fanOut({ kind: 'user', userId: user.id }, { type: 'message', title: 'first', message: 'm', senderId: null });
    for (let i = 0; i < 24; i += 1) {
      await ctx.services.notifications.fanOut(
        { kind: 'user', userId: user.id },
        { type: i % 2 ? 'announcement' : 'exam_result', title: `n${i}`, message: `message ${i}`, senderId: instructor.id, courseId },
      );
    }
    agent = await ctx.login(user);
  });

  test('the page: tabs, newest first, cards by type, a load more with a keyset cursor', async () => {
    const res = await agent.get('/notifications').expect(200);
    const titles = [...res.text.matchAll(/class="notification-title">([^<]+)</g)].map((m) => m[1]);
    expect(titles).toHaveLength(20);
    expect(titles[0]).toBe('n23');
    expect(res.text).toContain('tone-teal');
    expect(res.text).toContain(`href="/courses/${courseId}"`);
    expect(res.text).toContain('aria-current="page">All<');
    const more = /hx-get="(\/notifications\?status=all&amp;cursor=[^"]+)"/.exec(res.text)![1].replace('&amp;', '&');
    const next = await agent.get(more).set(HX).expect(200);
    const nextTitles = [...next.text.matchAll(/class="notification-title">([^<]+)</g)].map((m) => m[1]);
    expect(nextTitles).toEqual(['n3', 'n2', 'n1', 'n0', 'first']);
    expect(next.text).toContain('<div id="notification-more" class="load-more" hx-swap-oob="outerHTML">');
    expect(next.text).not.toContain('Load more');
    // The same link without htmx is a plain page.
    expect((await agent.get(more).expect(200)).text).toContain('<html');
  });

  test('mark one read, mark all read: the answer is the pushed shape (bell + read cards), no CSRF token in it', async () => {
    const [newest] = (await ctx.services.notifications.bell(user.id)).latest;
    const one = await hx(agent, `/notifications/${newest.id}/read`).expect(200);
    expect(one.text).toContain('<div id="bell" class="bell" hx-swap-oob="outerHTML">');
    expect(one.text).toContain(`hx-swap-oob="outerHTML:#notification-${newest.id} .notif-status"`);
    expect(one.text).toMatch(/>24<span class="sr-only"> unread/);
    expect(one.text).not.toContain(agent.csrf);
    const unread = await agent.get('/notifications?status=unread').expect(200);
    expect(unread.text).not.toContain(`id="notification-${newest.id}"`);
    const all = await hx(agent, '/notifications/read-all').expect(200);
    expect(all.text).toContain('outerHTML:#notification-list .notif-status.is-unread');
    expect(all.text).toMatch(/<span id="bell-badge" class="bell-badge" hidden>/);
    const empty = await agent.get('/notifications?status=unread').expect(200);
    expect(empty.text).toContain('No unread notifications');
  });

  test('opening a bell item marks it read and follows its link', async () => {
    await ctx.services.notifications.fanOut(
      { kind: 'user', userId: user.id },
      { type: 'course_update', title: 'updated', message: '', senderId: null, courseId },
    );
    const [n] = (await ctx.services.notifications.bell(user.id)).latest;
    await form(agent, `/notifications/${n.id}/open`).expect(303).expect('Location', `/courses/${courseId}`);
    expect((await ctx.services.notifications.get(user.id, n.id)).is_read).toBe(true);
    const viaHtmx = await hx(agent, `/notifications/${n.id}/open`).expect(204);
    expect(viaHtmx.headers['hx-redirect']).toBe(`/courses/${courseId}`);
    // Someone else's notification is a 404.
    const other = await ctx.login(await ctx.createUser('candidate'));
    await form(other, `/notifications/${n.id}/open`).expect(404);
  });

  test('a bad cursor is a 400 page, not a 500', async () => {
    await agent.get('/notifications?cursor=nope').expect(400);
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
      renderer.bell({ unreadCount: 150, latest: [n] }, { oob: true }),
      renderer.readPush({ unreadCount: 0, latest: [n] }, [n.id]),
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
