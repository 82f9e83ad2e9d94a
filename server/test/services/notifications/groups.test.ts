import { QueryTypes } from 'sequelize';
import type { User } from '../../../models';
import { NotificationStore, parseGroupKeys } from '../../../services/notifications/store';
import { createTestContext, type TestContext } from '../../support/harness';
import { nodesOf, planTree, vacuumedAtRest, type PlanNode } from '../../support/plans';

let ctx: TestContext;
let store: NotificationStore;

beforeAll(async () => {
  ctx = await createTestContext();
  store = new NotificationStore(ctx.sequelize);
});
afterAll(() => ctx.close());

/** The nodes that are not under a count (an Aggregate, such as the unread total's count of the single unread rows). */
const walks = (n: PlanNode): PlanNode[] => (n['Node Type'] === 'Aggregate' ? [] : [n, ...(n.Plans ?? []).flatMap(walks)]);

/** `count` rows for `user` in one statement: every `singleEvery`-th a message, the rest applications spread over `courses`. */
async function seed(user: User, count: number, courses: number[], singleEvery: number): Promise<void> {
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, sender_id, type, title, course_id, read_at)
     SELECT :u, :u, CASE WHEN i % :every = 0 THEN 'message' ELSE 'application_submitted' END, 'n' || i,
            CASE WHEN i % :every <> 0 THEN (CAST(:courses AS integer[]))[1 + i % :nCourses] END,
            CASE WHEN i % 5 = 0 THEN now() END
       FROM generate_series(1, :count) AS i`,
    { replacements: { u: user.id, count, every: singleEvery, courses: `{${courses.join(',')}}`, nCourses: courses.length } },
  );
}

test('group keys: single rows by id, shared keys as they are; duplicates once; malformed ones name nothing', () => {
  expect(parseGroupKeys(['n:12', 'application_submitted:course:3', 'n:12', "x:y:1' OR 1=1", 'n:0', 'n:'])).toEqual({
    ids: [12],
    keys: ['application_submitted:course:3'],
  });
});

test('a member woken from a snooze brings its whole group back on top, as one line', async () => {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.createCourse(instructor);
  await seed(instructor, 6, [course.id], 2); // messages and applications, alternating
  const [oldest] = await ctx.sequelize.query<{ id: string }>(
    "SELECT min(id) AS id FROM notifications WHERE recipient_id = :u AND type = 'application_submitted'",
    { replacements: { u: instructor.id }, type: QueryTypes.SELECT },
  );
  await store.transitions.snooze(instructor.id, Number(oldest.id), new Date(Date.now() + 60_000));
  await ctx.sequelize.query("UPDATE notifications SET snoozed_until = now() - interval '1 second' WHERE id = :id", { replacements: { id: oldest.id } });
  expect(await store.transitions.wake(Number(oldest.id))).toBe(instructor.id);
  const { groups } = await store.groups(instructor.id, { status: 'all', limit: 10 });
  expect(groups.map((g) => [g.group.group_key, g.group.count, g.group.latest.id])).toEqual([
    [`application_submitted:course:${course.id}`, 3, Number(oldest.id)],
    ...[5, 3, 1].map((i) => [expect.stringMatching(/^n:\d+$/), 1, expect.any(Number)]),
  ]);
});

describe('the plan: one statement, every read of notifications an index probe, big groups counted from the index alone', () => {
  test.each(['all', 'unread', 'read'] as const)('status=%s', async (status) => {
    const user = await ctx.createUser('instructor');
    const noise = await ctx.createUser('candidate');
    const courses = [];
    for (let i = 0; i < 4; i++) courses.push((await ctx.createCourse(user)).id);
    // 6,000 rows of the user's, two thirds of them applications to 4 courses, among 12,000 of someone else's.
    await seed(user, 6000, courses, 3);
    await seed(noise, 12000, courses, 1);
    await vacuumedAtRest(ctx.sequelize, 'notifications');

    const { statements, result } = await ctx.countStatements(() => store.groups(user.id, { status, limit: 21 }));
    expect(statements).toHaveLength(1);
    expect(result.groups.length).toBe(21);
    const plan = await planTree(ctx.sequelize, statements[0], { analyze: true });
    const all = nodesOf(plan);
    const reads = all.filter((n) => n['Relation Name'] === 'notifications');
    // Never a sequential or bitmap scan of the table, never a sort of its rows (only the page's few heads merge).
    expect(reads.map((n) => n['Node Type']).filter((t) => !/^Index( Only)? Scan$/.test(t))).toEqual([]);
    const indexes = new Set(reads.map((n) => n['Index Name']));
    expect(indexes).toContain('notifications_group_idx');
    expect(indexes).toContain(status === 'unread' ? 'notifications_single_unread_idx' : 'notifications_single_inbox_idx');
    // The members of the page's groups are counted without visiting the table.
    for (const n of reads.filter((r) => r['Index Name'] === 'notifications_group_idx')) expect(n['Node Type']).toBe('Index Only Scan');
    // The singles walk stops at a page: it reads at most limit rows, however many applications sit between them.
    const singles = walks(plan).find((n) => n['Index Name']?.startsWith('notifications_single_'))!;
    expect(singles['Actual Rows']).toBeLessThanOrEqual(21);
  });
});
