/** /ws/notifications end to end: real sockets with session cookies, real PostgreSQL, the in-process bus. */
import type { User } from '../../models';
import { api, Client, createServerContext, login, sleep, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext({ sessionCheckMs: 200 });
});
afterAll(() => ctx.close());

function connect(cookie: string | undefined, query = '') {
  return ctx.srv.connect(`/ws/notifications${query}`, { cookie });
}

function notify(recipient: User, title = 'Hello') {
  return ctx.sequelize.transaction((t) =>
    ctx.services.notifications.create({ recipientId: recipient.id, type: 'message', title, message: 'body' }, t),
  );
}

test('the first frame is connection_established with the unread count', async () => {
  const u = await ctx.createUser('candidate');
  await notify(u);
  await notify(u);
  const { cookie } = await login(ctx.srv.url, u);
  const c = connect(cookie);
  await c.next(() => true);
  expect(c.frames[0].json).toEqual({ type: 'connection_established', unread_count: 2 });
});

test('two tabs both receive a new notification in the API shape, then the count', async () => {
  const u = await ctx.createUser('candidate');
  const { cookie } = await login(ctx.srv.url, u);
  const [a, b] = [connect(cookie), connect(cookie)];
  await Promise.all([a.type('connection_established'), b.type('connection_established')]);
  const id = await notify(u, 'Course starts');
  for (const c of [a, b]) {
    const f = await c.type('notification');
    expect(f.notification).toMatchObject({ id, title: 'Course starts', message: 'body', is_read: false, type: 'message' });
    expect(await c.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 1 });
  }
});

test("user A never receives user B's pushes, whatever the URL or messages say", async () => {
  const [ua, ub] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const bNote = await notify(ub, 'for B only');
  const [la, lb] = [await login(ctx.srv.url, ua), await login(ctx.srv.url, ub)];
  const a = connect(la.cookie, `?user_id=${ub.id}&userId=${ub.id}&since=0`);
  const b = connect(lb.cookie);
  await Promise.all([a.type('connection_established'), b.type('connection_established')]);
  // since=0 replays A's own (none), never B's.
  a.send({ type: 'mark_as_read', id: bNote });
  expect(await a.type('error')).toMatchObject({ code: 'not_found' });
  a.send({ type: 'mark_as_read', id: bNote, user_id: ub.id, userId: ub.id });
  await a.type('error', { from: a.frames.length });
  const second = await notify(ub, 'also for B');
  await b.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === second);
  await sleep(100);
  expect(a.frames.map((f) => f.text).join('\n')).not.toContain('for B');
  expect(a.frames.some((f) => f.json?.type === 'notification' || f.json?.type === 'notification_read')).toBe(false);
  expect((await ctx.services.notifications.get(ub.id, bNote)).is_read).toBe(false);
});

test('?since= replays every missed notification in order, before live ones', async () => {
  const u = await ctx.createUser('candidate');
  const first = await notify(u, 'n1');
  const missed = [await notify(u, 'n2'), await notify(u, 'n3'), await notify(u, 'n4')];
  const { cookie } = await login(ctx.srv.url, u);
  const c = connect(cookie, `?since=${first}`);
  await c.type('connection_established');
  const live = await notify(u, 'n5');
  await c.next((f) => (f.json?.notification as { id?: number } | undefined)?.id === live);
  const ids = c.frames.filter((f) => f.json?.type === 'notification').map((f) => (f.json!.notification as { id: number }).id);
  expect(ids).toEqual([...missed, live]);
  expect(c.frames[0].json?.type).toBe('connection_established');
});

test('read state syncs across tabs: mark one (socket), mark one (API), mark all', async () => {
  const u = await ctx.createUser('candidate');
  const n1 = await notify(u);
  const n2 = await notify(u);
  await notify(u);
  const who = await login(ctx.srv.url, u);
  const [a, b] = [connect(who.cookie), connect(who.cookie)];
  await Promise.all([a.type('connection_established'), b.type('connection_established')]);

  a.send({ type: 'mark_as_read', id: n1 });
  for (const c of [a, b]) {
    expect(await c.type('notification_read')).toEqual({ type: 'notification_read', ids: [n1] });
    expect(await c.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 2 });
  }
  // Each tab's frames for n2 (its unread_count last) before `before` is taken below: waiting on one tab only let the
  // other's n2 notification_read arrive late, after `before`, and be taken for the "mark all" one (seen under load).
  const marks = [a.frames.length, b.frames.length];
  expect((await api(ctx.srv.url, who, 'POST', `/api/notifications/${n2}/mark_read`)).status).toBe(200);
  for (const [i, c] of [a, b].entries()) {
    expect(await c.type('notification_read', { from: marks[i] })).toEqual({ type: 'notification_read', ids: [n2] });
    expect(await c.type('unread_count', { from: marks[i] })).toEqual({ type: 'unread_count', unread_count: 1 });
  }

  const before = a.frames.length;
  b.send({ type: 'mark_all_as_read' });
  expect(await a.type('notification_read', { from: before })).toEqual({ type: 'notification_read', ids: [], all: true });
  expect(await a.type('unread_count', { from: before })).toEqual({ type: 'unread_count', unread_count: 0 });
});

