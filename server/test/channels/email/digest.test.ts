import type { ParsedMail } from 'mailparser';
import { EmailSender, createMailer, verifyUnsubscribeToken, type Mailer } from '../../../channels/email';
import { DIGEST_QUEUE, DIGEST_TASK, digestCron, digestTasks, type DigestPayload } from '../../../channels/email/digest';
import { startJobRunner, type JobRunner } from '../../../jobs';
import type { NotificationType, User } from '../../../models';
import { DeliveryService } from '../../../services/deliveries';
import { createTestContext, type TestContext } from '../../support/harness';
import { waitFor } from '../../support/wait';
import { expectInOrder, startSmtpSink, type SmtpSink } from '../../support/smtp-sink';

const SITE = { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' };

function addressOf(m: ParsedMail): string | undefined {
  return Array.isArray(m.to) ? undefined : m.to?.value[0].address;
}

/** Quiet hours around (or away from) the current hour in `timeZone`. */
function quietHours(timeZone: string, around: boolean) {
  const hour = Number(new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const at = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
  return around ? { start: at(hour - 1), end: at(hour + 1) } : { start: at(hour + 2), end: at(hour + 4) };
}

describe('the daily digest (email: "digest")', () => {
  let ctx: TestContext;
  let smtp: SmtpSink;
  let mailer: Mailer;
  let runner: JobRunner;
  let instructor: User;
  let algebra: number;
  let zoology: number;
  const done = new Set<string>();
  const failures: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    smtp = await startSmtpSink();
    mailer = createMailer({ smtpUrl: smtp.url, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' });
    const deliveries = new DeliveryService({ sequelize: ctx.sequelize });
    const sender = new EmailSender({ sequelize: ctx.sequelize, deliveries, mailer, site: SITE });
    runner = await startJobRunner({
      connection: { connectionString: ctx.dbUrl },
      log: { info: () => undefined },
      // Two users per chunk: the tests' runs span several chunks.
      tasks: digestTasks({ sequelize: ctx.sequelize, deliveries, sender, usersPerChunk: 2 }),
      pollInterval: 200,
    });
    runner.runner.events.on('job:success', ({ job }) => done.add(String(job.id)));
    runner.runner.events.on('job:error', ({ job }) => failures.push(String(job.id)));
    instructor = await ctx.createUser('instructor');
    const course = async (title: string) =>
      (await ctx.models.Course.create({ title, description: '', instructorId: instructor.id })).id;
    zoology = await course('Zoology');
    algebra = await course('Algebra');
  });
  afterAll(async () => {
    await runner.stop();
    mailer.close();
    await smtp.close();
    await ctx.close();
  });
  beforeEach(() => {
    smtp.received.length = 0;
  });

  async function run(payload: DigestPayload): Promise<void> {
    const { id } = await runner.addJob(DIGEST_TASK, payload, { queueName: DIGEST_QUEUE });
    await waitFor(() => done.has(id), 15_000);
  }

  async function digestUser(settings: object = {}): Promise<User> {
    const u = await ctx.createUser('candidate');
    await ctx.services.preferences.patch(u.id, {
      types: { announcement: { email: 'digest' }, course_update: { email: 'digest' }, session_start: { email: 'digest' } },
      ...settings,
    });
    return u;
  }

  async function notify(
    userId: number,
    n: { title: string; course?: number | null; type?: NotificationType; read?: boolean },
  ): Promise<number> {
    const [[row]] = (await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title, course_id, read_at)
       VALUES (:userId, :type, :title, :course, CASE WHEN :read THEN now() END) RETURNING id`,
      { replacements: { userId, type: n.type ?? 'announcement', title: n.title, course: n.course ?? null, read: n.read ?? false } },
    )) as [Array<{ id: string }>, unknown];
    return Number(row.id);
  }

  const mailsTo = (u: User) => smtp.received.filter((m) => addressOf(m) === u.email);

  test('the runner takes the hourly schedule: minute 0 of every hour, in the digest queue', async () => {
    expect(digestCron).toHaveLength(1);
    expect(digestCron[0]).toMatchObject({ task: DIGEST_TASK, identifier: 'email:digest:hourly', payload: { scope: 'hourly' } });
    const at = (hour: number, min: number) => digestCron[0].match({ min, hour, date: 29, month: 11, dow: 0 });
    expect([at(0, 0), at(7, 0), at(23, 0), at(7, 1), at(7, 30)]).toEqual([true, true, true, false, false]);
    expect(digestCron[0].options.queueName).toBe(DIGEST_QUEUE);
    // A runner takes it (briefly: left running, a real tick could send these tests' users a digest of its own).
    const scheduler = await startJobRunner({
      connection: { connectionString: ctx.dbUrl },
      log: { info: () => undefined },
      tasks: { [DIGEST_TASK]: async () => undefined },
      cron: digestCron,
    });
    try {
      await waitFor(async () => {
        const [rows] = await ctx.sequelize.query(`SELECT 1 FROM graphile_worker._private_known_crontabs WHERE identifier = 'email:digest:hourly'`);
        return rows.length === 1;
      });
    } finally {
      await scheduler.stop();
    }
  });

  test('one email listing everything unread of the digest types, grouped by course; never twice', async () => {
    const alice = await digestUser();
    await notify(alice.id, { title: 'Zoo quiz', course: zoology });
    await notify(alice.id, { title: 'Algebra homework', course: algebra, type: 'course_update' });
    await notify(alice.id, { title: 'Platform news' });
    await notify(alice.id, { title: 'Zoo trip', course: zoology, type: 'session_start' });
    await notify(alice.id, { title: 'Already read', course: algebra, read: true });
    await notify(alice.id, { title: 'A message, not in the digest', type: 'message' });

    await run({ scope: 'all' });
    const [mail, ...more] = mailsTo(alice);
    expect(more).toHaveLength(0);
    expect(mail.subject).toBe('Herald digest: 4 unread notifications');
    expectInOrder(mail, ['Algebra', 'Algebra homework', 'Zoology', 'Zoo trip', 'Zoo quiz', 'General', 'Platform news']);
    const text = String(mail.text);
    expect(text).not.toContain('Already read');
    expect(text).not.toContain('A message');
    const token = /unsubscribe\/([A-Za-z0-9_.-]+)/.exec(text)![1];
    expect(verifyUnsubscribeToken(SITE.secret, token)).toEqual({ userId: alice.id, type: 'digest' });

    const [rows] = (await ctx.sequelize.query(
      `SELECT d.channel, d.status, count(*)::int AS n FROM deliveries d WHERE d.recipient_id = :u GROUP BY 1, 2`,
      { replacements: { u: alice.id } },
    )) as [unknown[], unknown];
    expect(rows).toEqual([{ channel: 'email', status: 'sent', n: 4 }]);
    const [[settings]] = (await ctx.sequelize.query('SELECT last_digest_at FROM notification_settings WHERE user_id = :u', {
      replacements: { u: alice.id },
    })) as [Array<{ last_digest_at: Date | null }>, unknown];
    expect(settings.last_digest_at).not.toBeNull();

    // Again: nothing new, nothing sent. Then only what arrived since.
    smtp.received.length = 0;
    await run({ scope: 'all' });
    expect(mailsTo(alice)).toHaveLength(0);
    await notify(alice.id, { title: 'Room changed', course: zoology });
    await run({ scope: 'all' });
    expect(mailsTo(alice).map((m) => m.subject)).toEqual(['Herald digest: 1 unread notification']);
    expect(String(mailsTo(alice)[0].text)).not.toContain('Zoo quiz');
  });

  test('nothing unread of the digest types: no email at all', async () => {
    const quiet = await digestUser();
    await notify(quiet.id, { title: 'Read already', read: true });
    await notify(quiet.id, { title: 'Not a digest type', type: 'exam_result' });
    const gone = await digestUser();
    await notify(gone.id, { title: 'For a deactivated account' });
    await gone.update({ isActive: false });
    await run({ scope: 'all' });
    expect(mailsTo(quiet)).toHaveLength(0);
    expect(smtp.received).toHaveLength(0);
  });

  test('what was unread before the previous digest, but not then in the digest, is not dug up', async () => {
    const bob = await digestUser();
    await notify(bob.id, { title: 'First' });
    await run({ scope: 'all' });
    expect(mailsTo(bob)).toHaveLength(1);
    // Written while the type was not on digest, well before the previous digest: not "since the previous digest".
    const old = await notify(bob.id, { title: 'Old exam news', type: 'exam_result' });
    await ctx.sequelize.query(`UPDATE notifications SET created_at = now() - interval '3 hours' WHERE id = :old`, { replacements: { old } });
    await ctx.sequelize.query(`UPDATE notification_settings SET last_digest_at = now() - interval '1 hour' WHERE user_id = :u`, {
      replacements: { u: bob.id },
    });
    await ctx.services.preferences.patch(bob.id, { types: { exam_result: { email: 'digest' } } });
    await notify(bob.id, { title: 'Fresh exam news', type: 'exam_result' });
    await run({ scope: 'all' });
    const text = String(mailsTo(bob)[1]?.text);
    expect(text).toContain('Fresh exam news');
    expect(text).not.toContain('Old exam news');
  });

  test('SMTP answering 4xx for one digest: the others are sent and recorded once, that one on the retry', async () => {
    const [ann, ben] = [await digestUser(), await digestUser()];
    await notify(ann.id, { title: 'For Ann' });
    await notify(ben.id, { title: 'For Ben' });
    let refusals = 1;
    smtp.rcpt = (address) => (address === ben.email && refusals-- > 0 ? { code: 451, message: 'Try again later' } : null);
    try {
      const { id } = await runner.addJob(DIGEST_TASK, { scope: 'all' }, { queueName: DIGEST_QUEUE });
      await waitFor(() => done.has(id), 20_000);
      expect(failures).toContain(id);
    } finally {
      smtp.rcpt = () => null;
    }
    expect(mailsTo(ann)).toHaveLength(1);
    expect(mailsTo(ben)).toHaveLength(1);
  });

  test('the hourly run picks the users whose local hour is their digest hour, east and west of UTC', async () => {
    const tokyo = await digestUser({ timezone: 'Asia/Tokyo', digest_hour: 16 }); // UTC+9
    const kolkata = await digestUser({ timezone: 'Asia/Kolkata', digest_hour: 12 }); // UTC+5:30: 12:30 at 07:00Z
    const newYork = await digestUser({ timezone: 'America/New_York', digest_hour: 2 }); // UTC-5 in November
    const utc = await digestUser({ timezone: 'UTC', digest_hour: 8 });
    const laLater = await digestUser({ timezone: 'America/Los_Angeles', digest_hour: 2 }); // UTC-8: 23:00 at 07:00Z
    for (const u of [tokyo, kolkata, newYork, utc, laLater]) await notify(u.id, { title: `For ${u.name}`, course: algebra });

    await run({ scope: 'hourly', _cron: { ts: '2026-11-29T07:00:00.000Z' } });
    const got = (u: User) => mailsTo(u).length;
    expect([tokyo, kolkata, newYork, utc, laLater].map(got)).toEqual([1, 1, 1, 0, 0]);

    await run({ scope: 'hourly', _cron: { ts: '2026-11-29T08:00:00.000Z' } });
    expect([tokyo, kolkata, newYork, utc, laLater].map(got)).toEqual([1, 1, 1, 1, 0]);
    await run({ scope: 'hourly', _cron: { ts: '2026-11-29T10:00:00.000Z' } });
    expect([tokyo, kolkata, newYork, utc, laLater].map(got)).toEqual([1, 1, 1, 1, 1]);

    // The same tick again (a duplicate or a retry): nobody gets a second one.
    await notify(tokyo.id, { title: 'Later that day' });
    await run({ scope: 'hourly', _cron: { ts: '2026-11-29T07:00:00.000Z' } });
    expect(got(tokyo)).toBe(1);
  });

  test('a digest due in quiet hours waits until they end, then goes out', async () => {
    const sleeper = await digestUser({ timezone: 'Pacific/Auckland', quiet_hours: quietHours('Pacific/Auckland', true) });
    const awake = await digestUser({ timezone: 'America/Chicago', quiet_hours: quietHours('America/Chicago', false) });
    await notify(sleeper.id, { title: 'While you sleep' });
    await notify(awake.id, { title: 'While you are up' });

    await run({ scope: 'all' });
    expect(mailsTo(awake)).toHaveLength(1);
    expect(mailsTo(sleeper)).toHaveLength(0);

    const [jobs] = (await ctx.sequelize.query(
      // The public view has no payload; the key says it is a quiet-hours follow-up.
      `SELECT j.id, p.payload, j.run_at, j.queue_name
         FROM graphile_worker.jobs j JOIN graphile_worker._private_jobs p USING (id)
        WHERE j.task_identifier = :task AND j.key LIKE 'email:digest:quiet:%'`,
      { replacements: { task: DIGEST_TASK } },
    )) as [Array<{ id: string; payload: { userIds: number[] }; run_at: Date; queue_name: string }>, unknown];
    expect(jobs).toHaveLength(1);
    expect(jobs[0].payload.userIds).toEqual([sleeper.id]);
    expect(jobs[0].queue_name).toBe(DIGEST_QUEUE);
    const end = quietHours('Pacific/Auckland', true).end;
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Pacific/Auckland', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(local.format(new Date(jobs[0].run_at))).toBe(end);
    expect(new Date(jobs[0].run_at).getTime() - Date.now()).toBeLessThanOrEqual(2 * 3600_000);

    // The hours end: the follow-up finds the sleeper (and only the sleeper).
    await ctx.services.preferences.patch(sleeper.id, { quiet_hours: quietHours('Pacific/Auckland', false) });
    await ctx.sequelize.query('SELECT graphile_worker.reschedule_jobs(ARRAY[CAST(:id AS bigint)], run_at => now())', {
      replacements: { id: jobs[0].id },
    });
    await waitFor(() => done.has(String(jobs[0].id)), 15_000);
    expect(mailsTo(sleeper).map((m) => String(m.text).includes('While you sleep'))).toEqual([true]);
    expect(mailsTo(awake)).toHaveLength(1);
  });
});
