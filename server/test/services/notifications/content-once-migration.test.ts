/**
 * The content-stored-once migration on a database with sends in it: down puts the copies back into the rows
 * (the old layout, which the old code reads), up moves them to the broadcast again; the notifications read the
 * same through both, and no row's read state moves.
 */
import { QueryTypes } from 'sequelize';
import { createMigrator } from '../../../db/migrate';
import type { User } from '../../../models';
import { NotificationStore } from '../../../services/notifications/store';
import { createTestContext, type TestContext } from '../../support/harness';

const MIGRATION = '20261129002900-content-stored-once.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const rows = (batchId: string) =>
  ctx.sequelize.query<{ title: string | null; message: string | null; data: unknown; matches: boolean | null; read: boolean }>(
    `SELECT title, message, data, search_vector @@ websearch_to_tsquery('english', 'library') AS matches, read_at IS NOT NULL AS read
       FROM notifications WHERE batch_id = :batchId ORDER BY recipient_id`,
    { replacements: { batchId }, type: QueryTypes.SELECT },
  );

test('down restores each row’s copy of the content, up stores it once again; reads and states unchanged', async () => {
  const teacher = await ctx.createUser('instructor');
  const students: User[] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const course = await ctx.createCourse(teacher, { title: 'Chemistry', students });
  const { batchId } = await ctx.services.notifications.fanOut(
    { kind: 'course', courseId: course.id },
    { type: 'announcement', title: 'Room change', message: 'Meet in the library', data: { room: 'B12' }, senderId: teacher.id, courseId: course.id },
  );
  const single = await ctx.sequelize.transaction((t) =>
    ctx.services.notifications.create({ recipientId: students[0].id, type: 'message', title: 'Just you', message: 'Hello' }, t),
  );
  await ctx.services.notifications.inbox.markAllRead(students[1].id);
  const store = new NotificationStore(ctx.sequelize);
  const read = async () => Promise.all(students.map((s) => store.own(s.id, { status: 'all', limit: 5 })));
  const before = await read();
  expect(before[0].map((r) => r.n.title)).toEqual(['Just you', 'Room change']);

  const migrator = createMigrator(ctx.sequelize);
  await migrator.down({ to: MIGRATION });
  expect(await rows(batchId)).toEqual([
    { title: 'Room change', message: 'Meet in the library', data: { room: 'B12' }, matches: true, read: false },
    { title: 'Room change', message: 'Meet in the library', data: { room: 'B12' }, matches: true, read: true },
  ]);

  await migrator.up();
  expect(await rows(batchId)).toEqual([
    { title: null, message: null, data: null, matches: null, read: false },
    { title: null, message: null, data: null, matches: null, read: true },
  ]);
  const [b] = await ctx.sequelize.query<{ message: string; data: unknown; matches: boolean }>(
    `SELECT message, data, search_vector @@ websearch_to_tsquery('english', 'chemistry') AS matches FROM broadcasts WHERE id = :batchId`,
    { replacements: { batchId }, type: QueryTypes.SELECT },
  );
  expect(b).toEqual({ message: 'Meet in the library', data: { room: 'B12' }, matches: true });
  expect(await read()).toEqual(before);
  expect((await store.own(students[0].id, { status: 'all', q: 'library', limit: 5 })).map((r) => r.n.title)).toEqual(['Room change']);
  expect(single).toBeGreaterThan(0);
});
