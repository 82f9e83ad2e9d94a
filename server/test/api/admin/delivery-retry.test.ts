import { QueryTypes } from 'sequelize';
import { createMailer, emailTasks, RETRY_TASK, type Mailer } from '../../../channels/email';
import { startJobRunner, type JobRunner } from '../../../jobs';
import type { User } from '../../../models';
import type { EmailMode } from '../../../services/preferences';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink';
import { waitFor } from '../../support/wait';
import { createApiContext, type ApiContext } from '../../support/api';
import type { Agent } from '../../support/harness';
import { insertNotification } from '../../support/admin-fixtures';

/**
 * An admin's retry, end to end: a failed email delivery is retried through the API, the `email:deliveries` job it
 * queued runs on a real runner with every email task, and the email reaches a real SMTP server exactly once,
 * whatever path first chose the row (immediate, escalation, digest) and whether the notification was read since.
 */
let ctx: ApiContext;
let smtp: SmtpSink;
let mailer: Mailer;
let runner: JobRunner;
let admin: Agent;
const done: string[] = [];

beforeAll(async () => {
  ctx = await createApiContext();
  smtp = await startSmtpSink();
  mailer = createMailer({ smtpUrl: smtp.url, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' });
  runner = await startJobRunner({
    connection: { connectionString: ctx.dbUrl },
    log: { info: () => undefined },
    tasks: emailTasks({
      sequelize: ctx.sequelize,
      mailer,
      site: { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' },
    }),
    pollInterval: 200,
  });
  runner.runner.events.on('job:complete', ({ job }) => done.push(job.task_identifier));
  admin = (await ctx.party('admin')).agent;
});
afterAll(async () => {
  await runner.stop();
  mailer.close();
  await smtp.close();
  await ctx.close();
});

/** What the SMTP server accepted for this address. */
function receivedBy(address: string) {
  return smtp.received.filter((m) => [m.to].flat().some((a) => a?.text.includes(address)));
}

/** A student with this email mode for announcements, and one of their email deliveries that failed with a 5xx. */
async function failedDelivery(mode: EmailMode, title: string): Promise<{ student: User; notificationId: number; id: number }> {
  const student = await ctx.createUser('candidate');
  await ctx.services.preferences.patch(student.id, { types: { announcement: { email: mode } } });
  const notificationId = await insertNotification(ctx, { recipientId: student.id, type: 'announcement', title });
  const [claimed] = await ctx.services.deliveries.claim('email', [notificationId]);
  await ctx.services.deliveries.markFailed([{ id: claimed.id, error: '550 mailbox full' }]);
  return { student, notificationId, id: claimed.id };
}

/** Waits for the row to settle and for every retry job queued so far to have finished. */
async function settled(id: number, jobsBefore: number, jobs = 1) {
  await waitFor(() => done.filter((t) => t === RETRY_TASK).length >= jobsBefore + jobs, 15_000);
  return ctx.services.deliveries.get(id);
}

const retryJobs = () => done.filter((t) => t === RETRY_TASK).length;

test('a failed escalation email is sent again after an admin retries it', async () => {
  const { student, id } = await failedDelivery('unread', 'Room changed');
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
  expect(receivedBy(student.email)).toHaveLength(1);
  expect(receivedBy(student.email)[0].subject).toContain('Room changed');
  // A second retry of what is now sent is refused: it must not go out twice.
  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(409);
});

test('a failed immediate email is sent again, once', async () => {
  const { student, id } = await failedDelivery('immediate', 'Exam moved');
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'sent', attempts: 2 });
  expect(receivedBy(student.email).map((m) => m.subject)).toEqual([expect.stringContaining('Exam moved')]);
});

test('a failed escalation whose notification was read since is still sent when the admin retries it', async () => {
  const { student, notificationId, id } = await failedDelivery('unread', 'Read meanwhile');
  const reader = await ctx.login(student);
  await reader.post(`/api/notifications/${notificationId}/mark_read`).expect(200);
  expect((await ctx.services.deliveries.get(id)).status).toBe('failed'); // reading cancels only pending rows
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'sent' });
  expect(receivedBy(student.email)).toHaveLength(1);
});

test('a failed digest row is resent as a one-notification email', async () => {
  const { student, id } = await failedDelivery('digest', 'In the digest');
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'sent' });
  const [mail] = receivedBy(student.email);
  expect(mail.subject).toContain('In the digest');
  expect(mail.messageId).toMatch(new RegExp(`^<delivery-${id}\\.`));
});

test('retrying a row that is not failed is a 409 and queues nothing', async () => {
  const student = await ctx.createUser('candidate');
  const notificationId = await insertNotification(ctx, { recipientId: student.id, type: 'announcement' });
  const [pending] = await ctx.services.deliveries.claim('email', [notificationId]);

  const res = await admin.post(`/api/admin/deliveries/${pending.id}/retry`).expect(409);
  expect(res.body.error.details).toMatchObject({ status: 'pending' });
  const [{ n }] = await ctx.sequelize.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = :task AND key = :key`,
    { type: QueryTypes.SELECT, replacements: { task: RETRY_TASK, key: `${RETRY_TASK}:${pending.id}` } },
  );
  expect(n).toBe(0);
});

test('two retries at once, and a duplicated job: one email', async () => {
  const { student, id } = await failedDelivery('immediate', 'Only once');
  const before = retryJobs();

  const statuses = await Promise.all([
    admin.post(`/api/admin/deliveries/${id}/retry`).then((r) => r.status),
    admin.post(`/api/admin/deliveries/${id}/retry`).then((r) => r.status),
  ]);
  expect(statuses.sort()).toEqual([200, 409]);
  await runner.addJob(RETRY_TASK, { deliveryIds: [id] }); // the same rows in a job of their own

  expect(await settled(id, before, 2)).toMatchObject({ status: 'sent', attempts: 2 });
  expect(receivedBy(student.email)).toHaveLength(1);
});

test('a recipient who turned the email off since is skipped, not mailed', async () => {
  const { student, id } = await failedDelivery('immediate', 'Unwanted now');
  await ctx.services.preferences.patch(student.id, { types: { announcement: { email: 'off' } } });
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'skipped', last_error: expect.stringContaining('off') });
  expect(receivedBy(student.email)).toHaveLength(0);
});

test('a retry inside the recipient’s quiet hours waits for their end', async () => {
  const { student, id } = await failedDelivery('immediate', 'After quiet hours');
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  const end = new Date(Date.now() + 3600_000);
  await ctx.services.preferences.patch(student.id, {
    timezone: 'UTC',
    quiet_hours: { start: hhmm(new Date(Date.now() - 3600_000)), end: hhmm(end) },
  });
  const before = retryJobs();

  await admin.post(`/api/admin/deliveries/${id}/retry`).expect(200);

  expect(await settled(id, before)).toMatchObject({ status: 'pending' });
  expect(receivedBy(student.email)).toHaveLength(0);
  const [later] = await ctx.sequelize.query<{ run_at: Date }>(
    `SELECT run_at FROM graphile_worker.jobs WHERE task_identifier = :task AND key = :key`,
    { type: QueryTypes.SELECT, replacements: { task: RETRY_TASK, key: `${RETRY_TASK}:later:{${id}}` } },
  );
  expect(Math.abs(new Date(later.run_at).getTime() - end.getTime())).toBeLessThan(61_000);
});
