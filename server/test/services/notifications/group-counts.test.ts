/**
 * The per-group counters (notification_group_counts, kept by triggers on notifications): after every write path
 * they equal a live count of the rows, two transactions on one group never lose an update nor deadlock, and the
 * lists that read them answer what live counting answers.
 */
import { QueryTypes, type Transaction } from 'sequelize';
import type { User } from '../../../models';
import { createTestContext, type TestContext } from '../../support/harness';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const key = (courseId: number) => `application_submitted:course:${courseId}`;

/** Every counter row that differs from a live count of the rows (either way), over the whole database. */
async function drift(): Promise<unknown[]> {
  return ctx.sequelize.query(
    `WITH live AS (
       SELECT recipient_id, group_key, CAST(count(*) AS integer) AS inbox,
              CAST(count(*) FILTER (WHERE read_at IS NULL) AS integer) AS unread
         FROM notifications WHERE group_key IS NOT NULL AND done_at IS NULL AND snoozed_until IS NULL GROUP BY 1, 2),
     kept AS (SELECT recipient_id, group_key, inbox, unread FROM notification_group_counts)
     (SELECT 'missing' AS what, * FROM (TABLE live EXCEPT TABLE kept) a)
     UNION ALL (SELECT 'wrong', * FROM (TABLE kept EXCEPT TABLE live) b)`,
    { type: QueryTypes.SELECT },
  );
}

async function counter(userId: number, groupKey: string): Promise<{ inbox: number; unread: number } | undefined> {
  const [row] = await ctx.sequelize.query<{ inbox: number; unread: number }>(
    'SELECT inbox, unread FROM notification_group_counts WHERE recipient_id = :userId AND group_key = :groupKey',
    { replacements: { userId, groupKey }, type: QueryTypes.SELECT },
  );
  return row;
}

