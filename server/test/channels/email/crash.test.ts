/**
 * Runners that share a database: two at once never send a recipient twice, and a runner killed with SIGKILL in
 * the middle of a batch loses nothing: another one frees its job, waits out its leases and finishes the batch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { QueryTypes } from 'sequelize';
import { createMailer, emailTasks, IMMEDIATE_TASK, type Mailer } from '../../../channels/email';
import { startProcessRunner, WorkerLiveness, type JobRunner } from '../../../jobs';
import type { User } from '../../../models';
import { waitFor } from '../../support/wait';
import { createTestContext, type TestContext } from '../../support/harness';
import { startSmtpSink, type SmtpSink } from '../../support/smtp-sink';
import { withContent } from '../../support/content';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const SITE = { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' };
const to = (m: ParsedMail) => (Array.isArray(m.to) ? '' : (m.to?.value[0].address ?? ''));

let ctx: TestContext;
let teacher: User;
const cleanup: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  ctx = await createTestContext();
  teacher = await ctx.createUser('instructor');
  // Everyone gets announcements by email at once (the type's default), so the batches below are all email.
  await ctx.sequelize.query("UPDATE notification_type_defaults SET email = 'immediate' WHERE type = 'announcement'");
});
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  await ctx.close();
});

async function courseWithStudents(n: number, tag: string) {
  const course = await ctx.models.Course.create({ title: `Crash ${tag}`, instructorId: teacher.id });
  await ctx.sequelize.query(
    `WITH s AS (
       INSERT INTO users (email, name, role, password_hash)
       SELECT 'crash-' || :tag || '-' || i || '@test.example', 'Student ' || i, 'candidate', 'x' FROM generate_series(1, :n) AS i
       RETURNING id)
     INSERT INTO enrollments (course_id, student_id) SELECT :courseId, id FROM s`,
    { replacements: { n, tag, courseId: course.id } },
  );
  return course;
}

function fanOut(courseId: number, title: string) {
  return ctx.services.notifications.fanOut(
    { kind: 'course', courseId },
    { type: 'announcement', title, message: 'body', senderId: teacher.id, courseId },
  );
}

async function runner(smtpUrl: string, opts: { recovery?: { intervalMs: number; staleAfterSeconds: number } } = {}) {
  const mailer: Mailer = createMailer({ smtpUrl, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' });
  const r: JobRunner = await startProcessRunner({
    databaseUrl: ctx.dbUrl,
    log: { info: () => undefined },
    tasks: emailTasks({ sequelize: ctx.sequelize, mailer, site: SITE, chunkSize: 5, leaseSeconds: 3 }),
    pollInterval: 200,
    recovery: opts.recovery,
  });
  const completed: string[] = [];
  r.runner.events.on('job:success', ({ job }) => completed.push(job.task_identifier));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= r.stop().then(() => mailer.close()));
  cleanup.push(stop);
  return { runner: r, completed, stop };
}

/** How many emails each (recipient, subject) got. */
function copies(received: ParsedMail[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const mail of received) m.set(`${to(mail)}|${mail.subject}`, (m.get(`${to(mail)}|${mail.subject}`) ?? 0) + 1);
  return m;
}

async function sentCount(title: string) {
  const [row] = await ctx.sequelize.query<{ sent: string; total: string }>(
    `SELECT count(*) FILTER (WHERE d.status = 'sent') AS sent, count(n.id) AS total
       FROM ${withContent('n')} LEFT JOIN deliveries d ON d.notification_id = n.id AND d.channel = 'email'
      WHERE n.title = :title`,
    { replacements: { title }, type: QueryTypes.SELECT },
  );
  return { sent: Number(row.sent), total: Number(row.total) };
}

