import request from 'supertest';
import { renderNotificationEmail, signUnsubscribeToken } from '../../channels/email';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';

let ctx: TestContext;
const token = (userId: number, type: Parameters<typeof signUnsubscribeToken>[2]) =>
  signUnsubscribeToken(ctx.config.sessionSecret, userId, type);

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

async function subscriber(): Promise<User> {
  const u = await ctx.createUser('candidate');
  await ctx.services.preferences.patch(u.id, {
    types: { announcement: { email: 'unread' }, course_update: { email: 'digest' }, session_start: { email: 'digest' }, exam_result: { email: 'immediate' } },
  });
  return u;
}
const emailOf = async (u: User) =>
  Object.fromEntries(Object.entries((await ctx.services.preferences.get(u.id)).types).map(([t, p]) => [t, p.email]));

/** What a mail provider sends (RFC 8058): no cookie, no Origin of ours, no CSRF token. */
const oneClick = (url: string) =>
  request(ctx.app).post(url).set('Origin', 'https://mail.provider.example').type('form').send('List-Unsubscribe=One-Click');

describe('one-click unsubscribe (RFC 8058)', () => {
  test('POST with List-Unsubscribe=One-Click turns that type’s email off, without a login; again changes nothing', async () => {
    const u = await subscriber();
    const before = await emailOf(u);
    const res = await oneClick(`/unsubscribe/${token(u.id, 'announcement')}`).expect(200);
    expect(res.text).toContain('You will no longer receive Announcement emails.');
    expect(await emailOf(u)).toEqual({ ...before, announcement: 'off' });
    await oneClick(`/unsubscribe/${token(u.id, 'announcement')}`).expect(200);
    expect(await emailOf(u)).toEqual({ ...before, announcement: 'off' });
  });

  test('the List-Unsubscribe URL of a real email works as RFC 8058 says', async () => {
    const u = await subscriber();
    const notification = { id: 1, type: 'exam_result' as const, title: 'Marks are out', message: '', courseTitle: null };
    const mail = renderNotificationEmail(
      { publicUrl: 'https://herald.test.example/', secret: ctx.config.sessionSecret },
      { deliveryId: 1, recipient: { id: u.id, email: u.email, name: u.name }, notification },
    );
    expect(mail.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = new URL(/^<(.+)>$/.exec(mail.headers['List-Unsubscribe'])![1]);
    await oneClick(url.pathname).expect(200);
    expect((await emailOf(u)).exam_result).toBe('off');
  });

  test('as multipart/form-data too (what RFC 8058 recommends)', async () => {
    const u = await subscriber();
    await request(ctx.app).post(`/unsubscribe/${token(u.id, 'exam_result')}`).field('List-Unsubscribe', 'One-Click').expect(200);
    expect((await emailOf(u)).exam_result).toBe('off');
  });

  test('a digest token turns off every type the user gets in the digest, and nothing else', async () => {
    const u = await subscriber();
    const before = await emailOf(u);
    await oneClick(`/unsubscribe/${token(u.id, 'digest')}`).expect(200);
    expect(await emailOf(u)).toEqual({ ...before, course_update: 'off', session_start: 'off' });
  });

  test('GET shows what will stop and a confirm form posting to the same URL; it changes nothing itself', async () => {
    const u = await subscriber();
    const url = `/unsubscribe/${token(u.id, 'digest')}`;
    const page = await request(ctx.app).get(url).expect(200);
    expect(page.text).toContain('Stop the daily digest?');
    expect(page.text).toMatch(/Your daily digest lists: Course update, Live session/);
    expect(page.text).toContain(`<form method="post" action="${url}"`);
    expect(page.text).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect((await emailOf(u)).course_update).toBe('digest');
    // The browser submits the form: same origin, still no session and no CSRF token needed.
    const done = await request(ctx.app).post(url).set('Origin', 'http://127.0.0.1').type('form').send({ 'List-Unsubscribe': 'One-Click' }).expect(200);
    expect(done.text).toContain('You are unsubscribed');
    expect((await emailOf(u)).course_update).toBe('off');
    const again = await request(ctx.app).get(url).expect(200);
    expect(again.text).toContain('You are already unsubscribed from the daily digest.');
    expect(again.text).not.toContain('<form method="post" action="/unsubscribe');
  });

  test('a POST without List-Unsubscribe=One-Click changes nothing', async () => {
    const u = await subscriber();
    const url = `/unsubscribe/${token(u.id, 'announcement')}`;
    await request(ctx.app).post(url).expect(400);
    await request(ctx.app).post(url).type('form').send('List-Unsubscribe=Maybe').expect(400);
    await request(ctx.app).post(url).type('json').send({ 'List-Unsubscribe': 'One-Click' }).expect(400);
    expect((await emailOf(u)).announcement).toBe('unread');
  });

  test('a forged or altered token, or one for another user, changes nothing: 400 or 404 page', async () => {
    const u = await subscriber();
    const other = await subscriber();
    const [payload, sig] = token(u.id, 'announcement').split('.');
    const swapUser = `${Buffer.from(`${other.id}.announcement`).toString('base64url')}.${sig}`;
    const swapType = `${Buffer.from(`${u.id}.exam_result`).toString('base64url')}.${sig}`;
    const forged = signUnsubscribeToken('some-other-secret-some-other-secret-123', u.id, 'announcement');
    for (const bad of [swapUser, swapType, forged, `${payload}.${sig}x`, payload, `${payload}.${sig}.extra`]) {
      const post = await oneClick(`/unsubscribe/${bad}`).expect(400);
      expect(post.text).toContain('This unsubscribe link is not valid');
      expect(post.headers['content-type']).toMatch(/text\/html/);
      await request(ctx.app).get(`/unsubscribe/${bad}`).expect(400);
    }
    // Properly signed, for a user who does not exist (any more).
    await oneClick(`/unsubscribe/${token(2_000_000_000, 'announcement')}`).expect(404);
    // A token is for the user it names: logged in as someone else changes nothing of theirs.
    const otherAgent = await ctx.login(other);
    await otherAgent.http.post(`/unsubscribe/${token(u.id, 'exam_result')}`).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect((await emailOf(other)).exam_result).toBe('immediate');
    expect((await emailOf(u)).exam_result).toBe('off');
  });

  test('an email an admin locked on is not turned off; the page says why', async () => {
    const u = await subscriber();
    await ctx.sequelize.query(`UPDATE notification_type_defaults SET email = 'immediate', locked = '{in_app,email}' WHERE type = 'message'`);
    try {
      const res = await oneClick(`/unsubscribe/${token(u.id, 'message')}`).expect(403);
      expect(res.text).toContain('Message emails are required for your account');
      expect((await emailOf(u)).message).toBe('immediate');
    } finally {
      await ctx.sequelize.query(`UPDATE notification_type_defaults SET email = 'off', locked = '{}' WHERE type = 'message'`);
    }
  });

  test('only this route is exempt: other page POSTs still need CSRF and a same Origin', async () => {
    const u = await subscriber();
    const agent = await ctx.login(u);
    await agent.http.post('/notifications/read-all').type('form').send({}).expect(403);
    await agent.http.post('/notifications/read-all').set('Origin', 'https://mail.provider.example').type('form').send({ _csrf: agent.csrf }).expect(403);
  });
});
