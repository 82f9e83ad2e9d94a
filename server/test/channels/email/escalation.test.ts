import { EmailSender, createMailer, type Mailer } from '../../../channels/email';
import { escalationTasks } from '../../../channels/email/escalation';
import { ESCALATE_TASK, escalationEnqueueSql } from '../../../jobs/notification-jobs';
import { startJobRunner, type JobRunner } from '../../../jobs';
import { DeliveryService } from '../../../services/deliveries';
import { PreferenceService } from '../../../services/preferences';
import { createTestContext, type TestContext } from '../../support/harness';
import { waitFor } from '../../support/wait';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink';

const SITE = { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' };

/** Quiet hours around (or away from) the current hour in `timeZone`. */
function quietHours(timeZone: string, around: boolean) {
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const at = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  return around ? { start: at(hour - 1), end: at(hour + 1) } : { start: at(hour + 2), end: at(hour + 4) };
}

describe('email escalation job (email: "unread")', () => {
  let ctx: TestContext;
  let smtp: SmtpSink;
  let mailer: Mailer;
  let deliveries: DeliveryService;
  let prefs: PreferenceService;
  let runner: JobRunner;
  const done: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    smtp = await startSmtpSink();
    mailer = createMailer({ smtpUrl: smtp.url, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' });
    deliveries = new DeliveryService({ sequelize: ctx.sequelize });
    prefs = new PreferenceService({ sequelize: ctx.sequelize });
    const sender = new EmailSender({ sequelize: ctx.sequelize, deliveries, mailer, site: SITE });
    runner = await startJobRunner({
      connection: { connectionString: ctx.dbUrl },
      log: { info: () => undefined },
      tasks: escalationTasks({ sequelize: ctx.sequelize, deliveries, sender, chunkSize: 2 }),
      pollInterval: 200,
    });
    runner.runner.events.on('job:complete', ({ job }) => done.push(job.task_identifier));
  });
  afterAll(async () => {
    await runner.stop();
    mailer.close();
    await smtp.close();
    await ctx.close();
  });

  test('one job per batch: still-unread recipients who asked for it get one email each, once', async () => {
    const make = async (email: 'unread' | 'off', extra: object = {}) => {
      const u = await ctx.createUser('candidate');
      await prefs.patch(u.id, { types: { announcement: { email } }, ...extra });
      return u;
    };
    const wants = await Promise.all([make('unread'), make('unread'), make('unread')]);
    const readInTime = await make('unread');
    const emailOff = await make('off');
    const tokyoQuiet = await make('unread', { timezone: 'Asia/Tokyo', quiet_hours: quietHours('Asia/Tokyo', true) });
    const laAwake = await make('unread', { timezone: 'America/Los_Angeles', quiet_hours: quietHours('America/Los_Angeles', false) });
    const everyone = [...wants, readInTime, emailOff, tokyoQuiet, laAwake];

    // The fan-out's statement writes the rows and enqueues the job together (due in 2 s instead of 600).
    const batchId = '6f1c7a52-3b1e-4c59-9a57-2f0e8f8b1c11';
    const [rows] = await ctx.sequelize.query(
      `WITH ins AS (
         INSERT INTO notifications (recipient_id, type, title, batch_id)
         SELECT r, 'announcement', 'Exam room changed', CAST(:batchId AS uuid) FROM unnest(CAST(:ids AS int[])) r
         RETURNING id, recipient_id),
       job AS (SELECT ${escalationEnqueueSql(':batchId', ':delay')} AS job_id WHERE EXISTS (SELECT 1 FROM ins))
       SELECT (SELECT count(*) FROM ins)::int AS n, (SELECT count(*) FROM job)::int AS jobs`,
      { replacements: { batchId, delay: 2, ids: `{${everyone.map((u) => u.id).join(',')}}` } },
    );
    expect(rows).toEqual([{ n: everyone.length, jobs: 1 }]);
    await ctx.sequelize.query(`UPDATE notifications SET read_at = now() WHERE batch_id = :batchId AND recipient_id = :u`, {
      replacements: { batchId, u: readInTime.id },
    });

    await waitFor(() => done.includes(ESCALATE_TASK), 15_000);
    const to = smtp.received.map((m) => (Array.isArray(m.to) ? '' : m.to?.value[0].address)).sort();
    expect(to).toEqual([...wants, laAwake].map((u) => u.email).sort());

    // Tokyo is asleep: a follow-up job waits for the end of its quiet hours.
    const [jobs] = await ctx.sequelize.query(
      'SELECT key, run_at FROM graphile_worker.jobs WHERE task_identifier = :task',
      { replacements: { task: ESCALATE_TASK } },
    );
    expect(jobs).toHaveLength(1);
    const wake = new Date((jobs as Array<{ run_at: string }>)[0].run_at).getTime();
    expect(wake).toBeGreaterThan(Date.now());
    expect(wake).toBeLessThanOrEqual(Date.now() + 61 * 60_000);

    // A duplicate of the job sends nothing again.
    const before = smtp.received.length;
    done.length = 0;
    await runner.addJob(ESCALATE_TASK, { batchId });
    await waitFor(() => done.includes(ESCALATE_TASK), 15_000);
    expect(smtp.received).toHaveLength(before);
    const list = await deliveries.list({ channel: 'email', status: 'sent' });
    expect(list.results).toHaveLength(4);
  });

  test('a row released by a transient failure and read before the retry is cancelled, not left pending for good', async () => {
    const u = await ctx.createUser('candidate');
    await prefs.patch(u.id, { types: { announcement: { email: 'unread' } } });
    const [[row]] = (await ctx.sequelize.query(
      "INSERT INTO notifications (recipient_id, type, title) VALUES (:u, 'announcement', 'Room moved') RETURNING id",
      { replacements: { u: u.id } },
    )) as [Array<{ id: string }>, unknown];
    const id = Number(row.id);
    // The first try claimed it and the SMTP server answered 4xx: pending, free, for the job's retry.
    const [claimed] = await deliveries.claim('email', [id]);
    await deliveries.release([{ id: claimed.id, error: '451 try again later' }]);
    await ctx.sequelize.query('UPDATE notifications SET read_at = now() WHERE id = :id', { replacements: { id } });

    const before = smtp.received.length;
    done.length = 0;
    await runner.addJob(ESCALATE_TASK, { notificationIds: [id] });
    await waitFor(() => done.includes(ESCALATE_TASK), 15_000);
    expect(smtp.received).toHaveLength(before);
    expect(await deliveries.get(claimed.id)).toMatchObject({ status: 'cancelled', last_error: 'read before it was sent' });
  });
});
