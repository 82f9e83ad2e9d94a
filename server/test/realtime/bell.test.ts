/** /ws/bell: the HTML protocol for htmx 4's hx-ws, rendered from the same partials as the pages. */
import type { User } from '../../models';
import { Renderer } from '../../web/render';
import { api, createServerContext, login, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext();
});
afterAll(() => ctx.close());

function connect(cookie: string) {
  return ctx.srv.connect('/ws/bell', { cookie });
}
function notify(recipient: User, title: string, message = 'body') {
  return ctx.notify({ recipientId: recipient.id, type: 'message', title, message });
}
/** Attributes htmx would need a CSP nonce for (or that would run script) must never be pushed. */
const UNSAFE = /\shx-on|\shx-(get|post|put|patch|delete|trigger|vals|headers)\s*=|<script|javascript:/i;

test('connect sends the bell snapshot as a self-targeting OOB fragment', async () => {
  const u = await ctx.createUser('candidate');
  await notify(u, 'First');
  const second = await notify(u, 'Second');
  const c = connect((await login(ctx.srv.url, u)).cookie);
  const f = await c.next(() => true);
  expect(f.json).toBeUndefined();
  expect(f.text).toMatch(/^<div id="bell"[^>]*hx-swap-oob="outerHTML"/);
  expect(f.text).toMatch(/id="bell-badge"[^>]*>2</);
  expect(f.text).toContain(`id="bell-item-${second}"`);
  expect(f.text).not.toMatch(UNSAFE);
});

