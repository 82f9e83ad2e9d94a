import type { User } from '../../../models';
import type { HeraldEvent } from '../../../services/events';
import { createApiContext, type ApiContext } from '../../support/api';
import { type Agent } from '../../support/harness';
import { insertNotification } from '../../support/admin-fixtures';
import { planNodes, vacuumedAtRest } from '../../support/plans';

let ctx: ApiContext;
let admin: User;
let agent: Agent;
let alice: User;
let bob: User;
let carol: User;
let courseId: number;
const ids: Record<string, number> = {};

const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  ctx = await createApiContext();
  admin = await ctx.createUser('admin', { name: 'Ada Admin' });
  alice = await ctx.createUser('candidate', { name: 'Alice Martin', email: 'alice.martin@school.example' });
  bob = await ctx.createUser('instructor', { name: 'Bob Stone', email: 'bob@school.example' });
  carol = await ctx.createUser('candidate', { name: 'Carol 100%_Real', email: 'carol@elsewhere.example' });
  courseId = (await ctx.models.Course.create({ title: 'Algebra', instructorId: bob.id })).id;
  agent = await ctx.loginChecked(admin);

  const rows: Array<[string, Parameters<typeof insertNotification>[1]]> = [
    ['a1', { recipientId: alice.id, senderId: bob.id, type: 'announcement', title: 'Welcome aboard', message: 'Course starts Monday', courseId, createdAt: at('2026-03-01T10:00:00Z') }],
    ['a2', { recipientId: alice.id, type: 'exam_result', title: 'Exam graded', message: 'You scored 100% on it', read: true, createdAt: at('2026-03-02T10:00:00Z') }],
    ['a3', { recipientId: alice.id, type: 'message', title: 'zebra crossing', message: 'plain', createdAt: at('2026-03-03T23:59:00Z') }],
    ['b1', { recipientId: bob.id, senderId: admin.id, type: 'message', title: '100 done', message: 'nothing special', createdAt: at('2026-03-04T00:00:00Z') }],
    ['b2', { recipientId: bob.id, type: 'course_update', title: '100% done', message: 'snake_case here', read: true, createdAt: at('2026-03-05T12:00:00Z') }],
    ['c1', { recipientId: carol.id, type: 'session_start', title: 'Apple session', message: 'Starts now', createdAt: at('2026-03-06T12:00:00Z') }],
  ];
  for (const [key, n] of rows) ids[key] = await insertNotification(ctx, n);
});
afterAll(() => ctx.close());

async function list(query: Record<string, string | number>) {
  const res = await agent.get('/api/admin/notifications').query(query).expect(200);
  return res.body as {
    results: Array<{ id: number } & Record<string, unknown>>;
    total: number;
    page: number;
    page_size: number;
    words: string[];
  };
}
const keysOf = (results: Array<{ id: number }>) =>
  results.map((r) => Object.entries(ids).find(([, id]) => id === r.id)?.[0]);

