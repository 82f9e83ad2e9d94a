import { QueryTypes } from 'sequelize';
import type { Role, User } from '../../../models';
import { createApiContext, type ApiContext } from '../../support/api';
import { type Agent } from '../../support/harness';
import { withContent } from '../../support/content';

let ctx: ApiContext;
let admin: User;
let agent: Agent;
let courseId: number;
let student: User;
let inactiveStudent: User;

async function scalar(sql: string, replacements: Record<string, unknown> = {}): Promise<number> {
  const [row] = await ctx.sequelize.query<{ n: string }>(sql, { replacements, type: QueryTypes.SELECT });
  return Number(row.n);
}
const activeUsers = (role?: Role) =>
  scalar(`SELECT count(*) AS n FROM users WHERE is_active ${role ? 'AND role = :role' : ''}`, { role });

const send = (audience: object, title = 'Hello') =>
  agent.post('/api/admin/notifications/send', { audience, notification_type: 'announcement', title, message: 'Body' });
const count = (audience: object) => agent.post('/api/admin/audience/count', { audience });

beforeAll(async () => {
  ctx = await createApiContext();
  admin = await ctx.createUser('admin');
  agent = await ctx.loginChecked(admin);
  const instructor = await ctx.createUser('instructor');
  courseId = (await ctx.models.Course.create({ title: 'Chemistry', instructorId: instructor.id })).id;
  student = await ctx.createUser('candidate');
  const other = await ctx.createUser('candidate');
  inactiveStudent = await ctx.createUser('candidate', { isActive: false });
  await ctx.createUser('candidate'); // not enrolled
  await ctx.models.Enrollment.bulkCreate([student, other, inactiveStudent].map((s) => ({ courseId, studentId: s.id })));
});
afterAll(() => ctx.close());

describe('each audience kind: the count matches what send delivers', () => {
  test('course: its active enrolled students; the rows link the course and name the admin as sender', async () => {
    expect((await count({ kind: 'course', course_id: courseId }).expect(200)).body).toEqual({ count: 2 });
    ctx.published.length = 0;
    const res = await send({ kind: 'course', course_id: courseId }, 'Lab moved').expect(200);
    expect(res.body).toEqual({ recipients: 2 });
    expect(ctx.published).toEqual([
      expect.objectContaining({ type: 'notification.fanout', count: 2, courseId, notificationType: 'announcement' }),
    ]);

    const bell = await (await ctx.login(student)).get('/api/notifications/').expect(200);
    expect(bell.body.results[0]).toMatchObject({
      type: 'announcement',
      title: 'Lab moved',
      message: 'Body',
      course_id: courseId,
      course_title: 'Chemistry',
      sender: { id: admin.id },
      is_read: false,
    });
    expect(await scalar(`SELECT count(*) AS n FROM ${withContent()} WHERE title = 'Lab moved' AND recipient_id = :id`, { id: inactiveStudent.id })).toBe(0);
  });

  test('user: exactly that user; an inactive user receives nothing', async () => {
    expect((await count({ kind: 'user', user_id: student.id }).expect(200)).body).toEqual({ count: 1 });
    expect((await send({ kind: 'user', user_id: student.id }, 'Just you').expect(200)).body).toEqual({ recipients: 1 });
    expect(await scalar(`SELECT count(*) AS n FROM ${withContent()} WHERE title = 'Just you'`)).toBe(1);
    expect((await count({ kind: 'user', user_id: inactiveStudent.id }).expect(200)).body).toEqual({ count: 0 });
    expect((await send({ kind: 'user', user_id: inactiveStudent.id }).expect(200)).body).toEqual({ recipients: 0 });
  });

  test.each(['candidate', 'instructor', 'admin'] as const)('role %s: its active users', async (role) => {
    const expected = await activeUsers(role);
    expect((await count({ kind: 'role', role }).expect(200)).body).toEqual({ count: expected });
    const title = `To every ${role}`;
    expect((await send({ kind: 'role', role }, title).expect(200)).body).toEqual({ recipients: expected });
    expect(
      await scalar(
        `SELECT count(*) AS n FROM ${withContent('n')} JOIN users u ON u.id = n.recipient_id WHERE n.title = :title AND u.role = :role`,
        { title, role },
      ),
    ).toBe(expected);
  });

  test('all: every active user, the sending admin included', async () => {
    const expected = await activeUsers();
    expect((await count({ kind: 'all' }).expect(200)).body).toEqual({ count: expected });
    expect((await send({ kind: 'all' }, 'Everyone').expect(200)).body).toEqual({ recipients: expected });
    expect(await scalar(`SELECT count(*) AS n FROM ${withContent()} WHERE title = 'Everyone' AND recipient_id = :id`, { id: admin.id })).toBe(1);
  });

  test('a missing course or user is a 404 for count and send alike, and nothing is written', async () => {
    const before = await scalar('SELECT count(*) AS n FROM notifications');
    for (const audience of [{ kind: 'course', course_id: 999999 }, { kind: 'user', user_id: 999999 }]) {
      expect((await count(audience).expect(404)).body.error.code).toBe('not_found');
      expect((await send(audience).expect(404)).body.error.code).toBe('not_found');
    }
    expect(await scalar('SELECT count(*) AS n FROM notifications')).toBe(before);
  });

  test('data is stored as given; blank message defaults to empty', async () => {
    await agent
      .post('/api/admin/notifications/send', {
        audience: { kind: 'user', user_id: student.id },
        notification_type: 'exam_result',
        title: '  Graded  ',
        data: { score: 91 },
      })
      .expect(200);
    const [row] = await ctx.sequelize.query<{ title: string; message: string; data: object; sender_id: number }>(
      `SELECT title, message, data, sender_id FROM ${withContent()} WHERE type = 'exam_result'`,
      { type: QueryTypes.SELECT },
    );
    expect(row).toEqual({ title: 'Graded', message: '', data: { score: 91 }, sender_id: admin.id });
  });
});

