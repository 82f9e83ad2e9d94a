/**
 * Content stored once (issue 17): a fan-out's title, message, data and search vector live on its broadcast row;
 * each recipient's row holds only what is theirs, and every read (the store's one shape) answers as before.
 */
import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../../models';
import { NotificationStore } from '../../../services/notifications/store';
import { createTestContext, type TestContext } from '../../support/harness';

let ctx: TestContext;
let store: NotificationStore;
let teacher: User;

beforeAll(async () => {
  ctx = await createTestContext();
  store = new NotificationStore(ctx.sequelize);
  teacher = await ctx.createUser('instructor', { name: 'Camille Martin' });
});
afterAll(() => ctx.close());

async function announce(students: User[], title = 'Room change', courseTitle = 'PostgreSQL in Practice') {
  const course: Course = await ctx.createCourse(teacher, { title: courseTitle, students });
  const { batchId } = await ctx.services.notifications.fanOut(
    { kind: 'course', courseId: course.id },
    { type: 'announcement', title, message: 'We meet in the library on Friday.', data: { room: 'B12' }, senderId: teacher.id, courseId: course.id },
  );
  return { course, batchId };
}

const rowsOf = (batchId: string) =>
  ctx.sequelize.query<{ id: string; recipient_id: number; title: string | null; message: string | null; data: unknown; search_vector: string | null }>(
    'SELECT id, recipient_id, title, message, data, search_vector FROM notifications WHERE batch_id = :batchId ORDER BY id',
    { replacements: { batchId }, type: QueryTypes.SELECT },
  );

const newest = async (user: User) => (await store.own(user.id, { status: 'all', limit: 1 }))[0]?.n;

test('a fan-out writes its content once, on its broadcast; its rows carry no copy and read it as before', async () => {
  const students = [await ctx.createUser('candidate'), await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const { course, batchId } = await announce(students);

  const broadcasts = await ctx.sequelize.query<{ title: string; message: string; data: unknown; has_vector: boolean }>(
    'SELECT title, message, data, search_vector IS NOT NULL AS has_vector FROM broadcasts WHERE id = :batchId',
    { replacements: { batchId }, type: QueryTypes.SELECT },
  );
  expect(broadcasts).toEqual([{ title: 'Room change', message: 'We meet in the library on Friday.', data: { room: 'B12' }, has_vector: true }]);
  const rows = await rowsOf(batchId);
  expect(rows).toHaveLength(3);
  for (const r of rows) expect([r.title, r.message, r.data, r.search_vector]).toEqual([null, null, null, null]);

  for (const s of students) {
    expect(await newest(s)).toMatchObject({
      title: 'Room change',
      message: 'We meet in the library on Friday.',
      data: { room: 'B12' },
      course_id: course.id,
      course_title: 'PostgreSQL in Practice',
      sender: { id: teacher.id, name: 'Camille Martin' },
    });
  }
  // The realtime frames' content (read once per batch) and the moderation shape read it too.
  expect(await store.batchContent(batchId)).toMatchObject({ title: 'Room change', data: { room: 'B12' }, is_read: false });
  expect(await store.withRecipient(Number(rows[0].id))).toMatchObject({ title: 'Room change', recipient: { id: rows[0].recipient_id } });
});

test('deleting one recipient’s notification leaves the others’ content, and the shared row', async () => {
  const [a, b] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const { batchId } = await announce([a, b], 'Exam moved');
  const mine = (await rowsOf(batchId)).find((r) => r.recipient_id === a.id)!;
  expect(await store.removeMany([Number(mine.id)])).toHaveLength(1);

  expect(await newest(a)).toBeUndefined();
  expect(await newest(b)).toMatchObject({ title: 'Exam moved', message: 'We meet in the library on Friday.' });
  const [{ n }] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM broadcasts WHERE id = :batchId', {
    replacements: { batchId },
    type: QueryTypes.SELECT,
  });
  expect(Number(n)).toBe(1);
});

test('deleting the course keeps the content its students read; a broadcast still referenced cannot be deleted', async () => {
  const s = await ctx.createUser('candidate');
  const { course, batchId } = await announce([s], 'Course closing');
  await ctx.sequelize.query('DELETE FROM courses WHERE id = :id', { replacements: { id: course.id } });

  expect(await newest(s)).toMatchObject({ title: 'Course closing', message: 'We meet in the library on Friday.', course_id: null });
  await expect(
    ctx.sequelize.query('DELETE FROM broadcasts WHERE id = :batchId', { replacements: { batchId } }),
  ).rejects.toThrow(/still holds the content/);

  // Once its rows are gone, nothing reads it: it may go.
  await ctx.sequelize.query('DELETE FROM notifications WHERE batch_id = :batchId', { replacements: { batchId } });
  await ctx.sequelize.query('DELETE FROM broadcasts WHERE id = :batchId', { replacements: { batchId } });
});

test('a row has its own title or a broadcast to read it from', async () => {
  const s = await ctx.createUser('candidate');
  await expect(
    ctx.sequelize.query("INSERT INTO notifications (recipient_id, type, title) VALUES (:u, 'message', NULL)", { replacements: { u: s.id } }),
  ).rejects.toThrow(/notifications_content_check/);
});

test('search finds a fan-out by a word of its message and by its course, in the head and past it (the tail)', async () => {
  const s = await ctx.createUser('candidate');
  // An older single that matches too: the tail's other source (the per-user index over rows' own vectors).
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, message, search_vector)
     VALUES (:u, 'message', 'Library card', 'Bring it', to_tsvector('english', 'Library card Bring it'))`,
    { replacements: { u: s.id } },
  );
  const { batchId } = await announce([s], 'Lab safety', 'Organic Chemistry');
  const titles = async (q: string) => (await store.own(s.id, { status: 'all', q, limit: 10 })).map((r) => r.n.title);

  // In the head (the newest 1,000 rows): the fan-out's message, its course, its sender.
  expect(await titles('library')).toEqual(['Lab safety', 'Library card']);
  expect(await titles('chemistry')).toEqual(['Lab safety']);
  expect(await titles('camille')).toEqual(['Lab safety']);

  // 1,000 newer rows push both out of the head: the tail finds them, the fan-out through its broadcast.
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, search_vector)
     SELECT :u, 'message', 'Filler ' || i, to_tsvector('english', 'Filler') FROM generate_series(1, 1000) AS i`,
    { replacements: { u: s.id } },
  );
  expect(await titles('library')).toEqual(['Lab safety', 'Library card']);
  expect(await titles('chemistry')).toEqual(['Lab safety']);
  expect(await titles('filler library')).toEqual([]);
  // The grouped list filters by the same condition.
  const { groups } = await store.groups(s.id, { status: 'all', q: 'chemistry', limit: 10 });
  expect(groups.map((g) => g.group.latest.title)).toEqual(['Lab safety']);
  // And the moderation search, over every user.
  const page = await store.search({ q: 'chemistry', recipient: s.id }, { page: 1, pageSize: 10 });
  expect(page.results.map((r) => [r.title, r.recipient.id])).toEqual([['Lab safety', s.id]]);
  expect((await rowsOf(batchId))[0].search_vector).toBeNull();
});
