/** /ws/bell: the HTML protocol for htmx 4's hx-ws, rendered from the same partials as the pages. */
import type { User } from '../../models';
import { Renderer } from '../../web/render';
import { createTestContext, type TestContext } from '../support/harness';
import { api, Client, login, startServer, wsUrl } from './support';

let ctx: TestContext;
let srv: Awaited<ReturnType<typeof startServer>>;
const clients: Client[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  srv = await startServer(ctx);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await srv.close();
  await ctx.close();
});

function connect(cookie: string) {
  const c = new Client(wsUrl(srv.url, '/ws/bell'), { cookie });
  clients.push(c);
  return c;
}
function notify(recipient: User, title: string, message = 'body') {
  return ctx.sequelize.transaction((t) =>
    ctx.services.notifications.create({ recipientId: recipient.id, type: 'message', title, message }, t),
  );
}
/** Attributes htmx would need a CSP nonce for (or that would run script) must never be pushed. */
const UNSAFE = /\shx-on|\shx-(get|post|put|patch|delete|trigger|vals|headers)\s*=|<script|javascript:/i;

test('connect sends the bell snapshot as a self-targeting OOB fragment', async () => {
  const u = await ctx.createUser('candidate');
  await notify(u, 'First');
  const second = await notify(u, 'Second');
  const c = connect((await login(srv.url, u)).cookie);
  const f = await c.next(() => true);
  expect(f.json).toBeUndefined();
  expect(f.text).toMatch(/^<div id="bell"[^>]*hx-swap-oob="outerHTML"/);
  expect(f.text).toMatch(/id="bell-badge"[^>]*>2</);
  expect(f.text).toContain(`id="bell-item-${second}"`);
  expect(f.text).not.toMatch(UNSAFE);
});

test('a new notification arrives escaped, with no per-user secret, on every tab', async () => {
  const u = await ctx.createUser('candidate');
  const who = await login(srv.url, u);
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

test('reading elsewhere (API) pushes the fresh bell to every tab', async () => {
  const u = await ctx.createUser('candidate');
  const n = await notify(u, 'to read');
  const who = await login(srv.url, u);
  const c = connect(who.cookie);
  await c.next(() => true);
  expect((await api(srv.url, who, 'POST', `/api/notifications/${n}/mark_read`)).status).toBe(200);
  const f = await c.next((x) => x.text.includes('id="bell"'), { from: 1 });
  expect(f.text).toMatch(/id="bell-badge"[^>]*hidden/);
  expect(f.text).not.toMatch(UNSAFE);
  expect((await api(srv.url, who, 'POST', '/api/notifications/mark_all_read')).status).toBe(200);
});

test('a fan-out renders the shared fragment once for all recipients', async () => {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Bells', instructorId: instructor.id });
  const students = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
  await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
  const conns = await Promise.all(students.map(async (s) => connect((await login(srv.url, s)).cookie)));
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
