import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { createApiContext, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(() => ctx.close());

interface Group {
  group_key: string;
  count: number;
  unread_count: number;
  actors: string[];
  latest: { id: number; type: string; title: string; course_id: number | null };
}

/**
 * `count` applications to `course`, each from a new candidate named `<prefix> <i>` (oldest first), as the apply
 * statement writes their notices (type, sender, course); the newest `unreadOf` unread, the rest read.
 */
async function applications(course: Course, count: number, prefix: string, unreadOf = count): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: string }>(
    `WITH cand AS (
       INSERT INTO users (email, name, role, password_hash)
       SELECT :prefix || '-' || i || '-' || md5(random()::text) || '@test.example', :prefix || ' ' || i, 'candidate', 'x'
         FROM generate_series(1, :count) AS i
       RETURNING id, name
     )
     INSERT INTO notifications (recipient_id, sender_id, type, title, message, course_id, read_at, search_vector)
     SELECT :instructor, c.id, 'application_submitted', 'New application', c.name || ' applied.', :course,
            CASE WHEN row_number() OVER (ORDER BY c.id) <= :count - :unreadOf THEN now() END,
            to_tsvector('english', c.name || ' applied.')
       FROM cand c ORDER BY c.id
     RETURNING id`,
    { replacements: { prefix, count, unreadOf, instructor: course.instructorId, course: course.id }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** One notification of its own (a message) for `user`. */
async function single(user: User, title: string): Promise<number> {
  const [row] = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, type, title, search_vector) VALUES (:u, 'message', :title, to_tsvector('english', :title))
     RETURNING id`,
    { replacements: { u: user.id, title }, type: QueryTypes.SELECT },
  );
  return Number(row.id);
}

async function instructorWithCourse(title: string): Promise<{ user: User; agent: Agent; course: Course }> {
  const { user, agent } = await ctx.party('instructor');
  return { user, agent, course: await ctx.createCourse(user, { title }) };
}

const grouped = async (agent: Agent, query = '') =>
  (await agent.get(`/api/notifications/?group=true${query}`).expect(200)).body as { results: Group[]; next_cursor: string | null; unread_count: number };

describe('GET /api/notifications/?group=true', () => {
  test('1,000 applications to one course are one line: count, unread count, the three newest applicants, the newest member', async () => {
    const { user, agent, course } = await instructorWithCourse('PostgreSQL in Practice');
    const before = await single(user, 'Before');
    const apps = await applications(course, 1000, 'Applicant', 300);
    const after = await single(user, 'After');

    const page = await grouped(agent);
    expect(page.results.map((g) => g.group_key)).toEqual([`n:${after}`, `application_submitted:course:${course.id}`, `n:${before}`]);
    const [one, group] = page.results;
    expect(one).toMatchObject({ count: 1, unread_count: 1, actors: [], latest: { id: after, title: 'After' } });
    expect(group).toMatchObject({
      count: 1000,
      unread_count: 300,
      actors: ['Applicant 1000', 'Applicant 999', 'Applicant 998'],
      latest: { id: apps[999], type: 'application_submitted', course_id: course.id },
    });
    expect(page).toMatchObject({ next_cursor: null, unread_count: 302 });
    // Without group=true: single notifications, as before.
    const flat = (await agent.get('/api/notifications/?limit=3').expect(200)).body;
    expect(flat.results.map((n: { id: number }) => n.id)).toEqual([after, apps[999], apps[998]]);
  });

  test('applications through the real apply endpoint group by course; the same applicant twice is one actor', async () => {
    const { user: instructor, agent, course } = await instructorWithCourse('Rust for Teams');
    const other = await ctx.createCourse(instructor, { title: 'Go for Teams' });
    const names = ['Camille', 'Dario', 'Ewa'];
    for (const name of names) {
      const { agent: candidate } = await ctx.party('candidate', { name });
      await candidate.post(`/api/courses/${course.id}/applications/`, { motivation: 'hi' }).expect(201);
      if (name === 'Camille') await candidate.post(`/api/courses/${other.id}/applications/`, { motivation: 'hi' }).expect(201);
    }
    const page = await grouped(agent);
    expect(page.results.map((g) => [g.group_key, g.count, g.actors])).toEqual([
      [`application_submitted:course:${course.id}`, 3, ['Ewa', 'Dario', 'Camille']],
      [`application_submitted:course:${other.id}`, 1, ['Camille']],
    ]);
  });

  test('pages of groups: the cursor is the group’s newest member; no group repeats or goes missing', async () => {
    const { user, agent, course } = await instructorWithCourse('Interleaved A');
    const courseB = await ctx.createCourse(user, { title: 'Interleaved B' });
    // A: oldest and newest rows; B and singles in between, so A's older members sit below other groups.
    await applications(course, 5, 'A early');
    const s1 = await single(user, 's1');
    await applications(courseB, 4, 'B');
    const s2 = await single(user, 's2');
    await applications(course, 2, 'A late');
    const s3 = await single(user, 's3');

    const expected = [`n:${s3}`, `application_submitted:course:${course.id}`, `n:${s2}`, `application_submitted:course:${courseB.id}`, `n:${s1}`];
    const seen: Group[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await grouped(agent, `&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results);
      cursor = page.next_cursor;
    }
    expect(seen.map((g) => g.group_key)).toEqual(expected);
    expect(seen[1]).toMatchObject({ count: 7, actors: ['A late 2', 'A late 1', 'A early 5'] });
    expect(seen[3]).toMatchObject({ count: 4 });
  });

  test('status, type, exclude_type and q filter the members; a group with no member left has no line', async () => {
    const { user, agent, course } = await instructorWithCourse('Filters 101');
    await applications(course, 10, 'Filterer', 4);
    const note = await single(user, 'Quarterly report');
    const key = `application_submitted:course:${course.id}`;

    const unread = await grouped(agent, '&status=unread');
    expect(unread.results.map((g) => [g.group_key, g.count, g.unread_count])).toEqual([[`n:${note}`, 1, 1], [key, 4, 4]]);
    expect((await grouped(agent, '&status=read')).results.map((g) => [g.group_key, g.count, g.unread_count])).toEqual([[key, 6, 0]]);
    expect((await grouped(agent, '&type=application_submitted')).results.map((g) => g.group_key)).toEqual([key]);
    expect((await grouped(agent, '&exclude_type=application_submitted')).results.map((g) => g.group_key)).toEqual([`n:${note}`]);
    expect((await grouped(agent, '&q=quarterly')).results.map((g) => g.group_key)).toEqual([`n:${note}`]);
    expect((await grouped(agent, `&q=${encodeURIComponent('quarterly -type:message')}`)).results).toEqual([]);
    const searched = await grouped(agent, '&q=Filterer');
    expect(searched.results.map((g) => [g.group_key, g.count])).toEqual([[key, 10]]);
    expect(searched.unread_count).toBe(5);
    await agent.get('/api/notifications/?group=yes').expect(400);
  });
});

