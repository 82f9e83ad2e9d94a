/**
 * Email made live, end to end: HTTP request → the statement that writes the notifications and their jobs → the
 * job runner the harness starts as main.ts does → a real SMTP server. Reading in time (API, socket) cancels the
 * escalation; in_app off writes silent rows; quiet hours hold immediate emails; a dead SMTP server is waited out.
 */
import { QueryTypes } from 'sequelize';
import type { ParsedMail } from 'mailparser';
import type { User } from '../../../models';
import { waitFor } from '../../support/wait';
import { startServer } from '../../support/realtime';
import { createTestContext, type Agent, type TestContext } from '../../support/harness';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink';
import { withContent } from '../../support/content';

const DELAY = 3; // EMAIL_UNREAD_DELAY_SECONDS: long enough to read through the API and a socket first

let ctx: TestContext;
let smtp: SmtpSink;
let srv: Awaited<ReturnType<typeof startServer>>;
let teacher: User;
let teacherAgent: Agent;

beforeAll(async () => {
  smtp = await startSmtpSink();
  ctx = await createTestContext({ jobs: true, env: { SMTP_URL: smtp.url, EMAIL_UNREAD_DELAY_SECONDS: String(DELAY) } });
  srv = await startServer(ctx);
  teacher = await ctx.createUser('instructor');
  teacherAgent = await ctx.login(teacher);
});
afterAll(async () => {
  await srv.close();
  await ctx.close();
  await smtp.close();
});

const to = (m: ParsedMail) => (Array.isArray(m.to) ? '' : (m.to?.value[0].address ?? ''));
const mailsTo = (u: User) => smtp.received.filter((m) => to(m) === u.email);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function student(types: object, settings: object = {}) {
  const u = await ctx.createUser('candidate');
  await ctx.services.preferences.patch(u.id, { types, ...settings });
  return u;
}

async function courseOf(students: User[]) {
  const course = await ctx.models.Course.create({ title: `Course ${Math.random().toString(36).slice(2, 8)}`, instructorId: teacher.id });
  await ctx.models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
  return course;
}

async function notifyStudents(courseId: number, title: string) {
  await teacherAgent.post(`/api/courses/${courseId}/notify-students/`, { notification_type: 'announcement', title, message: 'Room B12' }).expect(201);
}

async function notificationOf(u: User, title: string) {
  const [row] = await ctx.sequelize.query<{ id: string; read_at: Date | null }>(
    `SELECT id, read_at FROM ${withContent()} WHERE recipient_id = :u AND title = :title`,
    { replacements: { u: u.id, title }, type: QueryTypes.SELECT },
  );
  return { id: Number(row.id), readAt: row.read_at };
}

async function deliveriesOf(u: User) {
  return ctx.sequelize.query<{ status: string; provider_message_id: string | null; last_error: string | null }>(
    "SELECT status, provider_message_id, last_error FROM deliveries WHERE recipient_id = :u AND channel = 'email'",
    { replacements: { u: u.id }, type: QueryTypes.SELECT },
  );
}

