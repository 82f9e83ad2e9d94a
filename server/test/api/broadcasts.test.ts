import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { createApiContext, refuseNotificationsTo, type ApiContext } from '../support/api';
import { type Agent } from '../support/harness';

let ctx: ApiContext;
let teacher: User;
let agent: Agent;
let students: User[];
let course: Course;

beforeAll(async () => {
  ctx = await createApiContext();
  teacher = await ctx.createUser('instructor', { name: 'Tess Teacher' });
  agent = await ctx.loginChecked(teacher);
  students = await Promise.all([1, 2, 3].map(() => ctx.createUser('candidate')));
  course = await ctx.createCourse(teacher, { title: 'Idempotent sends', students });
});
afterAll(() => ctx.close());

const message = (title: string) => ({ notification_type: 'announcement', title, message: 'To everyone' });
const notify = (a: Agent, title: string, key?: string, courseId = course.id) => {
  const t = a.post(`/api/courses/${courseId}/notify-students/`, message(title));
  return key === undefined ? t : t.set('Idempotency-Key', key);
};

/** Rows with this title, per student, and the broadcast rows recorded for it. */
async function sentAs(title: string) {
  const [row] = await ctx.sequelize.query<{ rows: string; students: string; broadcasts: string }>(
    `SELECT (SELECT count(*) FROM notifications WHERE title = :title) AS rows,
            (SELECT count(DISTINCT recipient_id) FROM notifications WHERE title = :title) AS students,
            (SELECT count(*) FROM broadcasts WHERE title = :title) AS broadcasts`,
    { replacements: { title }, type: QueryTypes.SELECT },
  );
  return { rows: Number(row.rows), students: Number(row.students), broadcasts: Number(row.broadcasts) };
}

describe('Idempotency-Key on notify-students', () => {
  test('the same key twice sends once; the second answer replays the first', async () => {
    ctx.published.length = 0;
    const first = await notify(agent, 'Once only', 'key-once').expect(201);
    expect(first.body).toEqual({ recipients: 3, batch_id: expect.any(String), replayed: false });
    const again = await notify(agent, 'Once only', 'key-once').expect(200);
    expect(again.body).toEqual({ recipients: 3, batch_id: first.body.batch_id, replayed: true });
    expect(await sentAs('Once only')).toEqual({ rows: 3, students: 3, broadcasts: 1 });
    // Only the real send is announced: a replay pushes nothing.
    expect(ctx.published).toEqual([expect.objectContaining({ type: 'notification.fanout', batchId: first.body.batch_id, count: 3 })]);
  });

  test('a keyed send is still one INSERT statement that writes the rows and the broadcast together', async () => {
    const { result, statements } = await ctx.countStatements(() => notify(agent, 'Counted', 'key-counted').expect(201));
    // The key's own bookkeeping (issue 10.6: its claim in idempotency_keys) is not part of the send, nor is the
    // request's count against the API rate limit (rate_limits), which every /api request makes.
    const inserts = statements.filter((s) => /INSERT INTO/.test(s) && !/INSERT INTO (idempotency_keys|rate_limits)/.test(s));
    expect(inserts).toHaveLength(1);
    expect(inserts[0]).toMatch(/INSERT INTO notifications[\s\S]*INSERT INTO broadcasts/);
    const [row] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE batch_id = :id', {
      replacements: { id: result.body.batch_id },
      type: QueryTypes.SELECT,
    });
    expect(Number(row.n)).toBe(3);
  });

  test('the same key sent twice at once still sends once', async () => {
    const [a, b] = await Promise.all([notify(agent, 'Raced', 'key-raced'), notify(agent, 'Raced', 'key-raced')]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.batch_id).toBe(b.body.batch_id);
    expect([a.body.recipients, b.body.recipients]).toEqual([3, 3]);
    expect(await sentAs('Raced')).toEqual({ rows: 3, students: 3, broadcasts: 1 });
  });

  test('different keys, or no key, are different sends', async () => {
    await notify(agent, 'Twice on purpose', 'key-a').expect(201);
    await notify(agent, 'Twice on purpose', 'key-b').expect(201);
    await notify(agent, 'Twice on purpose').expect(201);
    await notify(agent, 'Twice on purpose').expect(201);
    expect(await sentAs('Twice on purpose')).toEqual({ rows: 12, students: 3, broadcasts: 4 });
  });

  test('keys belong to their sender: an admin reusing an instructor’s key sends anew', async () => {
    await notify(agent, 'Mine', 'key-shared').expect(201);
    const admin = await ctx.loginChecked(await ctx.createUser('admin'));
    expect((await notify(admin, 'Yours', 'key-shared').expect(201)).body.replayed).toBe(false);
    expect(await sentAs('Yours')).toEqual({ rows: 3, students: 3, broadcasts: 1 });
  });

  test('a malformed key is a 400 and sends nothing', async () => {
    for (const bad of ['', 'x'.repeat(101), 'tab\there', 'café']) {
      const res = await notify(agent, 'Bad key', bad).expect(400);
      expect(res.body.error).toEqual({ code: 'validation_error', message: expect.stringContaining('Idempotency-Key'), details: expect.any(Array) });
    }
    await notify(agent, 'Bad key', 'x'.repeat(100)).expect(201);
    await notify(agent, 'Bad key', ' !~').expect(201);
    expect(await sentAs('Bad key')).toEqual({ rows: 6, students: 3, broadcasts: 2 });
  });

  test('another instructor gets 404 (not their course), a candidate 403 (not their role), with or without a key', async () => {
    const stranger = await ctx.loginChecked(await ctx.createUser('instructor'));
    const candidate = await ctx.loginChecked(students[0]);
    await notify(stranger, 'Not yours', 'key-stranger').expect(404);
    await notify(candidate, 'Not yours', 'key-candidate').expect(403);
    await stranger.get(`/api/courses/${course.id}/broadcasts`).expect(404);
    await candidate.get(`/api/courses/${course.id}/broadcasts`).expect(403);
    await agent.get('/api/courses/2147483647/broadcasts').expect(404);
    expect(await sentAs('Not yours')).toEqual({ rows: 0, students: 0, broadcasts: 0 });
  });

  test('a fan-out that fails writes neither rows nor a broadcast, and its key stays free for the retry', async () => {
    const victim = students[1];
    const restore = await refuseNotificationsTo(ctx, victim.id);
    ctx.published.length = 0;
    try {
      const res = await agent.http
        .post(`/api/courses/${course.id}/notify-students`)
        .set('X-CSRF-Token', agent.csrf)
        .set('Idempotency-Key', 'key-doomed')
        .send(message('Doomed'));
      expect(res.status).toBe(500);
    } finally {
      await restore();
    }
    expect(await sentAs('Doomed')).toEqual({ rows: 0, students: 0, broadcasts: 0 });
    expect(ctx.published).toEqual([]);
    expect((await notify(agent, 'Doomed', 'key-doomed').expect(201)).body).toMatchObject({ recipients: 3, replayed: false });
    expect(await sentAs('Doomed')).toEqual({ rows: 3, students: 3, broadcasts: 1 });
  });
});