test('a new notification arrives escaped, with no per-user secret, on every tab', async () => {
  const u = await ctx.createUser('candidate');
  const who = await login(ctx.srv.url, u);
  const [a, b] = [connect(who.cookie), connect(who.cookie)];
  await Promise.all([a.next(() => true), b.next(() => true)]);
  const evil = '<img src=x onerror=alert(1)>';
  const id = await notify(u, evil, `"><script>alert(2)</script>`);
  for (const c of [a, b]) {
    const f = await c.next((x) => x.text.includes(`bell-item-${id}`));
    expect(f.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(f.text).not.toContain('<img');
    expect(f.text).not.toMatch(UNSAFE);
    expect(f.text).toMatch(/id="bell-badge"[^>]*hx-swap-oob="outerHTML"[^>]*>1</);
    expect(f.text).toContain(`id="notification-${id}"`);
    expect(f.text).not.toContain(who.csrf);
    expect(f.text).not.toContain('__herald_nid__');
  }
});

test('?since= replays the missed notifications as list cards after the snapshot, oldest first; without it, none', async () => {
  const u = await ctx.createUser('candidate');
  const seen = await notify(u, 'Already shown');
  const missed = [await notify(u, 'Missed <b>one</b>'), await notify(u, 'Missed two')];
  const { cookie } = await login(ctx.srv.url, u);
  const c = ctx.srv.connect(`/ws/bell?since=${seen}`, { cookie });
  const snapshot = await c.next(() => true);
  expect(snapshot.text).toMatch(/^<div id="bell"/);
  const cards = [await c.next(() => true, { from: 1 }), await c.next(() => true, { from: 2 })];
  expect(cards.map((f) => f.text.match(/id="notification-(\d+)"/)?.[1])).toEqual(missed.map(String));
  for (const f of cards) {
    expect(f.text).toMatch(/^<div hx-swap-oob="afterbegin:#notification-list">\s*<article id="notification-\d+" class="card notification-card/);
    expect(f.text).not.toMatch(UNSAFE);
    expect(f.text).not.toContain('bell-item'); // the snapshot brought the bell
    expect(f.text).not.toContain('live-announcer'); // a burst of missed ones is not announced one by one
  }
  expect(cards[0].text).toContain('Missed &lt;b&gt;one&lt;/b&gt;');
  const plain = connect(cookie);
  await plain.next(() => true);
  await ctx.srv.realtime.delivery.idle();
  await new Promise((r) => setTimeout(r, 100));
  expect(plain.frames).toHaveLength(1);
  expect(c.frames).toHaveLength(3);
});

test('reading elsewhere (API) pushes the fresh bell to every tab', async () => {
  const u = await ctx.createUser('candidate');
  const n = await notify(u, 'to read');
  const who = await login(ctx.srv.url, u);
  const c = connect(who.cookie);
  await c.next(() => true);
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${n}/mark_read`)).status).toBe(200);
  const f = await c.next((x) => x.text.includes('id="bell"'), { from: 1 });
  expect(f.text).toMatch(/id="bell-badge"[^>]*hidden/);
  expect(f.text).not.toMatch(UNSAFE);
  expect((await api(ctx.srv.url, who, 'POST', '/api/notifications/mark_all_read')).status).toBe(200);
});

test('a fan-out renders the shared fragment once for all recipients', async () => {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Bells', instructorId: instructor.id });
  const students = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
  await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
  const conns = await Promise.all(students.map(async (s) => connect((await login(ctx.srv.url, s)).cookie)));
  await Promise.all(conns.map((c) => c.next(() => true)));
  const spy = jest.spyOn(Renderer.prototype, 'render');
  try {
    await ctx.services.notifications.fanOut(
      { kind: 'course', courseId: course.id },
      { type: 'announcement', title: 'Room <b>change</b>', message: '', senderId: instructor.id, courseId: course.id },
    );
    const frames = await Promise.all(conns.map((c) => c.next((x) => x.text.includes('Room'), { from: 1 })));
    expect(frames.every((f) => f.text.includes('Room &lt;b&gt;change&lt;/b&gt;'))).toBe(true);
    const pushTemplates = spy.mock.calls.filter(([t]) => t === 'partials/push-new.njk');
    expect(pushTemplates).toHaveLength(1);
  } finally {
    spy.mockRestore();
  }
});

describe('application.changed', () => {
  async function setup() {
    const instructor = await ctx.createUser('instructor', { name: 'Ida Teacher' });
    const other = await ctx.createUser('instructor');
    const candidate = await ctx.createUser('candidate', { name: 'Cody Applicant' });
    const course = await ctx.models.Course.create({ title: 'Live rows', instructorId: instructor.id });
    const [ins, oth, cand] = await Promise.all([instructor, other, candidate].map((u) => login(ctx.srv.url, u)));
    const [insC, othC, candC] = [connect(ins.cookie), connect(oth.cookie), connect(cand.cookie)];
    await Promise.all([insC, othC, candC].map((c) => c.next(() => true))); // snapshots
    return { instructor, candidate, course, ins, cand, insC, othC, candC };
  }

  test('the instructor’s sockets get the new review row and the counts; a decision replaces the row; the candidate gets the status', async () => {
    const { candidate, course, ins, cand, insC, othC, candC } = await setup();
    const evil = '<img src=x onerror=alert(1)> I really want in';
    const applied = await api(ctx.srv.url, cand, 'POST', `/api/courses/${course.id}/applications`, { motivation: evil });
    expect(applied.status).toBe(201);
    const id = applied.body.id as number;

    const row = await insC.next((f) => f.text.includes(`id="application-${id}"`), { from: 1 });
    expect(row.text).toMatch(new RegExp(`^<div hx-swap-oob="afterbegin:#review-list"><li id="application-${id}" class="card review-row">`));
    expect(row.text).toContain('&lt;img src=x onerror=alert(1)&gt; I really want in');
    expect(row.text).not.toContain('<img');
    expect(row.text).toContain('Cody Applicant');
    expect(row.text).toContain(`action="/instructor/applications/${id}/approve"`);
    expect(row.text).toMatch(new RegExp(`id="course-${course.id}-enrolled"[^>]*hx-swap-oob="outerHTML"><strong>0</strong> enrolled`));
    expect(row.text).toMatch(new RegExp(`id="course-${course.id}-pending"[^>]*hx-swap-oob="outerHTML"><strong>1</strong> pending`));
    expect(row.text).not.toMatch(UNSAFE);
    expect(row.text).not.toContain('_csrf');
    expect(row.text).not.toContain(ins.csrf);
    expect(row.text).not.toContain('hx-nonce');
    expect([...row.text.matchAll(/\s(hx-[\w:-]+)="/g)].every((m) => m[1] === 'hx-swap-oob')).toBe(true);

    const approved = await api(ctx.srv.url, ins, 'POST', `/api/applications/${id}/approve`);
    expect(approved.status).toBe(200);
    const decided = await insC.next((f) => f.text.includes(`id="application-${id}"`) && f.text.includes('status-approved'), { from: 1 });
    expect(decided.text).toMatch(new RegExp(`^<li id="application-${id}" class="card review-row" hx-swap-oob="outerHTML">`));
    expect(decided.text).not.toContain(`/instructor/applications/${id}/approve`); // decided: no actions left
    expect(decided.text).toMatch(/<strong>1<\/strong> enrolled[\s\S]*<strong>0<\/strong> pending/);
    expect(decided.text).not.toMatch(UNSAFE);

    const status = await candC.next((f) => f.text.includes(`id="application-${id}-status"`), { from: 1 });
    expect(status.text).toMatch(new RegExp(`^<span id="application-${id}-status" class="status-chip status-approved" hx-swap-oob="outerHTML">`));
    // Every piece that shows the application says the same: the apply panel (no "will review" left), the catalog
    // card's standing and the moved count.
    expect(status.text).toMatch(/<section id="apply-panel"[^>]*hx-swap-oob="outerHTML">[\s\S]*You are enrolled/);
    expect(status.text).not.toContain('will review');
    expect(status.text).toMatch(new RegExp(`id="course-${course.id}-mine"[^>]*hx-swap-oob="outerHTML">[\\s\\S]*Enrolled`));
    expect(status.text).toMatch(new RegExp(`id="course-${course.id}-enrolled"[^>]*hx-swap-oob="outerHTML"><strong>1</strong> enrolled`));
    expect(status.text).not.toContain(`course-${course.id}-pending`);
    expect([...status.text.matchAll(/\s(hx-[\w:-]+)="/g)].every((m) => m[1] === 'hx-swap-oob')).toBe(true);
    expect(status.text).not.toContain('review-row'); // the candidate never gets the instructor's row
    expect(status.text).not.toContain(cand.csrf);

    // Another instructor hears nothing of it: only their snapshot ever arrived.
    await ctx.srv.realtime.delivery.idle();
    expect(othC.frames).toHaveLength(1);
    expect(candC.frames.some((f) => f.text.includes('review-row') || f.text.includes(`course-${course.id}-pending`))).toBe(false);
    expect(candidate.id).toBeGreaterThan(0);
  });

  test('a rejection shows its reason to the candidate and replaces the row for the instructor', async () => {
    const { course, ins, cand, insC, candC } = await setup();
    const id = (await api(ctx.srv.url, cand, 'POST', `/api/courses/${course.id}/applications`, { motivation: 'Please let me join.' })).body.id as number;
    await insC.next((f) => f.text.includes(`id="application-${id}"`), { from: 1 });
    expect((await api(ctx.srv.url, ins, 'POST', `/api/applications/${id}/reject`, { reason: 'Full <b>now</b>' })).status).toBe(200);
    const status = await candC.next((f) => f.text.includes(`id="application-${id}-status"`), { from: 1 });
    expect(status.text).toContain('status-rejected');
    expect(status.text).toContain('Reason: Full &lt;b&gt;now&lt;/b&gt;');
    const row = await insC.next((f) => f.text.includes('status-rejected'), { from: 1 });
    expect(row.text).toContain('hx-swap-oob="outerHTML"');
  });
  test('tabs that show the course get its moved enrolled count (admins the pending one too); others nothing', async () => {
    const { course, ins, cand, insC } = await setup();
    const [viewer, bystander, admin] = await Promise.all([
      ctx.createUser('candidate'),
      ctx.createUser('candidate'),
      ctx.createUser('admin'),
    ]);
    const [viewerC, bystanderC, adminC] = await Promise.all(
      [viewer, bystander, admin].map(async (u) => connect((await login(ctx.srv.url, u)).cookie)),
    );
    await Promise.all([viewerC, bystanderC, adminC].map((c) => c.next(() => true)));
    // The catalog's live.js says which courses the page shows; the pong says the server has read it.
    for (const c of [viewerC, adminC]) {
      c.ws.send(JSON.stringify({ type: 'watch', courses: [course.id, 999_999] }));
      c.ws.send(JSON.stringify({ type: 'ping' }));
      await c.next((f) => f.json?.type === 'pong');
    }
    bystanderC.ws.send(JSON.stringify({ type: 'watch', courses: 'all' }));
    expect((await bystanderC.next((f) => f.json?.type === 'error')).json?.code).toBe('invalid_message');

    const id = (await api(ctx.srv.url, cand, 'POST', `/api/courses/${course.id}/applications`, { motivation: 'Count me in, please.' })).body.id as number;
    const pending = await adminC.next((f) => f.text.includes(`course-${course.id}-pending`));
    expect(pending.text).toMatch(new RegExp(`id="course-${course.id}-pending"[^>]*hx-swap-oob="outerHTML"><strong>1</strong> pending`));
    expect((await api(ctx.srv.url, ins, 'POST', `/api/applications/${id}/approve`)).status).toBe(200);
    await insC.next((f) => f.text.includes('status-approved'), { from: 1 });

    const counted = await viewerC.next((f) => f.text.includes(`course-${course.id}-enrolled`));
    expect(counted.text.trim()).toMatch(new RegExp(`^<span id="course-${course.id}-enrolled" class="count" data-course-count="${course.id}" hx-swap-oob="outerHTML"><strong>1</strong> enrolled</span>$`));
    await adminC.next((f) => f.text.includes('<strong>1</strong> enrolled') && f.text.includes('<strong>0</strong> pending'));
    await ctx.srv.realtime.delivery.idle();
    // The viewer heard of the approval only (not the arrival, which moved no count it may see), and no one else's
    // application or pending count; the bystander showed no course and heard nothing.
    expect(viewerC.frames.filter((f) => f.text.includes('course-'))).toHaveLength(1);
    expect(viewerC.frames.some((f) => f.text.includes('-pending') || f.text.includes('application-'))).toBe(false);
    expect(bystanderC.frames.some((f) => f.text.includes('course-'))).toBe(false);
  });
});