describe('a large audience', () => {
  let bigCourseId: number;

  beforeAll(async () => {
    // 2,000 users and their enrollments in two statements: the point is the fan-out, not the fixture.
    await ctx.sequelize.query(
      `INSERT INTO users (email, name, role, password_hash)
       SELECT 'bulk' || g || '@load.example', 'Bulk ' || g, 'candidate', 'not-a-hash' FROM generate_series(1, 2000) g`,
    );
    bigCourseId = (await ctx.models.Course.create({ title: 'Big', instructorId: admin.id })).id;
    await ctx.sequelize.query(
      `INSERT INTO enrollments (course_id, student_id) SELECT :courseId, id FROM users WHERE email LIKE '%@load.example'`,
      { replacements: { courseId: bigCourseId } },
    );
  });

  test('sending takes the same few statements for 2,000 recipients as for one, with one INSERT', async () => {
    const small = await ctx.countStatements(() =>
      ctx.services.compose.send(admin, { kind: 'user', userId: student.id }, { type: 'message', title: 'small', message: '' }),
    );
    const big = await ctx.countStatements(() =>
      ctx.services.compose.send(admin, { kind: 'course', courseId: bigCourseId }, { type: 'message', title: 'big', message: '' }),
    );
    expect(small.result.recipients).toBe(1);
    expect(big.result.recipients).toBe(2000);
    expect(big.statements).toHaveLength(small.statements.length);
    expect(big.statements.length).toBeLessThanOrEqual(2);
    expect(big.statements.filter((s) => /INSERT/i.test(s))).toHaveLength(1);
    expect(await scalar(`SELECT count(*) AS n FROM ${withContent()} WHERE title = 'big'`)).toBe(2000);
  });

  test('every kind of large audience is counted and sent in constant statements', async () => {
    const candidates = await activeUsers('candidate');
    expect(candidates).toBeGreaterThan(2000);
    const counted = await ctx.countStatements(() => ctx.services.compose.audienceCount({ kind: 'role', role: 'candidate' }));
    expect(counted.result).toBe(candidates);
    expect(counted.statements).toHaveLength(1);

    const sent = await ctx.countStatements(async () => (await send({ kind: 'all' }, 'Everyone, again').expect(200)).body);
    expect(sent.result).toEqual({ recipients: await activeUsers() });
    // The session's user lookup plus the fan-out: nothing per recipient.
    expect(sent.statements.length).toBeLessThanOrEqual(3);
  });
});
