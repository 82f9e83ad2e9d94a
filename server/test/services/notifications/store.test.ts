import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { User } from '../../../models';
import { NotificationStore, TITLE_MAX, type Audience } from '../../../services/notifications/store';
import { decodeCursor, encodeCursor, keysetPage } from '../../../services/paging';
import { createTestContext, type TestContext } from '../../support/harness';

let ctx: TestContext;
let store: NotificationStore;
let instructor: User;

beforeAll(async () => {
  ctx = await createTestContext();
  store = new NotificationStore(ctx.sequelize);
  instructor = await ctx.createUser('instructor');
});
afterAll(() => ctx.close());

const codePoints = (s: string) => Array.from(s).length;

async function titleOf(id: number): Promise<string> {
  const [row] = await ctx.sequelize.query<{ title: string }>('SELECT title FROM notifications WHERE id = :id', {
    replacements: { id },
    type: QueryTypes.SELECT,
  });
  return row.title;
}

describe('the title rule (one rule, in SQL, for every writer)', () => {
  const exact = 'x'.repeat(TITLE_MAX);
  const over = `${'y'.repeat(TITLE_MAX - 2)}🎓🎓🎓`; // 201 code points, 204 UTF-16 units

  test('a single insert keeps a title that fits and clips one that does not, never splitting a code point', async () => {
    const user = await ctx.createUser('candidate');
    const [kept, clipped] = await ctx.sequelize.transaction(async (t) => [
      await store.insert({ recipientId: user.id, type: 'message', title: exact }, t),
      await store.insert({ recipientId: user.id, type: 'message', title: over }, t),
    ]);
    expect(await titleOf(kept)).toBe(exact);
    const title = await titleOf(clipped);
    expect(codePoints(title)).toBe(TITLE_MAX);
    expect(title).toBe(`${'y'.repeat(TITLE_MAX - 2)}🎓…`);
  });

  test('a fan-out clips the title its broadcast holds, which its rows read', async () => {
    const user = await ctx.createUser('candidate');
    const batchId = randomUUID();
    const sent = await store.insertForAudience(
      { kind: 'user', userId: user.id },
      { type: 'message', title: over, message: '', senderId: instructor.id },
      { batchId, idempotencyKey: null },
    );
    expect(sent).toEqual({ recipients: 1, batchId, replayed: false });
    // Content stored once (issue 17): the row has no copy, the store reads the broadcast's.
    const [row] = await ctx.sequelize.query<{ n: string | null; b: string }>(
      `SELECT (SELECT title FROM notifications WHERE batch_id = :batchId) AS n, (SELECT title FROM broadcasts WHERE id = :batchId) AS b`,
      { replacements: { batchId }, type: QueryTypes.SELECT },
    );
    expect(row.b).toBe(`${'y'.repeat(TITLE_MAX - 2)}🎓…`);
    expect(row.n).toBeNull();
    const [{ n: read }] = await store.own(user.id, { status: 'all', limit: 1 });
    expect(read.title).toBe(row.b);
  });

  test('a notice built inside a domain statement (apply) quoting a 200-character course title is clipped', async () => {
    const course = await ctx.models.Course.create({ title: 'c'.repeat(TITLE_MAX), instructorId: instructor.id });
    const candidate = await ctx.createUser('candidate');
    const app = await ctx.services.applications.apply(candidate, course.id, 'long titles');
    const [row] = await ctx.sequelize.query<{ title: string }>(
      'SELECT title FROM notifications WHERE application_id = :id',
      { replacements: { id: app.id }, type: QueryTypes.SELECT },
    );
    expect(codePoints(row.title)).toBe(TITLE_MAX);
    expect(row.title).toMatch(/^New application to c+…$/);
  });
});

test('an audience insert is one INSERT ... SELECT statement for every kind of audience', async () => {
  const course = await ctx.models.Course.create({ title: 'Audience', instructorId: instructor.id });
  const student = await ctx.createUser('candidate');
  await ctx.models.Enrollment.create({ courseId: course.id, studentId: student.id });
  const audiences: Audience[] = [
    { kind: 'user', userId: student.id },
    { kind: 'course', courseId: course.id },
    { kind: 'role', role: 'instructor' },
    { kind: 'all' },
  ];
  for (const audience of audiences) {
    const { statements, result } = await ctx.countStatements(() =>
      store.insertForAudience(
        audience,
        { type: 'announcement', title: `to ${audience.kind}`, message: '', senderId: instructor.id },
        { batchId: randomUUID(), idempotencyKey: null },
      ),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/INSERT INTO notifications[^]*SELECT/);
    expect(result.recipients).toBeGreaterThan(0);
  }
});

test('every read answers the same shape for the same row', async () => {
  const user = await ctx.createUser('candidate');
  const id = await ctx.sequelize.transaction((t) =>
    store.insert({ recipientId: user.id, senderId: instructor.id, type: 'message', title: 'same', data: { k: 1 } }, t),
  );
  const [{ n: own }] = await store.own(user.id, { status: 'all', limit: 1 });
  const [byId] = await store.byIds([id]);
  const [unread] = (await store.unreadFor([user.id], 1)).get(user.id)!;
  const [replayed] = await store.since(user.id, id - 1, 1);
  const { recipient, ...moderated } = (await store.withRecipient(id))!;
  expect(own).toMatchObject({ id, title: 'same', data: { k: 1 }, sender: { id: instructor.id } });
  // The realtime layer's reads also say whether the row is silent (written read: in_app off) and its position
  // (sort key: the id of a row that never woke).
  expect(byId).toEqual({ ...own, recipient_id: user.id, silent: false, position: id });
  expect(unread).toEqual(own);
  expect(replayed).toEqual({ n: own, position: id });
  expect(moderated).toEqual(own);
  expect(recipient).toEqual({ id: user.id, name: user.name, email: user.email, role: 'candidate' });
});

test('keyset paging: the cursor round-trips, garbage is a 400, and the extra row only says there is more', () => {
  expect(decodeCursor(encodeCursor(42))).toBe(42);
  expect(() => decodeCursor('not-a-cursor')).toThrow(expect.objectContaining({ status: 400 }));
  const rows = [{ id: 9 }, { id: 8 }, { id: 7 }];
  expect(keysetPage(rows, 2, (r) => r.id)).toEqual({ results: [{ id: 9 }, { id: 8 }], nextCursor: encodeCursor(8) });
  expect(keysetPage(rows, 3, (r) => r.id)).toEqual({ results: rows, nextCursor: null });
});