describe('GET /api/courses/:id/broadcasts', () => {
  test('lists the course’s latest 20 sends, newest first, with counts and senders', async () => {
    const other = await ctx.createCourse(teacher, { title: 'History', students: students.slice(0, 2) });
    const empty = await agent.get(`/api/courses/${other.id}/broadcasts/`).expect(200);
    expect(empty.body).toEqual({ results: [] });

    for (let i = 1; i <= 21; i += 1) await notify(agent, `Week ${i}`, undefined, other.id).expect(201);
    // An admin's send to the course is listed too, with its sender.
    const admin = await ctx.createUser('admin', { name: 'Ada Admin' });
    await (await ctx.loginChecked(admin)).post(`/api/courses/${other.id}/notify-students`, message('From the admin')).expect(201);

    const list = await agent.get(`/api/courses/${other.id}/broadcasts`).expect(200);
    const results = list.body.results as Array<{ title: string; recipients: number; created_at: string; sender: unknown }>;
    expect(results).toHaveLength(20);
    expect(results.map((b) => b.title)).toEqual(['From the admin', ...Array.from({ length: 19 }, (_, i) => `Week ${21 - i}`)]);
    expect(results[0]).toEqual({
      id: expect.any(String),
      type: 'announcement',
      title: 'From the admin',
      recipients: 2,
      // An inline send is finished by its one statement, its whole audience written.
      status: 'finished',
      total: 2,
      created_at: expect.any(String),
      sender: { id: admin.id, name: 'Ada Admin' },
    });
    expect(results[1].sender).toEqual({ id: teacher.id, name: 'Tess Teacher' });
    expect(results.every((b) => b.recipients === 2)).toBe(true);
    const times = results.map((b) => Date.parse(b.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // The admin can read the course's history too; nothing from other courses shows up in it.
    const asAdmin = await ctx.loginChecked(admin);
    expect((await asAdmin.get(`/api/courses/${other.id}/broadcasts`).expect(200)).body.results).toHaveLength(20);
    expect((await agent.get(`/api/courses/${course.id}/broadcasts`).expect(200)).body.results.map((b: { title: string }) => b.title)).not.toContain('Week 1');
  });

  test('an empty course’s send is recorded with 0 recipients; a deleted sender shows as null', async () => {
    const gone = await ctx.createUser('instructor');
    const c = await ctx.models.Course.create({ title: 'Nobody here', instructorId: teacher.id });
    await ctx.services.notifications.fanOut(
      { kind: 'course', courseId: c.id },
      { type: 'message', title: 'By someone who left', message: '', senderId: gone.id, courseId: c.id },
    );
    await gone.destroy();
    expect((await agent.get(`/api/courses/${c.id}/broadcasts`).expect(200)).body.results).toEqual([
      expect.objectContaining({ title: 'By someone who left', recipients: 0, sender: null }),
    ]);
  });
});
