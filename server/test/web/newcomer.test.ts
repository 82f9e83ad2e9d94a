import type { User } from '../../models';
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemo } from '../../services/demo-seed';
import { createTestContext, type TestContext } from '../support/harness';
import { seedPageCast } from '../support/web';

/** Issue 16's small things a newcomer minds on the pages: where a role lands, the console link, the demo logins. */

let ctx: TestContext;
let instructor: User;
let candidate: User;
let admin: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ instructor, candidate, courseId } = await seedPageCast(ctx));
  admin = await ctx.createUser('admin', { name: 'Ada Admin' });
});
afterAll(() => ctx.close());

const current = (html: string) => [...html.matchAll(/<a href="([^"]+)" aria-current="page">/g)].map((m) => m[1]);

test('16.9: an instructor (or admin) opening /applications is sent to the review page, not a 403', async () => {
  for (const user of [instructor, admin]) {
    const agent = await ctx.login(user);
    await agent.get('/applications').expect(303).expect('Location', '/instructor/applications');
    await agent.get('/applications?status=pending').expect(303).expect('Location', '/instructor/applications?status=pending');
  }
  const cand = await ctx.login(candidate);
  await cand.get('/applications').expect(200);
});

test('16.8: admins get a link to the console on the main site; others do not', async () => {
  const page = await (await ctx.login(admin)).get('/instructor').expect(200);
  expect(page.text).toMatch(/<a href="\/admin\/?"[^>]*>Admin console<\/a>/);
  for (const user of [instructor, candidate]) {
    const other = await (await ctx.login(user)).get('/notifications').expect(200);
    expect(other.text).not.toContain('href="/admin');
  }
});

test('16.12: on the instructor’s own course page the nav marks "My courses", not "Catalog"', async () => {
  const own = await (await ctx.login(instructor)).get(`/courses/${courseId}`).expect(200);
  expect(current(own.text)).toEqual(['/instructor']);
  const catalog = await (await ctx.login(instructor)).get('/courses').expect(200);
  expect(current(catalog.text)).toEqual(['/courses']);
  // Someone else's course is a catalogue page for this instructor.
  const otherInstructor = await ctx.createUser('instructor');
  const other = await ctx.createCourse(otherInstructor, { title: 'Not mine' });
  const foreign = await (await ctx.login(instructor)).get(`/courses/${other.id}`).expect(200);
  expect(current(foreign.text)).toEqual(['/courses']);
});

test('16.12: the page’s "Mark all as read" is disabled with nothing unread, enabled with something unread', async () => {
  const agent = await ctx.login(candidate);
  const button = (html: string) => /<button[^>]*data-mark-all[^>]*>/.exec(html)?.[0];
  expect(button((await agent.get('/notifications').expect(200)).text)).toContain('disabled');
  await ctx.models.Notification.create({ recipientId: candidate.id, type: 'announcement', title: 'Hello', message: 'Unread' });
  const after = button((await agent.get('/notifications').expect(200)).text);
  expect(after).toBeDefined();
  expect(after).not.toContain('disabled');
});

describe('16.8: the login page of a demo database', () => {
  test('shows no demo accounts while the demo users do not exist', async () => {
    const page = await (await ctx.anonymous()).get('/login').expect(200);
    expect(page.text).not.toContain('Demo accounts');
  });

  test('lists the demo accounts and their password once the demo is seeded', async () => {
    await seedDemo(ctx.sequelize, ctx.models);
    const page = await (await ctx.anonymous()).get('/login').expect(200);
    expect(page.text).toContain('Demo accounts');
    for (const d of DEMO_LOGINS) expect(page.text).toContain(d.email);
    expect(page.text).toContain(DEMO_PASSWORD);
  });
});
