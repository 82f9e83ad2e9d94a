import { EmailSender, createMailer, type Mailer } from '../../../channels/email';
import { escalationTasks } from '../../../channels/email/escalation';
import { startJobRunner, type JobRunner } from '../../../jobs';
import { startSmtpSink, type SmtpSink } from '../../channels/email/smtp';
import { waitFor } from '../../jobs/wait';
import { Contract } from '../../support/contract';
import { createTestContext, type Agent, type TestContext } from '../../support/harness';
import { insertNotification } from '../../support/admin-fixtures';

/**
 * An admin's retry, end to end: a failed email delivery is retried through the API, the job it queued runs on a
 * real runner, and the email reaches a real SMTP server; the row ends sent, with the attempt counted.
 */
let ctx: TestContext;
let smtp: SmtpSink;
let mailer: Mailer;
let runner: JobRunner;
let admin: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await startSmtpSink();
  mailer = createMailer({ smtpUrl: smtp.url, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' });
  const { deliveries } = ctx.services;
  const sender = new EmailSender({
    sequelize: ctx.sequelize,
    deliveries,
    mailer,
    site: { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' },
  });
  runner = await startJobRunner({
    connection: { connectionString: ctx.dbUrl },
    log: { info: () => undefined },
    tasks: escalationTasks({ sequelize: ctx.sequelize, deliveries, sender }),
    pollInterval: 200,
  });
  const contract = await Contract.load(ctx.app);
  admin = contract.wrap(await ctx.login(await ctx.createUser('admin')));
});
afterAll(async () => {
  await runner.stop();
  mailer.close();
  await smtp.close();
  await ctx.close();
});

test('a failed escalation email is sent again after an admin retries it', async () => {
  const student = await ctx.createUser('candidate', { email: 'retry-me@test.example' });
  await ctx.services.preferences.patch(student.id, { types: { announcement: { email: 'unread' } } });
  const notificationId = await insertNotification(ctx, { recipientId: student.id, type: 'announcement', title: 'Room changed' });
  const [claimed] = await ctx.services.deliveries.claim('email', [notificationId]);
  await ctx.services.deliveries.markFailed([{ id: claimed.id, error: '550 mailbox full' }]);

  await admin.post(`/api/admin/deliveries/${claimed.id}/retry`).expect(200);
  await waitFor(async () => (await ctx.services.deliveries.get(claimed.id)).status === 'sent', 15_000);

  const delivery = await ctx.services.deliveries.get(claimed.id);
  expect(delivery).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
  expect(smtp.received).toHaveLength(1);
  expect(smtp.received[0].subject).toContain('Room changed');
  // A second retry of what is now sent is refused: it must not go out twice.
  await admin.post(`/api/admin/deliveries/${claimed.id}/retry`).expect(409);
});