describe('listing', () => {
  test('newest first by default, with the API notification shape plus the recipient', async () => {
    const page = await list({});
    expect(page).toMatchObject({ total: 6, page: 1, page_size: 25 });
    expect(keysOf(page.results)).toEqual(['c1', 'b2', 'b1', 'a3', 'a2', 'a1']);
    expect(page.results[5]).toEqual({
      id: ids.a1,
      type: 'announcement',
      title: 'Welcome aboard',
      message: 'Course starts Monday',
      data: {},
      is_read: false,
      read_at: null,
      created_at: '2026-03-01T10:00:00.000Z',
      done_at: null,
      snoozed_until: null,
      sender: { id: bob.id, name: 'Bob Stone', email: 'bob@school.example' },
      application_id: null,
      course_id: courseId,
      course_title: 'Algebra',
      recipient: { id: alice.id, name: 'Alice Martin', email: 'alice.martin@school.example', role: 'candidate' },
    });
    expect(page.results[4]).toMatchObject({ is_read: true, read_at: expect.any(String), sender: null });
  });

  test('the page and its total come from one statement', async () => {
    const { statements } = await ctx.countStatements(() =>
      ctx.services.moderation.search({ q: 'done', sort: 'title' }, { page: 1, pageSize: 1 }),
    );
    expect(statements).toHaveLength(1);
  });

  test('recipient: a user id, or text in the email or name (case-insensitive)', async () => {
    expect(keysOf((await list({ recipient: alice.id })).results)).toEqual(['a3', 'a2', 'a1']);
    expect(keysOf((await list({ recipient: 'ALICE.mar' })).results)).toEqual(['a3', 'a2', 'a1']);
    expect(keysOf((await list({ recipient: 'stone' })).results)).toEqual(['b2', 'b1']);
    expect(keysOf((await list({ recipient: 'school.example' })).results)).toEqual(['b2', 'b1', 'a3', 'a2', 'a1']);
    expect((await list({ recipient: 999999 })).total).toBe(0);
  });

  test('recipient text treats % and _ literally', async () => {
    expect(keysOf((await list({ recipient: '100%_' })).results)).toEqual(['c1']);
    expect((await list({ recipient: 'Carol 100%_X' })).total).toBe(0);
  });

  test('type: one, or several separated by commas; exclude_type leaves types out', async () => {
    expect(keysOf((await list({ type: 'message' })).results)).toEqual(['b1', 'a3']);
    expect(keysOf((await list({ type: 'message,exam_result' })).results)).toEqual(['b1', 'a3', 'a2']);
    expect(keysOf((await list({ exclude_type: 'message,announcement' })).results)).toEqual(['c1', 'b2', 'a2']);
    expect(keysOf((await list({ type: 'message,exam_result', exclude_type: 'message' })).results)).toEqual(['a2']);
  });

  test('read state: unread and read; all is both', async () => {
    expect(keysOf((await list({ status: 'unread' })).results)).toEqual(['c1', 'b1', 'a3', 'a1']);
    expect(keysOf((await list({ status: 'read' })).results)).toEqual(['b2', 'a2']);
    expect(keysOf((await list({ status: 'all', type: 'exam_result' })).results)).toEqual(['a2']);
  });

  test('state: done and snoozed are states of their own, each row in exactly one', async () => {
    const done = await insertNotification(ctx, { recipientId: carol.id, title: 'archived one', done: true });
    const snoozed = await insertNotification(ctx, {
      recipientId: carol.id,
      title: 'sleeping one',
      snoozedUntil: new Date(Date.now() + 3_600_000),
    });
    try {
      const ofCarol = async (status: string) => (await list({ recipient: carol.id, status })).results.map((r) => r.id);
      expect(await ofCarol('done')).toEqual([done]);
      expect(await ofCarol('snoozed')).toEqual([snoozed]);
      // Done and snoozed rows are read underneath; "read" still means read in the recipient's inbox.
      expect(await ofCarol('read')).toEqual([]);
      expect(await ofCarol('unread')).toEqual([ids.c1]);
      expect(await ofCarol('all')).toEqual([snoozed, done, ids.c1]);
    } finally {
      await ctx.sequelize.query('DELETE FROM notifications WHERE id IN (:ids)', { replacements: { ids: [done, snoozed] } });
    }
  });

  test('course: only notifications about that course', async () => {
    expect(keysOf((await list({ course: courseId })).results)).toEqual(['a1']);
    expect((await list({ course: courseId + 1000 })).total).toBe(0);
  });

  test('sender: a user id, or text in the sender’s email or name', async () => {
    expect(keysOf((await list({ sender: bob.id })).results)).toEqual(['a1']);
    expect(keysOf((await list({ sender: 'ADA adm' })).results)).toEqual(['b1']);
    expect(keysOf((await list({ sender: 'school.example' })).results)).toEqual(['a1']);
    expect((await list({ sender: 'nobody here' })).total).toBe(0);
  });

  test('date range is inclusive: instants exactly, a plain `to` date through the end of that UTC day', async () => {
    expect(keysOf((await list({ from: '2026-03-03T23:59:00Z' })).results)).toEqual(['c1', 'b2', 'b1', 'a3']);
    expect(keysOf((await list({ to: '2026-03-03T23:59:00Z' })).results)).toEqual(['a3', 'a2', 'a1']);
    expect(keysOf((await list({ to: '2026-03-03T23:58:59.999Z' })).results)).toEqual(['a2', 'a1']);
    expect(keysOf((await list({ from: '2026-03-02', to: '2026-03-03' })).results)).toEqual(['a3', 'a2']);
    expect(keysOf((await list({ from: '2026-03-04T01:00:00+01:00', to: '2026-03-05' })).results)).toEqual(['b2', 'b1']);
    expect((await list({ from: '2026-03-06', to: '2026-03-01' })).total).toBe(0);
  });

  test('q is full text over title, message, sender and course, with stemming and phrases', async () => {
    expect(keysOf((await list({ q: 'welcome' })).results)).toEqual(['a1']);
    expect(keysOf((await list({ q: 'monday' })).results)).toEqual(['a1']); // the message
    expect(keysOf((await list({ q: 'stone' })).results)).toEqual(['a1']); // the sender, Bob Stone
    expect(keysOf((await list({ q: 'algebra' })).results)).toEqual(['a1']); // the course
    expect(keysOf((await list({ q: 'grading' })).results)).toEqual(['a2']); // "graded", stemmed
    expect(keysOf((await list({ q: '100' })).results)).toEqual(['b2', 'b1', 'a2']);
    expect(keysOf((await list({ q: '"zebra crossing"' })).results)).toEqual(['a3']);
    expect(keysOf((await list({ q: 'done -special' })).results)).toEqual(['b2']);
    // A substring is not a word: this is not ILIKE any more.
    expect((await list({ q: 'zebr' })).total).toBe(0);
    // Operators and odd characters are text: websearch syntax never fails.
    for (const q of ['a & b | !c', '((', "'", ':*', '-', 'or or', '%', '_']) await list({ q });
  });

  test('type:x and -type:x in q filter by type, beside type and exclude_type', async () => {
    expect(keysOf((await list({ q: 'done -type:course_update' })).results)).toEqual(['b1']);
    expect(keysOf((await list({ q: 'type:message' })).results)).toEqual(['b1', 'a3']);
    expect(keysOf((await list({ q: '100 -type:message', exclude_type: 'exam_result' })).results)).toEqual(['b2']);
    expect(keysOf((await list({ q: 'type:exam_result,message 100' })).results)).toEqual(['b1', 'a2']);
  });

  test('words: what to highlight, without operators or type filters', async () => {
    expect((await list({ q: 'Welcome "zebra crossing" -special -type:message or x' })).words).toEqual(['Welcome', 'zebra', 'crossing']);
    expect((await list({})).words).toEqual([]);
  });

  test('bad filters are a 400 naming the field, never a 500', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ type: 'nope' }, 'type'],
      [{ type: ',,,' }, 'type'],
      [{ exclude_type: 'message,nope' }, 'exclude_type'],
      [{ course: 'algebra' }, 'course'],
      [{ course: '0' }, 'course'],
      [{ status: 'archived' }, 'status'],
      [{ from: 'yesterday' }, 'from'],
      [{ to: '2026-13-01' }, 'to'],
      [{ q: 'x'.repeat(201) }, 'q'],
      [{ sender: 'y'.repeat(255) }, 'sender'],
    ];
    for (const [query, field] of cases) {
      const res = await agent.get('/api/admin/notifications').query(query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      // `type.0`: the first of the listed types.
      expect(res.body.error.details.map((d: { field: string }) => d.field.split('.')[0])).toContain(field);
    }
  });

  test('filters combine', async () => {
    const page = await list({ recipient: 'alice', status: 'unread', q: 'crossing', from: '2026-03-02', exclude_type: 'announcement' });
    expect(keysOf(page.results)).toEqual(['a3']);
    expect((await list({ recipient: 'alice', q: 'crossing', type: 'announcement' })).total).toBe(0);
  });

  test.each([
    ['title', 'asc', ['b1', 'b2', 'c1', 'a2', 'a1', 'a3']],
    ['title', 'desc', ['a3', 'a1', 'a2', 'c1', 'b2', 'b1']],
    ['type', 'asc', ['a1', 'b2', 'a2', 'a3', 'b1', 'c1']],
    ['recipient', 'asc', ['a1', 'a2', 'a3', 'b1', 'b2', 'c1']],
    ['recipient', 'desc', ['c1', 'b2', 'b1', 'a3', 'a2', 'a1']],
    ['created_at', 'asc', ['a1', 'a2', 'a3', 'b1', 'b2', 'c1']],
  ])('sort=%s order=%s', async (sort, order, expected) => {
    expect(keysOf((await list({ sort, order })).results)).toEqual(expected);
  });

  test('pages do not overlap, keep the total, and a page past the end is empty with the real total', async () => {
    const seen: number[] = [];
    for (const page of [1, 2, 3]) {
      const body = await list({ page, page_size: 2, sort: 'recipient', order: 'asc' });
      expect(body).toMatchObject({ total: 6, page, page_size: 2 });
      expect(body.results).toHaveLength(2);
      seen.push(...body.results.map((r) => r.id));
    }
    expect(new Set(seen).size).toBe(6);
    expect(await list({ page: 9, page_size: 2 })).toEqual({ results: [], total: 6, page: 9, page_size: 2, words: [] });
    expect((await list({ page_size: 100 })).page_size).toBe(100);
  });
});

