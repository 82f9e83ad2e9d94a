/** Search and type filters of a user's notifications (issue 14): full text with an index, `type=a,b`, exclusions. */
import { QueryTypes } from 'sequelize';
import type { NotificationType, User } from '../../models';
import { createApiContext, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';
import { planNodes, vacuumedAtRest } from '../support/plans';
import { withContent } from '../support/content';

let ctx: ApiContext;
let student: User;
let agent: Agent;
let other: User;

beforeAll(async () => {
  ctx = await createApiContext();
  const camille = await ctx.createUser('instructor', { name: 'Camille Martin' });
  student = await ctx.createUser('candidate', { name: 'Stu Dent' });
  other = await ctx.createUser('candidate');
  const course = await ctx.createCourse(camille, { title: 'PostgreSQL in Practice', students: [student, other] });
  await ctx.services.notifications.fanOut(
    { kind: 'course', courseId: course.id },
    { type: 'announcement', title: 'Room change', message: 'We meet in the library on Friday.', senderId: camille.id, courseId: course.id },
  );
  const note = (type: NotificationType, title: string, message = '', to = student) =>
    ctx.notify({ recipientId: to.id, type, title, message });
  await note('message', 'Your applications were reviewed', 'Two approved <script>alert(1)</script>');
  await note('message', 'Lunch menu', 'Pasta');
  await note('application_approved', 'Application approved', 'Welcome');
  await note('message', 'Library hours', 'Closed on Sunday', other);
  agent = await ctx.loginChecked(student);
});
afterAll(() => ctx.close());

const titles = async (query: string) =>
  (await agent.get(`/api/notifications/?${query}`).expect(200)).body.results.map((n: { title: string }) => n.title);

test('full text over title, message, sender and course, with stemming; only the user’s own rows', async () => {
  expect(await titles('q=lunch')).toEqual(['Lunch menu']);
  expect(await titles('q=library')).toEqual(['Room change']); // the message; the other user's "Library hours" is not listed
  expect(await titles('q=camille')).toEqual(['Room change']); // the sender
  expect(await titles('q=postgresql')).toEqual(['Room change']); // the course
  expect(await titles('q=application')).toEqual(['Application approved', 'Your applications were reviewed']);
  expect(await titles(`q=${encodeURIComponent('"room change"')}`)).toEqual(['Room change']);
  expect(await titles('q=nothing-like-this')).toEqual([]);
});

test('course=, and from= / to= as instants or whole UTC days; grouped lists take the same filters; bad values are 400s', async () => {
  const [room] = await ctx.sequelize.query<{ course_id: number }>(
    `SELECT course_id FROM ${withContent()} WHERE recipient_id = :u AND title = 'Room change'`,
    { replacements: { u: student.id }, type: QueryTypes.SELECT },
  );
  expect(await titles(`course=${room.course_id}`)).toEqual(['Room change']);
  expect(await titles('course=2147483647')).toEqual([]);
  // Dates: move two rows into the past, then ask for a day, a range of instants and an open end.
  await ctx.sequelize.query(
    `UPDATE notifications SET created_at = CASE title WHEN 'Lunch menu' THEN TIMESTAMPTZ '2026-03-10 23:30:00+00'
                                                     ELSE TIMESTAMPTZ '2026-03-11 00:30:00+00' END
      WHERE recipient_id = :u AND title IN ('Lunch menu', 'Application approved')`,
    { replacements: { u: student.id } },
  );
  expect(await titles('from=2026-03-10&to=2026-03-10')).toEqual(['Lunch menu']);
  expect(await titles('from=2026-03-11&to=2026-03-11')).toEqual(['Application approved']);
  expect(await titles(`from=${encodeURIComponent('2026-03-10T23:00:00+00:00')}&to=${encodeURIComponent('2026-03-11T00:30:00Z')}`)).toEqual([
    'Application approved',
    'Lunch menu',
  ]);
  expect(await titles('to=2026-03-10')).toEqual(['Lunch menu']);
  expect((await titles('from=2026-03-12')).sort()).toEqual(['Room change', 'Your applications were reviewed']);
  const grouped = (await agent.get('/api/notifications/?group=true&to=2026-03-11').expect(200)).body.results;
  expect(grouped.map((g: { latest: { title: string } }) => g.latest.title)).toEqual(['Application approved', 'Lunch menu']);
  for (const bad of ['from=yesterday', 'to=2026-13-01', 'course=abc', `from=${encodeURIComponent('2026-03-10T10:00:00')}`]) {
    const res = await agent.get(`/api/notifications/?${bad}`).expect(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: bad.split('=')[0] })]);
  }
});

