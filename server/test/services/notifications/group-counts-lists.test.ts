/**
 * The lists that read the per-group counters (the unfiltered grouped lists, the group lines, the bells) answer
 * exactly what live counting answers, on a mix of states; the bells of many users are one statement; and the
 * counted plans no longer read a big group's members.
 */
import { QueryTypes } from 'sequelize';
import type { User } from '../../../models';
import { NotificationStore, type OwnListQuery } from '../../../services/notifications/store';
import { createTestContext, type TestContext } from '../../support/harness';
import { vacuumedAtRest } from '../../support/plans';

let ctx: TestContext;
let store: NotificationStore;

beforeAll(async () => {
  ctx = await createTestContext();
  store = new NotificationStore(ctx.sequelize);
});
afterAll(() => ctx.close());

/**
 * `count` rows for `user` with distinct senders: applications to `courses` (a course listed twice gets twice the
 * rows, so groups differ in size), every `singleEvery`-th an announcement; then a pseudo-random mix of read, done
 * and snoozed (a hash of the id, so a run is repeatable), written as the app writes them (done and snooze read).
 */
async function seed(user: User, count: number, courses: number[], singleEvery = 4): Promise<void> {
  const senders = [];
  for (let i = 0; i < 5; i++) senders.push((await ctx.createUser('candidate', { name: `Sender ${user.id}-${i}` })).id);
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, sender_id, type, title, course_id)
     SELECT :u, (CAST(:senders AS integer[]))[1 + i % 5], CASE WHEN i % :every = 0 THEN 'announcement' ELSE 'application_submitted' END,
            'n' || i, (CAST(:courses AS integer[]))[1 + i % :nCourses]
       FROM generate_series(1, :count) AS i;
     UPDATE notifications SET read_at = now() WHERE recipient_id = :u AND abs(hashtext('r' || id)) % 3 = 0;
     UPDATE notifications SET done_at = now(), read_at = COALESCE(read_at, now()) WHERE recipient_id = :u AND abs(hashtext('d' || id)) % 7 = 0;
     UPDATE notifications SET snoozed_until = now() + interval '1 hour', read_at = COALESCE(read_at, now())
      WHERE recipient_id = :u AND done_at IS NULL AND abs(hashtext('s' || id)) % 11 = 0;`,
    { replacements: { u: user.id, count, every: singleEvery, senders: `{${senders.join(',')}}`, courses: `{${courses.join(',')}}`, nCourses: courses.length } },
  );
}

async function mixedInstructor(rows = 300): Promise<User> {
  const user = await ctx.createUser('instructor');
  const c = [];
  for (let i = 0; i < 4; i++) c.push((await ctx.createCourse(user)).id);
  await seed(user, rows, [c[0], c[0], c[0], c[1], c[1], c[2], c[3]]);
  return user;
}

/** The list's lines from a GROUP BY over its rows: an implementation that shares nothing with the store's. */
async function expectedLines(userId: number, status: 'all' | 'unread' | 'read') {
  const where = { all: 'TRUE', unread: 'read_at IS NULL', read: 'read_at IS NOT NULL' }[status];
  const rows = await ctx.sequelize.query<{ k: string; n: number; unread: number; latest: string }>(
    `SELECT COALESCE(group_key, 'n:' || id) AS k, CAST(count(*) AS integer) AS n,
            CAST(count(*) FILTER (WHERE read_at IS NULL) AS integer) AS unread, (array_agg(id ORDER BY sort_key DESC))[1] AS latest
       FROM notifications WHERE recipient_id = :userId AND done_at IS NULL AND snoozed_until IS NULL AND ${where}
      GROUP BY 1 ORDER BY max(sort_key) DESC`,
    { replacements: { userId }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => [r.k, r.n, r.unread, Number(r.latest)]);
}

/** A type filter naming every type the seed writes: the same rows, counted live (countedStatus). */
const EVERY_TYPE: OwnListQuery['types'] = ['application_submitted', 'announcement'];

describe.each(['all', 'unread', 'read'] as const)('status=%s', (status) => {
  test('lines from the counters equal lines counted live, and an independent GROUP BY; every page too', async () => {
    const user = await mixedInstructor();
    const counted = await store.groups(user.id, { status, limit: 500 });
    // Any filter makes the list count live; one that keeps every row shows the same list counted the other way.
    const live = await store.groups(user.id, { status, types: EVERY_TYPE, limit: 500 });
    expect(counted).toEqual(live);
    expect(counted.groups.map(({ group: g }) => [g.group_key, g.count, g.unread_count, g.latest.id])).toEqual(await expectedLines(user.id, status));
    expect(counted.groups.some(({ group: g }) => g.count > 10)).toBe(true);
    expect(counted.unread).toBe(await store.unreadCount(user.id));

    const paged = [];
    let before: number | undefined;
    for (;;) {
      const q: OwnListQuery = { status, limit: 7, ...(before === undefined ? {} : { before }) };
      const page = (await store.groups(user.id, q)).groups;
      paged.push(...page);
      if (page.length < 7) break;
      before = page[page.length - 1].sortKey;
    }
    expect(paged).toEqual(counted.groups);
  });
});

test("a state change's group lines and a new member's line are the All list's lines", async () => {
  const user = await mixedInstructor();
  const all = (await store.groups(user.id, { status: 'all', limit: 500 })).groups;
  const shared = all.filter((l) => !l.group.group_key.startsWith('n:'));
  const lines = await store.groupLines(user.id, [], shared.map((l) => l.group.group_key));
  expect([...lines.values()]).toEqual(shared.map((l) => ({ group: l.group, position: l.sortKey })));
  const joined = await store.groupsFor(shared.map((l) => l.group.latest.id));
  const many = shared.filter((l) => l.group.count > 1);
  expect(joined.size).toBe(many.length);
  for (const l of many) expect(joined.get(l.group.latest.id)).toEqual(l.group);
});

test("bells: one statement for many users, each the user's own bell, the All list's first lines and the unread count", async () => {
  const busy = await mixedInstructor();
  const few = await ctx.createUser('candidate');
  await seed(few, 3, [(await ctx.createCourse(busy)).id], 1); // announcements only
  const none = await ctx.createUser('candidate');
  const allDone = await mixedInstructor(20);
  await ctx.services.notifications.inbox.markAllRead(allDone.id);
  await ctx.sequelize.query('UPDATE notifications SET done_at = now() WHERE recipient_id = :u', { replacements: { u: allDone.id } });
  const users = [busy, few, none, allDone].map((u) => u.id);

  const { result: bells, statements } = await ctx.countStatements(() => ctx.services.notifications.bells(users));
  expect(statements).toHaveLength(1);
  for (const id of users) {
    const bell = await ctx.services.notifications.bell(id);
    expect(bells.get(id)).toEqual(bell);
    const first = (await store.groups(id, { status: 'all', limit: 5 })).groups;
    expect(bell.latest.map((l) => [l.id, l.group?.count ?? 1])).toEqual(first.map((l) => [l.group.latest.id, l.group.count]));
    expect(bell.positions).toEqual(first.map((l) => l.sortKey));
    expect(bell.unreadCount).toBe(await store.unreadCount(id));
  }
  expect(bells.get(busy.id)!.latest.some((l) => (l.group?.count ?? 0) > 1)).toBe(true);
  expect(bells.get(none.id)).toEqual({ unreadCount: 0, latest: [], positions: [], olderUnread: [] });
  expect(bells.get(allDone.id)).toEqual({ unreadCount: 0, latest: [], positions: [], olderUnread: [] });
});

interface PlanNode {
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** The most rows any one scan of notifications_group_idx hands up (over all its loops) when `fn`'s one statement runs. */
async function widestGroupScan(fn: () => Promise<unknown>): Promise<number> {
  const { statements } = await ctx.countStatements(fn);
  expect(statements).toHaveLength(1);
  const [{ 'QUERY PLAN': plan }] = await ctx.sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${statements[0].replace(/^Executing \([^)]*\): /, '')}`,
    { type: QueryTypes.SELECT },
  );
  const scans = nodes(plan[0].Plan).filter((n) => n['Index Name'] === 'notifications_group_idx');
  expect(scans.length).toBeGreaterThan(0);
  return Math.max(...scans.map((n) => n['Actual Rows']! * n['Actual Loops']!));
}

test('counted plans read a few entries of each big group; a filtered list still counts its members', async () => {
  const user = await mixedInstructor(6000); // about 4,500 applications in 4 groups of 640 to 1,930
  await vacuumedAtRest(ctx.sequelize, 'notifications');
  for (const status of ['all', 'unread', 'read'] as const) {
    expect(await widestGroupScan(() => store.groups(user.id, { status, limit: 21 }))).toBeLessThan(100);
  }
  expect(await widestGroupScan(() => store.bells([user.id], 5))).toBeLessThan(100);
  // The same page with a filter that keeps every row counts live: the measure above would see it.
  expect(await widestGroupScan(() => store.groups(user.id, { status: 'all', types: EVERY_TYPE, limit: 21 }))).toBeGreaterThan(1000);
});