describe('POST /api/notifications/bulk/ with group_keys', () => {
  test('an action on a group key reaches every member in any list; ids and keys together; counted once', async () => {
    const { user, agent, course } = await instructorWithCourse('Bulk by group');
    const apps = await applications(course, 600, 'Bulk', 600);
    const note = await single(user, 'Note');
    const key = `application_submitted:course:${course.id}`;
    // One member is done already: the group's read still reaches it, and counts only what changed.
    await agent.post(`/api/notifications/${apps[0]}/done/`).expect(200);
    const read = await agent.post('/api/notifications/bulk/', { group_keys: [key], ids: [apps[1]], action: 'read' }).expect(200);
    expect(read.body).toEqual({ updated: 599 });
    expect((await grouped(agent)).results.map((g) => [g.group_key, g.unread_count])).toEqual([[`n:${note}`, 1], [key, 0]]);

    const done = await agent.post('/api/notifications/bulk/', { group_keys: [key, `n:${note}`], action: 'done' }).expect(200);
    expect(done.body).toEqual({ updated: 600 });
    expect((await grouped(agent)).results).toEqual([]);
    const inDone = await grouped(agent, '&status=done');
    expect(inDone.results.map((g) => [g.group_key, g.count])).toEqual([[`n:${note}`, 1], [key, 600]]);
    expect((await agent.post('/api/notifications/bulk/', { group_keys: [key], action: 'delete' }).expect(200)).body).toEqual({ updated: 600 });
    expect((await grouped(agent, '&status=done')).results.map((g) => g.group_key)).toEqual([`n:${note}`]);
  });

  test('another user’s group keys touch nothing of theirs and are not counted', async () => {
    const { agent, course: mine } = await instructorWithCourse('Mine');
    const them = await instructorWithCourse('Theirs');
    await applications(mine, 3, 'Mine');
    await applications(them.course, 5, 'Theirs');
    const theirNote = await single(them.user, 'Their note');
    const theirKeys = [`application_submitted:course:${them.course.id}`, `n:${theirNote}`];
    for (const action of ['read', 'done', 'delete']) {
      expect((await agent.post('/api/notifications/bulk/', { group_keys: theirKeys, action }).expect(200)).body).toEqual({ updated: 0 });
    }
    const theirs = await grouped(them.agent);
    expect(theirs.results.map((g) => [g.group_key, g.count, g.unread_count])).toEqual([
      [`n:${theirNote}`, 1, 1],
      [`application_submitted:course:${them.course.id}`, 5, 5],
    ]);
    // An admin's own bulk is as narrow: roles do not widen it.
    const { agent: admin } = await ctx.party('admin');
    expect((await admin.post('/api/notifications/bulk/', { group_keys: theirKeys, action: 'delete' }).expect(200)).body).toEqual({ updated: 0 });
  });

  test('at most 500 keys, each a group key, and at least one id or key: otherwise a 400', async () => {
    const { agent } = await ctx.party('instructor');
    const keys = Array.from({ length: 501 }, (_, i) => `n:${i + 1}`);
    await agent.post('/api/notifications/bulk/', { group_keys: keys, action: 'read' }).expect(400);
    await agent.post('/api/notifications/bulk/', { group_keys: keys.slice(0, 500), action: 'read' }).expect(200);
    await agent.post('/api/notifications/bulk/', { group_keys: [], action: 'read' }).expect(400);
    await agent.post('/api/notifications/bulk/', { action: 'read' }).expect(400);
    for (const bad of ['course:1', "application_submitted:course:1' OR 1=1", 'n:0', 'n:-1', '', 'x'.repeat(65)]) {
      await agent.post('/api/notifications/bulk/', { group_keys: [bad], action: 'read' }).expect(400);
    }
  });
});