test('type=a,b, exclude_type=a,b, and type:x / -type:x typed in the search text', async () => {
  expect(await titles('type=announcement,application_approved')).toEqual(['Application approved', 'Room change']);
  expect(await titles('exclude_type=message,announcement')).toEqual(['Application approved']);
  expect(await titles(`q=${encodeURIComponent('application -type:application_approved')}`)).toEqual(['Your applications were reviewed']);
  expect(await titles(`q=${encodeURIComponent('type:announcement')}`)).toEqual(['Room change']);
  expect(await titles('type=message')).toEqual(['Lunch menu', 'Your applications were reviewed']); // one type, as before
  expect(await titles('q=application&status=unread&exclude_type=message')).toEqual(['Application approved']);
});

test('bad filters are a 400, never a 500', async () => {
  for (const q of ['type=nope', 'exclude_type=message,nope', 'type=', `q=${'x'.repeat(201)}`]) {
    const res = await agent.get(`/api/notifications/?${q}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toEqual(expect.any(String));
  }
  // Operators and odd characters in the text are text: websearch syntax never fails.
  for (const q of ['a & b | !c', '((', "'", ':*', '-', 'or or']) await agent.get(`/api/notifications/?q=${encodeURIComponent(q)}`).expect(200);
});

test('a search reads the GIN index, not every row of the table', async () => {
  // 20,000 rows of the searcher's own, so that the recipient's indexes alone would have to walk them all.
  const reader = await ctx.createUser('candidate');
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, message, search_vector)
     SELECT :u, 'message', 'Note ' || i, 'body', to_tsvector('english', 'Note ' || i || ' body') FROM generate_series(1, 20000) AS i`,
    { replacements: { u: reader.id } },
  );
  await ctx.notify({ recipientId: reader.id, type: 'message', title: 'Lunch menu', message: 'Soup' });
  await vacuumedAtRest(ctx.sequelize, 'notifications');
  const readerAgent = await ctx.loginChecked(reader);
  const { statements, result } = await ctx.countStatements(() => readerAgent.get('/api/notifications/?q=lunch').expect(200));
  expect(result.body.results.map((n: { title: string }) => n.title)).toEqual(['Lunch menu']);
  const scans = await planNodes(ctx.sequelize, statements.find((s) => s.includes('websearch_to_tsquery'))!);
  expect(scans.filter((n) => n['Relation Name'] === 'notifications').map((n) => n['Node Type'])).not.toContain('Seq Scan');
  expect(scans.map((n) => n['Index Name'])).toContain('notifications_search_idx');
});

test('the page: a search box, results with the matched words marked, user text still escaped', async () => {
  const html = (await agent.http.get(`/notifications?q=${encodeURIComponent('two approved')}`).expect(200)).text;
  expect(html).toMatch(/<input type="search" id="inbox-q" name="q" value="two approved"/);
  expect(html).toContain('<mark>Two</mark> <mark>approved</mark> &lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).not.toContain('<script>alert(1)');
  const listOf = (page: string) => page.slice(page.indexOf('id="notification-list"'), page.indexOf('class="empty-state"'));
  expect(listOf(html)).not.toContain('Lunch menu'); // (the bell lists the latest, whatever the search)
  const minus = (await agent.http.get(`/notifications?q=${encodeURIComponent('application -type:message')}`).expect(200)).text;
  expect(minus).toContain('<mark>Application</mark> approved');
  expect(listOf(minus)).not.toContain('applications were reviewed');
});

test('a search page joins the newest rows read in order and the older matches from the index, and pages on', async () => {
  // 1,100 rows: the newest 1,000 (what a search reads in order first, SEARCH_HEAD_ROWS) hold 5 matches, the 100
  // older ones 30: page 1 must be those 5 then the 15 newest older ones, page 2 the other 15, and no page 3.
  const reader = await ctx.createUser('candidate');
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, message, search_vector)
     SELECT :u, 'message', t, 'body', to_tsvector('english', t)
       FROM generate_series(1, 1100) AS i, LATERAL (SELECT CASE WHEN i <= 30 OR (i > 100 AND i % 200 = 0)
                                                             THEN 'Kiwi ' || i ELSE 'Note ' || i END AS t) x
      ORDER BY i`,
    { replacements: { u: reader.id } },
  );
  const readerAgent = await ctx.loginChecked(reader);
  const page = async (cursor?: string) =>
    (await readerAgent.get(`/api/notifications/?q=kiwi&limit=20${cursor ? `&cursor=${cursor}` : ''}`).expect(200)).body;
  const kiwis = (...ns: number[]) => ns.map((n) => `Kiwi ${n}`);
  const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, k) => from - k);
  const p1 = await page();
  expect(p1.results.map((n: { title: string }) => n.title)).toEqual(kiwis(1000, 800, 600, 400, 200, ...range(30, 16)));
  const p2 = await page(p1.next_cursor);
  expect(p2.results.map((n: { title: string }) => n.title)).toEqual(kiwis(...range(15, 1)));
  expect(p2.next_cursor).toBeNull();
});
