/**
 * A fan-out reads its recipients' rows in doubling slices of the connected users (server/realtime/pushes.ts), the
 * next slice asked for before this one's frames are written. Here the first slice is 2 connected users, so ten
 * connected users (nine students and one outside the course) take three reads (2, 4, 4): each student still gets
 * exactly its own row once, with its own count, and the outsider gets nothing.
 */
import type { User } from '../../models';
import { doublingSlices } from '../../realtime/pushes';
import { Client, createServerContext, login, sleep, type ServerContext } from '../support/realtime';

let ctx: ServerContext;

beforeAll(async () => {
  ctx = await createServerContext({ fanoutFirstSlice: 2 });
});
afterAll(() => ctx.close());

async function connected(u: User): Promise<Client> {
  const c = ctx.srv.connect('/ws/notifications', { cookie: (await login(ctx.srv.url, u)).cookie });
  await c.type('connection_established');
  return c;
}

test('slices double from the first and the last holds what remains', () => {
  expect(doublingSlices([1, 2, 3, 4, 5, 6, 7, 8, 9], 2)).toEqual([[1, 2], [3, 4, 5, 6], [7, 8, 9]]);
  expect(doublingSlices([1, 2, 3], 250)).toEqual([[1, 2, 3]]);
  expect(doublingSlices([], 250)).toEqual([]);
});

test('ten connected users in three reads: one frame each, their own row and count; an outsider gets none', async () => {
  const instructor = await ctx.createUser('instructor');
  const students: User[] = [];
  for (let i = 0; i < 9; i++) students.push(await ctx.createUser('candidate'));
  const course = await ctx.createCourse(instructor, { students });
  // Some students already have unread notifications, so a count taken from the wrong slice would show.
  for (const [i, s] of students.entries()) for (let k = 0; k < i % 3; k++) await ctx.message(s, `earlier ${k}`);
  const outsider = await ctx.createUser('candidate');
  const conns = await Promise.all(students.map(connected));
  const other = await connected(outsider);
  await ctx.srv.realtime.delivery.idle();

  const { result, statements } = await ctx.countStatements(async () => {
    const r = await ctx.services.notifications.fanOut(
      { kind: 'course', courseId: course.id },
      { type: 'announcement', title: 'Sliced', message: 'in three reads', senderId: instructor.id, courseId: course.id },
    );
    await Promise.all(conns.map((c) => c.type('notification')));
    await ctx.srv.realtime.delivery.idle();
    return r;
  });
  expect(result.recipients).toBe(9);
  const rows = await ctx.models.Notification.findAll({ where: { batchId: result.batchId } });
  for (const [i, c] of conns.entries()) {
    const frames = c.frames.filter((f) => f.json?.type === 'notification');
    expect(frames).toHaveLength(1);
    const n = frames[0].json!.notification as { id: number; title: string };
    expect(n.title).toBe('Sliced');
    expect(rows.find((r) => Number(r.id) === n.id)?.recipientId).toBe(students[i].id);
    expect(await c.type('unread_count')).toEqual({ type: 'unread_count', unread_count: 1 + (i % 3) });
  }
  // The INSERT ... SELECT, the shared content, and three reads of rows (the session re-check and presence
  // upsert may run meanwhile; they are not the fan-out's).
  const reads = statements.filter((sql) => !/FROM session WHERE sid IN|realtime_presence/.test(sql));
  expect(reads.filter((sql) => /AS unread\b/.test(sql))).toHaveLength(3);
  expect(reads).toHaveLength(5);
  await sleep(100);
  expect(other.frames.filter((f) => f.json?.type === 'notification')).toHaveLength(0);
});
