import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { createTestContext, type Agent, type TestContext } from '../support/harness';
import { HX, form, hx, seedPageCast } from '../support/web';

/** The notifications page and its htmx verbs. */

let ctx: TestContext;
let instructor: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ instructor, courseId } = await seedPageCast(ctx));
});
afterAll(() => ctx.close());

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

  test('the list carries the position it was rendered at: a state change made before it is not news to its socket', async () => {
    // Another user's changes take positions too: the page's replay point is the sequence's, not its newest row's.
    const other = await ctx.createUser('candidate');
    await ctx.services.notifications.fanOut({ kind: 'user', userId: other.id }, { type: 'message', title: 'elsewhere', message: 'm', senderId: null });
    const [newest] = (await ctx.services.notifications.list(user.id, { status: 'all', limit: 1 })).results;
    await ctx.services.notifications.inbox.markRead(user.id, newest.id);
    const res = await agent.get('/notifications').expect(200);
    const rendered = Number(/id="notification-list"[^>]*data-state-position="(\d+)"/.exec(res.text)![1]);
    const [{ last }] = await ctx.sequelize.query<{ last: string }>(
      "SELECT max(GREATEST(id, COALESCE(state_pos, 0))) AS last FROM notifications", { type: QueryTypes.SELECT },
    );
    expect(rendered).toBeGreaterThanOrEqual(Number(last));
    expect(rendered).toBeGreaterThan(newest.id);
    // Replaying from there brings nothing: the read is in the page already.
    expect((await ctx.services.notifications.statesSince(user.id, rendered, 100)).entries).toEqual([]);
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