test('escalation: POST notify-students → job → SMTP; read in time (API, mark all, socket), no email', async () => {
  const unread = { announcement: { email: 'unread' } };
  const [stays, readByApi, readAll, readBySocket, emailOff] = [
    await student(unread),
    await student(unread),
    await student(unread),
    await student(unread),
    await student({ announcement: { email: 'off' } }),
  ];
  const course = await courseOf([stays, readByApi, readAll, readBySocket, emailOff]);
  const socket = await srv.tabOf(readBySocket);

  const started = Date.now();
  await notifyStudents(course.id, 'Exam room changed');
  const pushed = await socket.type('notification');
  socket.send({ type: 'mark_as_read', id: (pushed.notification as { id: number }).id });
  const apiAgent = await ctx.login(readByApi);
  await apiAgent.post(`/api/notifications/${(await notificationOf(readByApi, 'Exam room changed')).id}/mark_read/`).expect(200);
  await (await ctx.login(readAll)).post('/api/notifications/mark_all_read/').expect(200);
  await waitFor(async () => (await notificationOf(readBySocket, 'Exam room changed')).readAt !== null, 2_000);
  expect(Date.now() - started).toBeLessThan(DELAY * 1000); // both reads happened before the due time

  await waitFor(() => mailsTo(stays).length > 0, 15_000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(DELAY * 1000 - 200);
  await sleep(500);
  expect(mailsTo(stays)).toHaveLength(1);
  expect(mailsTo(stays)[0].subject).toContain('Exam room changed');
  for (const u of [readByApi, readAll, readBySocket, emailOff]) expect(mailsTo(u)).toHaveLength(0);
  expect(await deliveriesOf(stays)).toEqual([expect.objectContaining({ status: 'sent', provider_message_id: expect.any(String) })]);
  for (const u of [readByApi, readAll, readBySocket, emailOff]) expect(await deliveriesOf(u)).toEqual([]);
});

test('an application decision (a single notice, in_app locked on) escalates when still unread', async () => {
  const candidate = await student({ application_approved: { email: 'unread' } });
  const course = await courseOf([]);
  const candidateAgent = await ctx.login(candidate);
  const applied = await candidateAgent.post(`/api/courses/${course.id}/applications/`, { motivation: 'Please' }).expect(201);
  await teacherAgent.post(`/api/applications/${applied.body.id}/approve/`).expect(200);

  await waitFor(() => mailsTo(candidate).length > 0, 15_000);
  expect(mailsTo(candidate)[0].subject).toContain(course.title);
  // The instructor's "new application" notice wanted no email (the default is off): no job did anything for it.
  expect(mailsTo(teacher)).toHaveLength(0);
  expect(await deliveriesOf(teacher)).toEqual([]);
});

test('immediate, and in_app off: the row is written read, no badge, no socket alert, the email still goes', async () => {
  const [loud, silentMail, silent] = [
    await student({ announcement: { email: 'immediate' } }),
    await student({ announcement: { in_app: false, email: 'immediate' } }),
    await student({ announcement: { in_app: false, email: 'off' } }),
  ];
  const course = await courseOf([loud, silentMail, silent]);
  const [sLoud, sSilentMail, sSilent] = [await srv.tabOf(loud), await srv.tabOf(silentMail), await srv.tabOf(silent)];

  const started = Date.now();
  await notifyStudents(course.id, 'Lab opens early');
  expect(await sLoud.type('notification')).toMatchObject({ notification: { title: 'Lab opens early', is_read: false } });
  await waitFor(() => mailsTo(loud).length > 0 && mailsTo(silentMail).length > 0, 10_000);
  expect(Date.now() - started).toBeLessThan(DELAY * 1000); // immediate: not waiting for the escalation delay

  for (const u of [silentMail, silent]) {
    expect((await notificationOf(u, 'Lab opens early')).readAt).not.toBeNull();
    const agent = await ctx.login(u);
    expect((await agent.get('/api/notifications/unread_count/').expect(200)).body).toMatchObject({ unread_count: 0 });
  }
  for (const s of [sSilentMail, sSilent]) expect(s.frames.filter((f) => f.json?.type === 'notification')).toEqual([]);
  expect(mailsTo(silent)).toHaveLength(0);
  expect((await notificationOf(loud, 'Lab opens early')).readAt).toBeNull();
});

test("the store's single insert (an enrollment notice): silent with in_app off, and its immediate email still goes", async () => {
  const u = await student({ course_enrollment: { in_app: false, email: 'immediate' } });
  const socket = await srv.tabOf(u);
  const id = await ctx.notify({ recipientId: u.id, type: 'course_enrollment', title: 'You were enrolled' });
  await waitFor(() => mailsTo(u).length > 0, 10_000);
  expect(mailsTo(u)[0].subject).toContain('You were enrolled');
  const [row] = await ctx.sequelize.query<{ read_at: Date | null }>('SELECT read_at FROM notifications WHERE id = :id', {
    replacements: { id },
    type: QueryTypes.SELECT,
  });
  expect(row.read_at).not.toBeNull();
  // A loud notice after it reaches the socket; the silent one before it never did.
  const loud = await ctx.message(u, 'Loud one');
  await socket.type('notification');
  expect(socket.frames.filter((f) => f.json?.type === 'notification').map((f) => (f.json!.notification as { id: number }).id)).toEqual([loud]);
});

/** Quiet hours around (or away from) the current hour in `timeZone`. */
function quietHours(timeZone: string, around: boolean) {
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const at = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  return around ? { start: at(hour - 1), end: at(hour + 1) } : { start: at(hour + 2), end: at(hour + 4) };
}

test('quiet hours on both sides of UTC hold immediate email until they end', async () => {
  const immediate = { announcement: { email: 'immediate' } };
  const zone = (timezone: string, around: boolean) => student(immediate, { timezone, quiet_hours: quietHours(timezone, around) });
  const tokyoQuiet = await zone('Asia/Tokyo', true);
  const laQuiet = await zone('America/Los_Angeles', true);
  const tokyoAwake = await zone('Asia/Tokyo', false);
  const laAwake = await zone('America/Los_Angeles', false);
  const course = await courseOf([tokyoQuiet, laQuiet, tokyoAwake, laAwake]);

  await notifyStudents(course.id, 'Timetable');
  await waitFor(() => mailsTo(tokyoAwake).length > 0 && mailsTo(laAwake).length > 0, 10_000);
  // Both quiet windows end at the local hour after the next one, i.e. the next-but-one full UTC hour (whole-hour zones).
  const wake = new Date();
  wake.setUTCMinutes(0, 0, 0);
  wake.setUTCHours(wake.getUTCHours() + 1);
  await waitFor(async () => (await followUps()).length > 0, 5_000);
  expect((await followUps()).map((j) => new Date(j.run_at).toISOString())).toEqual([wake.toISOString()]);
  expect(mailsTo(tokyoQuiet)).toHaveLength(0);
  expect(mailsTo(laQuiet)).toHaveLength(0);

  async function followUps() {
    const [{ batch }] = await ctx.sequelize.query<{ batch: string }>(
      `SELECT batch_id AS batch FROM ${withContent()} WHERE recipient_id = :u AND title = :t`,
      { replacements: { u: tokyoQuiet.id, t: 'Timetable' }, type: QueryTypes.SELECT },
    );
    return ctx.sequelize.query<{ run_at: Date }>('SELECT run_at FROM graphile_worker.jobs WHERE key = :key', {
      replacements: { key: `email:immediate:quiet:${batch}` },
      type: QueryTypes.SELECT,
    });
  }
});

// Last: it replaces the shared SMTP server.
test('SMTP down, then up: the delivery stays pending with the error, the job retries and sends it', async () => {
  const u = await student({ announcement: { email: 'immediate' } });
  const course = await courseOf([u]);
  const port = Number(new URL(smtp.url).port);
  await smtp.close();

  await notifyStudents(course.id, 'While the server was down');
  await waitFor(async () => (await deliveriesOf(u)).some((d) => d.status === 'pending' && d.last_error !== null), 15_000);
  smtp = await startSmtpSink({ port });
  // graphile-worker's backoff: the first retry comes exp(1) ≈ 2.7 s after the failure.
  await waitFor(() => mailsTo(u).length > 0, 20_000);
  expect(mailsTo(u)).toHaveLength(1);
  await waitFor(async () => (await deliveriesOf(u))[0]?.status === 'sent', 5_000);
});
