import type { User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';

/** The pages Web Push relies on: the notification's own address (a push click, an email link) and the devices page. */
let ctx: TestContext;
let alice: User;
let bob: User;
let asAlice: Agent;
let asBob: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  alice = await ctx.createUser('candidate');
  bob = await ctx.createUser('candidate');
  asAlice = await ctx.login(alice);
  asBob = await ctx.login(bob);
});
afterAll(() => ctx.close());

/** A device row written directly: storing one through the service would resolve its host name. */
async function deviceOf(user: User): Promise<number> {
  const [[row]] = (await ctx.sequelize.query(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
     VALUES (:userId, 'https://push.example.com/' || md5(random()::text), 'k', 'a', 'Firefox on Linux') RETURNING id`,
    { replacements: { userId: user.id } },
  )) as [Array<{ id: number }>, unknown];
  return row.id;
}

test('opening /notifications/{id} marks it read and shows where it leads; another user’s is not found', async () => {
  const n = await ctx.models.Notification.create({ recipientId: alice.id, type: 'announcement', title: 'Room change', message: 'B12' });
  await asBob.get(`/notifications/${n.id}`).expect(404);
  await n.reload();
  expect(n.readAt).toBeNull();
  // The page emails and push clicks open (server/test/web/notification-page.test.ts covers what it shows).
  expect((await asAlice.get(`/notifications/${n.id}`).expect(200)).text).toContain('Room change');
  await n.reload();
  expect(n.readAt).not.toBeNull();
  const anon = await ctx.anonymous();
  await anon.get(`/notifications/${n.id}`).expect(303).expect('Location', `/login?next=%2Fnotifications%2F${n.id}`);
});

test('the devices page lists only the user’s own devices and removes one with a CSRF-checked form', async () => {
  const mine = await deviceOf(alice);
  const theirs = await deviceOf(bob);
  const page = await asAlice.get('/settings/devices').expect(200);
  expect(page.text).toContain(`data-device-id="${mine}"`);
  expect(page.text).not.toContain(`data-device-id="${theirs}"`);
  expect(page.text).toContain('Turn on alerts on this device');

  await asAlice.http.post(`/settings/devices/${mine}/delete`).type('form').send({}).expect(403);
  await asAlice.http.post(`/settings/devices/${theirs}/delete`).type('form').send({ _csrf: asAlice.csrf }).expect(404);
  await asAlice.http.post(`/settings/devices/${mine}/delete`).type('form').send({ _csrf: asAlice.csrf }).expect(303).expect('Location', '/settings/devices');
  expect((await ctx.services.pushSubscriptions.list(alice.id)).map((d) => d.id)).toEqual([]);
  expect((await ctx.services.pushSubscriptions.list(bob.id)).map((d) => d.id)).toEqual([theirs]);
});

test('/sw.js is public, revalidated on every check, and under the page CSP with worker-src self', async () => {
  const res = await (await ctx.anonymous()).get('/sw.js').expect(200).expect('Content-Type', /javascript/);
  expect(res.headers['cache-control']).toBe('no-cache');
  expect(res.headers['content-security-policy']).toContain("worker-src 'self'");
  expect(res.text).toContain("addEventListener('push'");
});