test('ping answers pong; unknown types and bad ids answer errors and keep the socket', async () => {
  const u = await ctx.createUser('candidate');
  const { cookie } = await login(ctx.srv.url, u);
  const c = connect(cookie);
  await c.type('connection_established');
  c.send({ type: 'ping' });
  expect(await c.type('pong')).toEqual({ type: 'pong' });
  c.send({ type: 'drop_tables' });
  c.send({ type: 'mark_as_read', id: '1 OR 1=1' });
  c.send({ type: 'mark_as_read', id: -3 });
  c.send({ type: 'mark_as_read', id: 1e300 });
  c.send({ type: 'ping' });
  await c.next((f) => f.json?.type === 'pong', { from: 2 });
  const errors = c.frames.filter((f) => f.json?.type === 'error').map((f) => f.json!.code);
  expect(errors).toEqual(['unknown_type', 'invalid_id', 'invalid_id', 'invalid_id']);
  expect(c.ws.readyState).toBe(c.ws.OPEN);
});

test('a fan-out reaches every connected student with their own id, in a fixed number of queries', async () => {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Fan', instructorId: instructor.id });
  const students = await Promise.all([1, 2, 3, 4, 5].map(() => ctx.createUser('candidate')));
  await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
  const conns = await Promise.all(students.slice(0, 4).map(async (s) => connect((await login(ctx.srv.url, s)).cookie)));
  await Promise.all(conns.map((c) => c.type('connection_established')));
  await ctx.srv.realtime.delivery.idle();

  const { result, statements } = await ctx.countStatements(async () => {
    const r = await ctx.services.notifications.fanOut(
      { kind: 'course', courseId: course.id },
      { type: 'announcement', title: 'Exam moved', message: 'to Friday', senderId: instructor.id, courseId: course.id },
    );
    await Promise.all(conns.map((c) => c.type('notification')));
    await ctx.srv.realtime.delivery.idle();
    return r;
  });
  expect(result.recipients).toBe(5);
  const ids = conns.map((c) => (c.frames.find((f) => f.json?.type === 'notification')!.json!.notification as { id: number }).id);
  expect(new Set(ids).size).toBe(4);
  const rows = await ctx.models.Notification.findAll({ where: { batchId: result.batchId } });
  for (const [i, s] of students.slice(0, 4).entries()) {
    expect(rows.find((r) => Number(r.id) === ids[i])?.recipientId).toBe(s.id);
  }
  for (const c of conns) expect(await c.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 1 });
  // 1 INSERT ... SELECT, then: batch rows of connected recipients with their unread counts, the shared content.
  // The hub's session re-check (every 200 ms in this file) and the presence upsert (every 5 s) may run meanwhile;
  // they are not part of the fan-out.
  expect(statements.filter((sql) => !/FROM session WHERE sid IN|realtime_presence/.test(sql))).toHaveLength(3);
});