/** `count` rows for `user` in one statement: every `singleEvery`-th a message, the rest applications over `courses`. */
async function seed(user: User, count: number, courses: number[], singleEvery = 3, t?: Transaction): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, sender_id, type, title, course_id, read_at)
     SELECT :u, :u, CASE WHEN i % :every = 0 THEN 'message' ELSE 'application_submitted' END, 'n' || i,
            CASE WHEN i % :every <> 0 THEN (CAST(:courses AS integer[]))[1 + i % :nCourses] END,
            CASE WHEN i % 5 = 0 THEN now() END
       FROM generate_series(1, :count) AS i RETURNING id`,
    {
      replacements: { u: user.id, count, every: singleEvery, courses: `{${courses.join(',')}}`, nCourses: courses.length },
      type: QueryTypes.SELECT,
      transaction: t,
    },
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

async function instructorWithCourses(n: number): Promise<{ user: User; courses: number[] }> {
  const user = await ctx.createUser('instructor');
  const courses: number[] = [];
  for (let i = 0; i < n; i++) courses.push((await ctx.createCourse(user)).id);
  return { user, courses };
}

const idsOf = async (userId: number, where: string) =>
  (
    await ctx.sequelize.query<{ id: string }>(`SELECT id FROM notifications WHERE recipient_id = :userId AND ${where} ORDER BY id`, {
      replacements: { userId },
      type: QueryTypes.SELECT,
    })
  ).map((r) => Number(r.id));

test('inserts: a candidate applying, a fan-out of grouped rows to many recipients, a fan-out of ungrouped ones', async () => {
  const { user: instructor, courses } = await instructorWithCourses(2);
  for (const name of ['Camille', 'Dario', 'Eun']) {
    const candidate = await ctx.createUser('candidate', { name });
    await ctx.services.applications.apply(candidate, courses[0], 'please');
  }
  expect(await counter(instructor.id, key(courses[0]))).toEqual({ inbox: 3, unread: 3 });
  expect(await counter(instructor.id, key(courses[1]))).toBeUndefined();

  // One statement writes a grouped row for every instructor (several recipients, one group each).
  const other = await ctx.createUser('instructor');
  const sent = await ctx.services.notifications.fanOut(
    { kind: 'role', role: 'instructor' },
    { type: 'application_submitted', title: 'x', message: '', senderId: null, courseId: courses[0] },
  );
  expect(sent.recipients).toBeGreaterThanOrEqual(2);
  expect(await counter(instructor.id, key(courses[0]))).toEqual({ inbox: 4, unread: 4 });
  expect(await counter(other.id, key(courses[0]))).toEqual({ inbox: 1, unread: 1 });
  const before = await ctx.sequelize.query('SELECT * FROM notification_group_counts ORDER BY 1, 2', { type: QueryTypes.SELECT });
  await ctx.services.notifications.fanOut({ kind: 'all' }, { type: 'announcement', title: 'y', message: '', senderId: null });
  expect(await ctx.sequelize.query('SELECT * FROM notification_group_counts ORDER BY 1, 2', { type: QueryTypes.SELECT })).toEqual(before);
  expect(await drift()).toEqual([]);
});

test('every state change, one row or many, by id or by group, by the user or by an admin', async () => {
  const { user, courses } = await instructorWithCourses(3);
  const ids = await seed(user, 60, courses, 4); // 15 messages, 15 applications to each course, every 5th read
  const [a, b, c] = courses.map(key);
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['read some', () => ctx.services.notifications.inbox.bulk(user.id, ids.slice(0, 10), 'read')],
    ['unread some', () => ctx.services.notifications.inbox.bulk(user.id, ids.slice(5, 15), 'unread')],
    ['done one', () => ctx.services.notifications.inbox.act(user.id, ids[20], 'done')],
    ['done many', () => ctx.services.notifications.inbox.bulk(user.id, ids.slice(20, 30), 'done')],
    ['undone', () => ctx.services.notifications.inbox.bulk(user.id, ids.slice(25, 28), 'undone')],
    ['unread a done one', () => ctx.services.notifications.inbox.act(user.id, ids[29], 'unread')],
    ['snooze one', () => ctx.services.notifications.inbox.snooze(user.id, ids[31], new Date(Date.now() + 3_600_000))],
    ['snooze a group', () => ctx.services.notifications.inbox.snoozeGroups(user.id, [b], new Date(Date.now() + 3_600_000))],
    [
      'wake',
      async () => {
        await ctx.sequelize.query("UPDATE notifications SET snoozed_until = now() - interval '1 second' WHERE id = :id", { replacements: { id: ids[31] } });
        expect(await ctx.services.notifications.inbox.wake(ids[31])).toBe(true);
      },
    ],
    ['read a group', () => ctx.services.notifications.inbox.bulk(user.id, [], 'read', [a])],
    ['unread a group', () => ctx.services.notifications.inbox.bulk(user.id, [], 'unread', [a, b])],
    ['done a group', () => ctx.services.notifications.inbox.bulk(user.id, [ids[2]], 'done', [c])],
    ['delete some', () => ctx.services.notifications.inbox.bulk(user.id, ids.slice(40, 50), 'delete')],
    ['delete one', () => ctx.services.notifications.inbox.remove(user.id, ids[51])],
    ['mark all read', () => ctx.services.notifications.inbox.markAllRead(user.id)],
    ['admin deletes', () => ctx.services.moderation.removeMany(ids.slice(50, 58))],
    ['delete a group', () => ctx.services.notifications.inbox.bulk(user.id, [], 'delete', [a])],
  ];
  expect(await counter(user.id, a)).toEqual({ inbox: 15, unread: 12 });
  for (const [what, step] of steps) {
    await step();
    expect({ what, drift: await drift() }).toEqual({ what, drift: [] });
  }
  expect(await counter(user.id, a)).toBeUndefined(); // an emptied group's row is gone, not left at zero
  expect(await counter(user.id, b)).toEqual({ inbox: expect.any(Number), unread: 0 });

  // Deleting a user deletes their rows (a cascade), and with them their counters.
  const leaving = await ctx.createUser('candidate');
  await seed(leaving, 10, courses, 4);
  expect(await counter(leaving.id, b)).toBeDefined();
  await leaving.destroy();
  expect(await ctx.sequelize.query('SELECT 1 FROM notification_group_counts WHERE recipient_id = :u', { replacements: { u: leaving.id }, type: QueryTypes.SELECT })).toEqual([]);
  expect(await drift()).toEqual([]);
});

/** Resolves once some other session is waiting for a lock (the statement under test is blocked). */
async function someoneWaits(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rows = await ctx.sequelize.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      { type: QueryTypes.SELECT },
    );
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no session ever waited for a lock');
}

/** `fn` in a transaction of its own, committed, or rolled back when it fails (so the file still closes). */
async function inTransaction(fn: (t: Transaction) => Promise<unknown>): Promise<void> {
  const t = await ctx.sequelize.transaction();
  try {
    await fn(t);
  } catch (err) {
    await t.rollback();
    throw err;
  }
  await t.commit();
}

describe('two transactions at once', () => {
  test.each([
    ['a new group', 0],
    ['a group with members', 5],
  ])('adding to %s: both count (no lost update)', async (_what, existing) => {
    const { user, courses } = await instructorWithCourses(1);
    if (existing > 0) await seed(user, existing, courses, 1000);
    const first = await ctx.sequelize.transaction();
    await seed(user, 2, courses, 1000, first); // 2 unread-or-read applications, uncommitted
    const second = inTransaction((t) => seed(user, 3, courses, 1000, t)); // waits for the first's counter row
    await someoneWaits();
    await first.commit();
    await second;
    expect((await counter(user.id, key(courses[0])))?.inbox).toBe(existing + 5);
    expect(await drift()).toEqual([]);
  });

  test('touching the same groups in different orders: they queue, never deadlock', async () => {
    const { user, courses } = await instructorWithCourses(2);
    const ids = await seed(user, 40, courses, 1000);
    const [low, high] = [...courses].sort((x, y) => key(x).localeCompare(key(y)));
    const inLow = await idsOf(user.id, `course_id = ${low} AND read_at IS NULL`);
    const inHigh = await idsOf(user.id, `course_id = ${high} AND read_at IS NULL`);
    const first = await ctx.sequelize.transaction();
    const read = (rows: number[], t: Transaction) =>
      ctx.sequelize.query('UPDATE notifications SET read_at = now() WHERE id = ANY(CAST(:rows AS bigint[]))', { replacements: { rows: `{${rows.join(',')}}` }, transaction: t });
    await read([inLow[0]], first); // holds the low group's counter
    // Both groups, in key order: waits for the low one, holding neither (in the other order: a deadlock error).
    const second = inTransaction((t) => read([inHigh[1], inLow[1]], t));
    await someoneWaits();
    await read([inHigh[0]], first); // the high group's counter is free
    await first.commit();
    await second;
    expect(ids.length).toBe(40);
    expect(await drift()).toEqual([]);
  });
});

test('TRUNCATE empties the counters with the rows', async () => {
  const { user, courses } = await instructorWithCourses(1);
  await seed(user, 4, courses);
  await ctx.sequelize.query('TRUNCATE notifications CASCADE');
  expect(await ctx.sequelize.query('SELECT * FROM notification_group_counts', { type: QueryTypes.SELECT })).toEqual([]);
});
