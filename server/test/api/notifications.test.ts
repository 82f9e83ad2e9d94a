import { QueryTypes } from 'sequelize';
import request from 'supertest';
import type { User } from '../../models';
import { notificationStateOperations } from '../../api/notification-states';
import { encodeCursor } from '../../services/notifications';
import { createApiContext, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';
import { startServer } from '../support/realtime';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

/** Writes `count` notifications for a user in one statement; ids ascend with `i`, so the last is the newest. */
async function seed(user: User, count: number, opts: { type?: string; readEvery?: number; title?: string } = {}) {
  const rows = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, type, title, message, read_at)
     SELECT :userId, :type, :title || ' ' || i, 'body ' || i, CASE WHEN :readEvery > 0 AND i % :readEvery = 0 THEN now() END
       FROM generate_series(1, :count) AS i
     RETURNING id`,
    {
      replacements: { userId: user.id, count, type: opts.type ?? 'message', title: opts.title ?? 'Note', readEvery: opts.readEvery ?? 0 },
      type: QueryTypes.SELECT,
    },
  );
  return rows.map((r) => Number(r.id));
}

async function someone(): Promise<{ user: User; agent: Agent }> {
  const user = await ctx.createUser('candidate');
  return { user, agent: await ctx.loginChecked(user) };
}

describe('GET /api/notifications/', () => {
  test('newest first, in the documented shape, with the unread count', async () => {
    const { user, agent } = await someone();
    const sender = await ctx.createUser('instructor');
    const course = await ctx.models.Course.create({ title: 'Shapes 101', instructorId: sender.id });
    await seed(user, 3, { readEvery: 2 });
    await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, course_id)
       VALUES (:u, :s, 'announcement', 'Hello', 'World', '{"k": [1, "two"]}', :c)`,
      { replacements: { u: user.id, s: sender.id, c: course.id } },
    );
    const res = await agent.get('/api/notifications/').expect(200);
    expect(res.body.unread_count).toBe(3);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.results.map((n: { title: string }) => n.title)).toEqual(['Hello', 'Note 3', 'Note 2', 'Note 1']);
    expect(res.body.results[0]).toEqual({
      id: expect.any(Number),
      type: 'announcement',
      title: 'Hello',
      message: 'World',
      data: { k: [1, 'two'] },
      is_read: false,
      read_at: null,
      created_at: expect.any(String),
      done_at: null,
      snoozed_until: null,
      sender: { id: sender.id, name: sender.name, email: sender.email },
      application_id: null,
      course_id: course.id,
      course_title: 'Shapes 101',
    });
    expect(res.body.results[2]).toMatchObject({ title: 'Note 2', is_read: true, read_at: expect.any(String), sender: null });
  });

  test('filters by status and type; unread_count stays the total', async () => {
    const { user, agent } = await someone();
    await seed(user, 6, { readEvery: 3 }); // 2 read, 4 unread
    await seed(user, 2, { type: 'exam_result' });
    const unread = await agent.get('/api/notifications?status=unread').expect(200);
    expect(unread.body.results).toHaveLength(6);
    expect(unread.body.results.every((n: { is_read: boolean }) => !n.is_read)).toBe(true);
    const read = await agent.get('/api/notifications/?status=read').expect(200);
    expect(read.body.results).toHaveLength(2);
    expect(read.body.unread_count).toBe(6);
    const exams = await agent.get('/api/notifications/?type=exam_result&status=all').expect(200);
    expect(exams.body.results.map((n: { type: string }) => n.type)).toEqual(['exam_result', 'exam_result']);
  });

  test('keyset pagination walks every notification once, newest first', async () => {
    const { user, agent } = await someone();
    const ids = await seed(user, 45);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/notifications/?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await agent.get(url).expect(200);
      seen.push(...res.body.results.map((n: { id: number }) => n.id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    // The default page is 20, the largest 100.
    expect((await agent.get('/api/notifications/').expect(200)).body.results).toHaveLength(20);
    await seed(user, 80);
    expect((await agent.get('/api/notifications/?limit=100').expect(200)).body.results).toHaveLength(100);
  });

  test('a deep page costs what the first page costs (no sort, the same rows examined)', async () => {
    const { user, agent } = await someone();
    const noise = await ctx.createUser('candidate');
    // 10,000 rows, the two users' interleaved, so no plan gets a deep page for free.
    const rows = await ctx.sequelize.query<{ id: string }>(
      `INSERT INTO notifications (recipient_id, type, title)
       SELECT CASE WHEN i % 2 = 0 THEN :u ELSE :noise END, 'message', 'n' || i FROM generate_series(1, 10000) AS i
       RETURNING id, recipient_id`,
      { replacements: { u: user.id, noise: noise.id }, type: QueryTypes.SELECT },
    );
    const mine = rows.filter((_, i) => i % 2 === 1).map((r) => Number(r.id));
    await ctx.sequelize.query('ANALYZE notifications');

    /** Rows the notifications scan examined for one API call, found by re-running its statement under EXPLAIN. */
    const examined = async (url: string) => {
      const { statements } = await ctx.countStatements(() => agent.get(url).expect(200));
      const sql = statements.find((s) => s.includes('FROM notifications n') && s.includes('ORDER BY n.sort_key DESC'))!;
      const [{ 'QUERY PLAN': plan }] = await ctx.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${sql.replace(/^Executing \([^)]*\): /, '')}`,
        { type: QueryTypes.SELECT },
      );
      expect(JSON.stringify(plan)).not.toMatch(/"Node Type":"(Sort|Seq Scan)"/);
      const scan = findNode(plan[0].Plan, (n) => n['Relation Name'] === 'notifications')!;
      return scan['Actual Rows']! + (scan['Rows Removed by Filter'] ?? 0);
    };
    const page1 = await examined('/api/notifications/?limit=20');
    // The cursor of page 240 of 250, as the API would have handed it out.
    const deepCursor = encodeCursor(mine[mine.length - 1 - 240 * 20 + 1]);
    const deep = await agentPage(agent, `/api/notifications/?limit=20&cursor=${deepCursor}`);
    expect(deep.results).toHaveLength(20);
    expect(deep.results[0].id).toBe(mine[mine.length - 1 - 240 * 20]);
    const page240 = await examined(`/api/notifications/?limit=20&cursor=${deepCursor}`);
    expect(page1).toBeLessThanOrEqual(50);
    expect(page240).toBeLessThanOrEqual(page1 + 5);
  });

  test('a user sees only their own notifications', async () => {
    const a = await someone();
    const b = await someone();
    await seed(a.user, 2);
    const res = await b.agent.get('/api/notifications/').expect(200);
    expect(res.body).toEqual({ results: [], next_cursor: null, unread_count: 0 });
  });
});

interface PlanNode {
  'Relation Name'?: string;
  'Rows Removed by Filter'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}
function findNode(node: PlanNode, pred: (n: PlanNode) => boolean): PlanNode | undefined {
  if (pred(node)) return node;
  for (const child of node.Plans ?? []) {
    const found = findNode(child, pred);
    if (found) return found;
  }
  return undefined;
}
async function agentPage(agent: Agent, url: string) {
  return (await agent.get(url).expect(200)).body;
}

describe('one notification', () => {
  test('show: mine is 200; another user’s, a missing one and a bad id are not', async () => {
    const a = await someone();
    const b = await someone();
    const [mine] = await seed(a.user, 1);
    expect((await a.agent.get(`/api/notifications/${mine}/`).expect(200)).body).toMatchObject({ id: mine, title: 'Note 1' });
    await b.agent.get(`/api/notifications/${mine}`).expect(404);
    await a.agent.get(`/api/notifications/${mine + 1000000}`).expect(404);
    await a.agent.get('/api/notifications/abc').expect(400);
  });

  test.each(['patch', 'post'] as const)('mark_read (%s): read once, idempotent, announced once', async (verb) => {
    const { user, agent } = await someone();
    const [first, second] = await seed(user, 2);
    ctx.published.length = 0;
    const res = await agent[verb](`/api/notifications/${first}/mark_read/`).expect(200);
    expect(res.body).toMatchObject({ id: first, is_read: true, read_at: expect.any(String), unread_count: 1 });
    const again = await agent[verb](`/api/notifications/${first}/mark_read`).expect(200);
    expect(again.body.read_at).toBe(res.body.read_at);
    expect(again.body.unread_count).toBe(1);
    expect(ctx.published).toEqual([{ type: 'notification.read', recipientId: user.id, ids: [first], position: expect.any(Number) }]);
    expect((await agent.get(`/api/notifications/${second}`).expect(200)).body.is_read).toBe(false);
  });

  test('mark_read on another user’s notification is a 404 and changes nothing', async () => {
    const a = await someone();
    const b = await someone();
    const [theirs] = await seed(a.user, 1);
    await b.agent.patch(`/api/notifications/${theirs}/mark_read/`).expect(404);
    await b.agent.post(`/api/notifications/${theirs}/mark_read/`).expect(404);
    expect((await a.agent.get('/api/notifications/unread_count/').expect(200)).body).toEqual({ unread_count: 1 });
  });

  test('delete: mine goes (204, then 404); another user’s is a 404 and stays', async () => {
    const a = await someone();
    const b = await someone();
    const [mine, other] = await seed(a.user, 2);
    ctx.published.length = 0;
    await b.agent.delete(`/api/notifications/${mine}/`).expect(404);
    await a.agent.delete(`/api/notifications/${mine}/`).expect(204);
    await a.agent.delete(`/api/notifications/${mine}`).expect(404);
    await a.agent.get(`/api/notifications/${mine}`).expect(404);
    expect((await a.agent.get(`/api/notifications/${other}`).expect(200)).body.id).toBe(other);
    expect(ctx.published).toEqual([{ type: 'notification.deleted', recipientId: a.user.id, ids: [mine], position: expect.any(Number) }]);
  });
});

describe('counts and mark_all_read', () => {
  test('unread_count counts only my unread notifications', async () => {
    const a = await someone();
    const b = await someone();
    await seed(a.user, 7, { readEvery: 2 });
    await seed(b.user, 5);
    expect((await a.agent.get('/api/notifications/unread_count/').expect(200)).body).toEqual({ unread_count: 4 });
  });

  test('mark_all_read is one UPDATE, touches only my rows and is announced once', async () => {
    const a = await someone();
    const b = await someone();
    await seed(a.user, 30, { readEvery: 5 });
    await seed(b.user, 3);
    ctx.published.length = 0;
    const { result: res, statements } = await ctx.countStatements(() =>
      a.agent.post('/api/notifications/mark_all_read/').expect(200),
    );
    expect(res.body).toEqual({ updated: 24, unread_count: 0 });
    expect(statements.filter((s) => /UPDATE notifications/.test(s))).toHaveLength(1);
    expect(ctx.published).toEqual([{ type: 'notification.read_all', recipientId: a.user.id, position: expect.any(Number) }]);
    expect((await b.agent.get('/api/notifications/unread_count').expect(200)).body.unread_count).toBe(3);
    // Nothing left to mark: no event.
    ctx.published.length = 0;
    expect((await a.agent.post('/api/notifications/mark_all_read').expect(200)).body).toEqual({ updated: 0, unread_count: 0 });
    expect(ctx.published).toEqual([]);
  });
});

describe('the first original system’s paths', () => {
  test('list, show, unread_count, mark_as_read and mark_all_as_read answer as the current paths do', async () => {
    const { user, agent } = await someone();
    const [n1, n2] = await seed(user, 3);
    const list = await agent.get('/api/notifications/notifications/').expect(200);
    expect(list.body.results).toHaveLength(3);
    expect((await agent.get(`/api/notifications/notifications/${n1}/`).expect(200)).body.id).toBe(n1);
    expect((await agent.get('/api/notifications/notifications/unread_count/').expect(200)).body).toEqual({ unread_count: 3 });
    const marked = await agent.post(`/api/notifications/notifications/${n1}/mark_as_read/`).expect(200);
    expect(marked.body).toMatchObject({ id: n1, is_read: true, unread_count: 2 });
    expect((await agent.patch(`/api/notifications/notifications/${n2}/mark_as_read`).expect(200)).body.unread_count).toBe(1);
    expect((await agent.post('/api/notifications/notifications/mark_all_as_read/').expect(200)).body).toEqual({
      updated: 1,
      unread_count: 0,
    });
  });
});

describe('without a login', () => {
  test('every notification endpoint is a 401', async () => {
    const anon = ctx.contract.wrap(await ctx.anonymous());
    for (const prefix of ['/api/notifications', '/api/notifications/notifications']) {
      await anon.get(`${prefix}/`).expect(401);
      await anon.get(`${prefix}/unread_count/`).expect(401);
      await anon.get(`${prefix}/1/`).expect(401);
    }
    await anon.post('/api/notifications/mark_all_read/').expect(401);
    await anon.patch('/api/notifications/1/mark_read/').expect(401);
    await anon.delete('/api/notifications/1/').expect(401);
    const res = await request(ctx.app).get('/api/notifications/').expect(401);
    expect(res.body).toEqual({ error: { code: 'unauthorized', message: 'You need to log in.', details: null } });
  });
});

describe('GET /api/notifications/stream/', () => {
  test('503 where no realtime layer runs; with one, a documented event stream until the session ends', async () => {
    const { user, agent } = await someone();
    await agent.get('/api/notifications/stream/').expect(503);
    const srv = await startServer(ctx);
    try {
      const streaming = agent.get('/api/notifications/stream/').then((res) => res);
      while (!srv.realtime.hub.hasUser(user.id)) await new Promise((r) => setTimeout(r, 20));
      await agent.post('/api/auth/logout').expect(204);
      const res = await streaming;
      expect(res.status).toBe(200);
      expect(res.text).toMatch(/^retry: \d+\n\nevent: connection_established\ndata: \{"type":"connection_established","unread_count":0\}\n\n/);
      expect(res.text).toContain('event: close\ndata: {"code":4401');
    } finally {
      await srv.close();
    }
  });
});

test('every notification endpoint, under both vocabularies, answered 2xx in this file', () => {
  // The inbox's states have their own file (notification-states.test.ts), which checks them the same way.
  const states = new Set(notificationStateOperations.map((o) => o.operationId));
  expect(ctx.contract.unexercised('/api/notifications').filter((id) => !states.has(id))).toEqual([]);
});

describe('NotificationService.bell', () => {
  test('the latest five lines, newest first, the unread count and the older unread ones, in two statements side by side', async () => {
    const user = await ctx.createUser('candidate');
    const ids = await seed(user, 7, { readEvery: 3 }); // the 3rd and 6th are read
    const { result, statements } = await ctx.countStatements(() => ctx.services.notifications.bell(user.id));
    expect(result.unreadCount).toBe(5);
    expect(result.latest.map((n) => n.id)).toEqual(ids.slice(2).reverse());
    expect(result.latest.map((n) => n.is_read)).toEqual([false, true, false, false, true]);
    // The Unread tab's five unread: three among the latest, then these two older ones.
    expect(result.olderUnread.map((n) => n.id)).toEqual([ids[1], ids[0]]);
    // The grouped lines with the count (ownGroups), and the newest unread ones (the Unread tab), run together.
    expect(statements).toHaveLength(2);
    expect(await ctx.services.notifications.bell((await ctx.createUser('candidate')).id)).toEqual({ unreadCount: 0, latest: [], positions: [], olderUnread: [] });
  });

  test('older unread ones fill the Unread tab up to five, no more, and none when the latest hold five', async () => {
    const user = await ctx.createUser('candidate');
    const ids = await seed(user, 12);
    await ctx.services.notifications.inbox.bulk(user.id, ids.slice(7), 'read'); // the latest five are read
    const { olderUnread } = await ctx.services.notifications.bell(user.id);
    expect(olderUnread.map((n) => n.id)).toEqual(ids.slice(2, 7).reverse());
    await ctx.services.notifications.inbox.bulk(user.id, ids.slice(7), 'unread');
    expect((await ctx.services.notifications.bell(user.id)).olderUnread).toEqual([]);
  });
});