test('notices created together (approvals under load) are delivered in order with three queries for the lot', async () => {
  const [u1, u2] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const [c1, c2] = [connect((await login(ctx.srv.url, u1)).cookie), connect((await login(ctx.srv.url, u2)).cookie)];
  await Promise.all([c1.type('connection_established'), c2.type('connection_established')]);
  await ctx.srv.realtime.delivery.idle();
  // Rows written without events, then their three events published in one tick, as the bus hands over
  // events that arrived while the previous batch was being delivered.
  const ids: number[] = [];
  for (const [u, title] of [[u1, 'one'], [u2, 'two'], [u1, 'three']] as const) {
    const [[row]] = (await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title) VALUES (${u.id}, 'message', '${title}') RETURNING id`,
    )) as [Array<{ id: string }>, unknown];
    ids.push(Number(row.id));
  }
  const { statements } = await ctx.countStatements(async () => {
    ctx.events.publish({ type: 'notification.created', recipientId: u1.id, id: ids[0] });
    ctx.events.publish({ type: 'notification.created', recipientId: u2.id, id: ids[1] });
    ctx.events.publish({ type: 'notification.created', recipientId: u1.id, id: ids[2] });
    await ctx.srv.realtime.delivery.idle();
  });
  await c1.next((f) => f.json?.type === 'notification' && (f.json.notification as { id: number }).id === ids[2]);
  const seen = (c: Client) => c.frames.filter((f) => f.json?.type !== 'connection_established').map((f) => f.json);
  expect(seen(c1)).toEqual([
    { type: 'notification', notification: expect.objectContaining({ id: ids[0], title: 'one' }) },
    { type: 'unread_count', unread_count: 2 },
    { type: 'notification', notification: expect.objectContaining({ id: ids[2], title: 'three' }) },
    { type: 'unread_count', unread_count: 2 },
  ]);
  await c2.type('unread_count');
  expect(seen(c2)).toEqual([
    { type: 'notification', notification: expect.objectContaining({ id: ids[1], title: 'two' }) },
    { type: 'unread_count', unread_count: 1 },
  ]);
  // One byIds, one unreadCounts and one for the group lines (JSON tabs show groups) for all three events, side by
  // side (the periodic session check may run meanwhile).
  expect(statements.filter((sql) => /FROM notifications/.test(sql))).toHaveLength(3);
});

test('reconnecting gets a fresh snapshot including what arrived while away', async () => {
  const u = await ctx.createUser('candidate');
  const { cookie } = await login(ctx.srv.url, u);
  const c1 = connect(cookie);
  expect(await c1.type('connection_established')).toEqual({ type: 'connection_established', unread_count: 0 });
  c1.close();
  await c1.closed;
  await notify(u);
  await notify(u);
  const c2 = connect(cookie);
  await c2.next(() => true);
  expect(c2.frames[0].json).toEqual({ type: 'connection_established', unread_count: 2 });
});

test('logout closes that session’s sockets with 4401 within a second; the other session stays', async () => {
  const u = await ctx.createUser('candidate');
  const [s1, s2] = [await login(ctx.srv.url, u), await login(ctx.srv.url, u)];
  const [t1, t2, other] = [connect(s1.cookie), connect(s1.cookie), connect(s2.cookie)];
  await Promise.all([t1, t2, other].map((c) => c.type('connection_established')));
  const at = Date.now();
  expect((await api(ctx.srv.url, s1, 'POST', '/api/auth/logout')).status).toBe(204);
  const [c1, c2] = await Promise.all([t1.closed, t2.closed]);
  expect(Date.now() - at).toBeLessThan(1000);
  expect([c1.code, c2.code]).toEqual([4401, 4401]);
  other.send({ type: 'ping' });
  await other.type('pong');
  // The old cookie no longer opens a socket.
  const again = connect(s1.cookie);
  expect((await again.closed).code).toBe(4401);
});

test('ending all of a user’s sessions, or the session row vanishing, closes their sockets', async () => {
  const u = await ctx.createUser('candidate');
  const v = await ctx.createUser('candidate');
  const [a, b] = [connect((await login(ctx.srv.url, u)).cookie), connect((await login(ctx.srv.url, v)).cookie)];
  await Promise.all([a.type('connection_established'), b.type('connection_established')]);
  await ctx.services.auth.endAllSessions(u.id);
  expect((await a.closed).code).toBe(4401);
  // No event at all: the periodic re-check (200 ms here) notices the destroyed session.
  await ctx.sequelize.query(`DELETE FROM session WHERE (sess ->> 'userId')::integer = ${v.id}`);
  expect((await b.closed).code).toBe(4401);
});

test('admins get coalesced admin_event frames; others never do', async () => {
  const admin = await ctx.createUser('admin');
  const u = await ctx.createUser('candidate');
  const ad = connect((await login(ctx.srv.url, admin)).cookie);
  const uc = connect((await login(ctx.srv.url, u)).cookie);
  await Promise.all([ad.type('connection_established'), uc.type('connection_established')]);
  for (let i = 0; i < 6; i++) await notify(u, `burst ${i}`);
  await ad.type('admin_event');
  await sleep(300);
  const events = ad.frames.filter((f) => f.json?.type === 'admin_event');
  expect(events[0].json).toEqual({ type: 'admin_event', event: 'notification.created' });
  expect(events.length).toBeLessThanOrEqual(2); // leading edge + at most one trailing within the second
  await ad.next((f) => f.json?.type === 'admin_event', { from: ad.frames.indexOf(events[0]) + 1, timeoutMs: 2_000 });
  expect(uc.frames.some((f) => f.json?.type === 'admin_event')).toBe(false);
});

test('openSocketCount counts this process’s sockets', async () => {
  const n = await ctx.srv.realtime.openSocketCount();
  expect(n).toBe(ctx.srv.realtime.hub.size);
  expect(n).toBeGreaterThan(0);
});