test('two runners on one database, duplicate jobs for the same batches: every recipient gets one email', async () => {
  const smtp = await startSmtpSink();
  cleanup.push(() => smtp.close());
  const a = await runner(smtp.url);
  const b = await runner(smtp.url);
  const course = await courseWithStudents(25, 'two');
  const titles = ['Two runners 1', 'Two runners 2', 'Two runners 3', 'Two runners 4'];
  for (const title of titles) {
    const { batchId } = await fanOut(course.id, title);
    // A second job for the same batch, unkeyed, so both runners can work on one batch at the same time.
    await b.runner.addJob(IMMEDIATE_TASK, { batchId });
  }
  await waitFor(() => smtp.received.length >= 100, 30_000);
  await waitFor(() => a.completed.length + b.completed.length >= 8, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  expect(smtp.received).toHaveLength(100);
  expect([...copies(smtp.received).values()].every((n) => n === 1)).toBe(true);
  for (const title of titles) expect(await sentCount(title)).toEqual({ sent: 25, total: 25 });
  await Promise.all([a.stop(), b.stop()]); // the next test's jobs are for its own runners only
});

test('kill -9 mid-batch: a second runner finishes it; at most the one message in flight goes out twice', async () => {
  const smtp = await startSmtpSink({ delayMs: 40 }); // slow, so the kill lands mid-batch
  cleanup.push(() => smtp.close());
  const child = await spawnRunner(smtp.url);
  const course = await courseWithStudents(60, 'kill');
  await fanOut(course.id, 'Before the crash');

  await waitFor(() => smtp.received.length >= 10, 20_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const atKill = smtp.received.length;
  expect(atKill).toBeLessThan(60); // it did die mid-batch

  // The survivor frees the dead worker's job (its liveness lock is gone) and waits out the 3 s leases.
  const survivor = await runner(smtp.url, { recovery: { intervalMs: 300, staleAfterSeconds: 1 } });
  await waitFor(async () => (await sentCount('Before the crash')).sent === 60, 30_000);
  await new Promise((r) => setTimeout(r, 500));

  const perRecipient = copies(smtp.received);
  expect(perRecipient.size).toBe(60); // nobody lost
  const twice = [...perRecipient.entries()].filter(([, n]) => n > 1);
  // The child sends one message at a time: only the one the server accepted just before the kill, before its
  // UPDATE committed, can go out again, and it carries the same Message-ID.
  expect(twice.length).toBeLessThanOrEqual(1);
  expect([...perRecipient.values()].every((n) => n <= 2)).toBe(true);
  for (const [key] of twice) {
    const ids = smtp.received.filter((m) => `${to(m)}|${m.subject}` === key).map((m) => m.messageId);
    expect(new Set(ids).size).toBe(1);
  }
  const [jobs] = await ctx.sequelize.query<{ n: string }>(
    "SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'email:immediate' AND attempts >= max_attempts",
    { type: QueryTypes.SELECT },
  );
  expect(Number(jobs.n)).toBe(0);
  await survivor.stop();
});

test("a live runner's job is never taken for a dead one's, however long it runs", async () => {
  const smtp = await startSmtpSink({ delayMs: 1_500 }); // 5 connections at a time: 20 messages take 6 s
  cleanup.push(() => smtp.close());
  const live = await runner(smtp.url);
  const course = await courseWithStudents(20, 'alive');
  await fanOut(course.id, 'Still running');
  await waitFor(() => smtp.received.length >= 1, 10_000);
  await new Promise((r) => setTimeout(r, 300)); // now locked for more than a second

  const watcher = await WorkerLiveness.open({ connectionString: ctx.dbUrl }, { info: () => undefined }, { staleAfterSeconds: 1 });
  try {
    const [locked] = await ctx.sequelize.query<{ n: string }>(
      "SELECT count(*) AS n FROM graphile_worker.jobs WHERE locked_by IS NOT NULL AND locked_at < now() - interval '1 second'",
      { type: QueryTypes.SELECT },
    );
    expect(Number(locked.n)).toBe(1);
    expect(await watcher.recover()).toEqual([]);
  } finally {
    await watcher.close();
  }
  await waitFor(async () => (await sentCount('Still running')).sent === 20, 20_000);
  expect([...copies(smtp.received).values()].every((n) => n === 1)).toBe(true);
  await live.stop();
});

async function spawnRunner(smtpUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/test/channels/email/runner-child.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: ctx.dbUrl, SMTP_URL: smtpUrl, LEASE_SECONDS: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`runner child exited with ${code}: ${err}`)));
  });
  return child;
}
