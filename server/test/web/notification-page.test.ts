import { PASSWORD, createTestContext, type TestContext } from '../support/harness';
import type { NotificationType, User } from '../../models';

/** GET /notifications/{id}: the page every email links to. */
let ctx: TestContext;
let candidate: User;
let courseId: number;
let applicationId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  candidate = await ctx.createUser('candidate');
  const instructor = await ctx.createUser('instructor');
  courseId = (await ctx.models.Course.create({ title: 'Zoology <101>', instructorId: instructor.id })).id;
  const [[app]] = (await ctx.sequelize.query(
    `INSERT INTO applications (course_id, candidate_id, motivation, status) VALUES (:c, :u, 'Please', 'approved') RETURNING id`,
    { replacements: { c: courseId, u: candidate.id } },
  )) as [Array<{ id: number }>, unknown];
  applicationId = app.id;
});
afterAll(() => ctx.close());

async function notify(n: { type?: NotificationType; title?: string; course?: number; application?: number; to?: User } = {}) {
  const [[row]] = (await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, type, title, message, course_id, application_id)
     VALUES (:u, :type, :title, 'Bring <b>boots</b>.', :course, :application) RETURNING id`,
    {
      replacements: {
        u: (n.to ?? candidate).id,
        type: n.type ?? 'announcement',
        title: n.title ?? 'Field trip <script>',
        course: n.course ?? null,
        application: n.application ?? null,
      },
    },
  )) as [Array<{ id: string }>, unknown];
  return Number(row.id);
}
const readAt = async (id: number) =>
  ((await ctx.sequelize.query('SELECT read_at FROM notifications WHERE id = :id', { replacements: { id } })) as [Array<{ read_at: Date | null }>, unknown])[0][0]
    .read_at;

test('shows the notification with the list’s card, escaped, and marks it read like following it in the app', async () => {
  const id = await notify({ course: courseId });
  const agent = await ctx.login(candidate);
  ctx.published.length = 0;
  const page = await agent.get(`/notifications/${id}`).expect(200);
  expect(page.text).toContain(`<article id="notification-${id}" class="card notification-card`);
  expect(page.text).toContain('Field trip &lt;script&gt;');
  expect(page.text).toContain('Bring &lt;b&gt;boots&lt;/b&gt;.');
  expect(page.text).not.toContain('<script>');
  expect(page.text).toContain('<span class="notif-status is-read">Read</span>');
  expect(await readAt(id)).not.toBeNull();
  expect(ctx.published).toEqual([{ type: 'notification.read', recipientId: candidate.id, ids: [id], position: expect.any(Number) }]);
  // The course it belongs to is the page's main action.
  expect(page.text).toContain(`<a class="btn btn-primary" href="/courses/${courseId}">Open Zoology &lt;101&gt;</a>`);

  // Opening it again: still shown, nothing new to tell the other tabs.
  ctx.published.length = 0;
  await agent.get(`/notifications/${id}`).expect(200);
  expect(ctx.published).toEqual([]);
});

test('an application decision leads to the application', async () => {
  const id = await notify({ type: 'application_approved', title: 'You are in', course: courseId, application: applicationId });
  const page = await (await ctx.login(candidate)).get(`/notifications/${id}`).expect(200);
  expect(page.text).toContain(`<a class="btn btn-primary" href="/applications#application-${applicationId}">See your application</a>`);
});

test('nothing to follow: no main action', async () => {
  const id = await notify();
  const page = await (await ctx.login(candidate)).get(`/notifications/${id}`).expect(200);
  expect(page.text).not.toContain('btn btn-primary');
});

test('someone else’s notification, or no such id: 404 page, and it stays unread', async () => {
  const other = await ctx.createUser('candidate');
  const id = await notify({ to: other });
  const agent = await ctx.login(candidate);
  const res = await agent.get(`/notifications/${id}`).expect(404);
  expect(res.headers['content-type']).toMatch(/text\/html/);
  expect(await readAt(id)).toBeNull();
  await agent.get('/notifications/999999999').expect(404);
  await agent.get('/notifications/abc').expect(404);
});

test('not logged in: the login page, then back to the notification', async () => {
  const id = await notify();
  const anon = await ctx.anonymous();
  const first = await anon.get(`/notifications/${id}`).expect(303);
  expect(first.headers.location).toBe(`/login?next=${encodeURIComponent(`/notifications/${id}`)}`);
  expect(await readAt(id)).toBeNull();
  const login = await anon.http
    .post('/login')
    .type('form')
    .send({ _csrf: anon.csrf, email: candidate.email, password: PASSWORD, next: `/notifications/${id}` })
    .expect(303);
  expect(login.headers.location).toBe(`/notifications/${id}`);
  await anon.get(login.headers.location).expect(200);
  expect(await readAt(id)).not.toBeNull();
});