describe('search plan', () => {
  test('q reads the GIN index, even for a word in one row of seven (not the date index, row by row)', async () => {
    // count(*) OVER () must see every match, yet PostgreSQL costs it as if LIMIT stopped early; without the fence
    // in store/search.ts this plan walked notifications_created_idx backwards through the whole table.
    const reader = await ctx.createUser('candidate');
    await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title, message, created_at, search_vector)
       SELECT :u, 'message', 'Note ' || i, m, now() - make_interval(secs => i), to_tsvector('english', 'Note ' || i || ' ' || m)
         FROM generate_series(1, 20000) AS i, LATERAL (SELECT CASE WHEN i % 7 = 0 THEN 'exam' ELSE 'body' END AS m) AS x`,
      { replacements: { u: reader.id } },
    );
    try {
      await vacuumedAtRest(ctx.sequelize, 'notifications');
      const { statements, result } = await ctx.countStatements(() => list({ q: 'exam', page_size: 5 }));
      expect(result.total).toBe(2857 + 1); // and a2, "Exam graded"
      const plan = await planNodes(ctx.sequelize, statements.find((s) => s.includes('websearch_to_tsquery'))!);
      const indexes = plan.map((n) => n['Index Name']);
      expect(indexes).toContain('notifications_search_idx');
      expect(indexes).not.toContain('notifications_created_idx');
    } finally {
      await ctx.sequelize.query('DELETE FROM notifications WHERE recipient_id = :u', { replacements: { u: reader.id } });
    }
  });
});

describe('one notification', () => {
  test('GET shows any user\'s notification in the admin shape', async () => {
    const { body } = await agent.get(`/api/admin/notifications/${ids.c1}`).expect(200);
    expect(body).toMatchObject({
      id: ids.c1,
      title: 'Apple session',
      recipient: { id: carol.id, role: 'candidate', email: 'carol@elsewhere.example' },
    });
  });
});

describe('deleting', () => {
  const deleted = (): Array<Extract<HeraldEvent, { type: 'notification.deleted' }>> =>
    ctx.published.filter((e): e is Extract<HeraldEvent, { type: 'notification.deleted' }> => e.type === 'notification.deleted');

  test('DELETE removes one notification and tells its recipient', async () => {
    const id = await insertNotification(ctx, { recipientId: alice.id, title: 'to delete' });
    ctx.published.length = 0;
    await agent.delete(`/api/admin/notifications/${id}`).expect(204);
    expect(deleted()).toEqual([{ type: 'notification.deleted', recipientId: alice.id, ids: [id], position: expect.any(Number) }]);
    await agent.get(`/api/admin/notifications/${id}`).expect(404);
    await agent.delete(`/api/admin/notifications/${id}`).expect(404);
    expect(deleted()).toHaveLength(1);
  });

  test('bulk delete: one statement, one event per recipient with their ids, missing ids skipped', async () => {
    const a = [
      await insertNotification(ctx, { recipientId: alice.id, title: 'bulk a' }),
      await insertNotification(ctx, { recipientId: alice.id, title: 'bulk a' }),
    ];
    const b = [await insertNotification(ctx, { recipientId: bob.id, title: 'bulk b' })];
    const keep = await insertNotification(ctx, { recipientId: bob.id, title: 'bulk keep' });
    ctx.published.length = 0;
    const res = await agent
      .post('/api/admin/notifications/bulk-delete', { ids: [b[0], a[1], 99999999, a[0], a[1]] })
      .expect(200);
    expect(res.body).toEqual({ deleted: 3 });
    expect(deleted()).toEqual(
      expect.arrayContaining([
        { type: 'notification.deleted', recipientId: alice.id, ids: a, position: expect.any(Number) },
        { type: 'notification.deleted', recipientId: bob.id, ids: b, position: expect.any(Number) },
      ]),
    );
    expect(deleted()).toHaveLength(2);
    expect((await list({ q: 'bulk' })).results.map((r) => r.id)).toEqual([keep]);

    // Retrying is harmless: nothing left to delete, nothing announced.
    ctx.published.length = 0;
    expect((await agent.post('/api/admin/notifications/bulk-delete', { ids: a }).expect(200)).body).toEqual({ deleted: 0 });
    expect(deleted()).toHaveLength(0);

    const { statements } = await ctx.countStatements(() => ctx.services.moderation.removeMany([keep, 1, 2, 3]));
    expect(statements).toHaveLength(1);
  });

  test('the recipient\'s own list no longer has a deleted notification', async () => {
    const id = await insertNotification(ctx, { recipientId: carol.id, title: 'gone soon' });
    const carolAgent = await ctx.login(carol);
    const before = (await carolAgent.get('/api/notifications/').expect(200)).body.results.map((r: { id: number }) => r.id);
    expect(before).toContain(id);
    await agent.post('/api/admin/notifications/bulk-delete', { ids: [id] }).expect(200);
    const after = (await carolAgent.get('/api/notifications/').expect(200)).body.results.map((r: { id: number }) => r.id);
    expect(after).not.toContain(id);
  });
});
