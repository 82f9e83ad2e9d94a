/**
 * JOB_WORKERS=1 with WEB_CONCURRENCY=1, as production runs it (server/main.ts through tsx, real PostgreSQL, a
 * local https push service): a primary, one serving process and one job process. The job runner runs in the job
 * process only (the runners' connections, named `herald-jobs:<pid>`, come from that process alone; graphile-worker's
 * "Completed task" line comes from its pid), a decision's push is sent and recorded once, a kill -9 of the job
 * process between a push's two attempts is replaced and the push still completes once, and SIGTERM stops the
 * serving process before the job process, which first lets its running job finish. JOB_NICE lowers the job
 * process's priority, not the serving one's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { PreferenceService } from '../../services/preferences';
import { createTestContext, type TestContext } from '../support/harness';
import { startPushService, type FakeBrowser, type PushService, type ScriptedAnswer } from '../support/push-service';
import { api, login } from '../support/realtime';
import { spawnServer, until, type ServerProcess } from '../resilience/support/processes';

let ctx: TestContext;
let service: PushService;
let server: ServerProcess;
let teacher: User;
let teacherSession: { cookie: string; csrf: string };
let caDir: string;

beforeAll(async () => {
  // A database and services for fixtures only (no runner in this process); loopback push endpoints allowed.
  ctx = await createTestContext({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  service = await startPushService({ vapidPublicKey: async () => (await ctx.services.vapid.get()).publicKey });
  caDir = mkdtempSync(path.join(tmpdir(), 'herald-jobproc-'));
  writeFileSync(path.join(caDir, 'ca.pem'), service.ca);
  server = await spawnServer({
    databaseUrl: ctx.dbUrl,
    env: {
      JOB_WORKERS: '1',
      // graphile-worker logs each completed job at info, with the pid of the process that ran it.
      LOG_LEVEL: 'info',
      OUTBOUND_ALLOW_PRIVATE: 'true',
      NODE_EXTRA_CA_CERTS: path.join(caDir, 'ca.pem'),
      JOB_STALE_SECONDS: '1',
      JOB_NICE: '5',
    },
  });
  teacher = await ctx.createUser('instructor');
  teacherSession = await login(server.url, teacher);
}, 60_000);

afterAll(async () => {
  await server?.kill('SIGKILL');
  await service?.close();
  await ctx?.close();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

/** The server's JSON log lines (the primary's and its workers', which share its stdout). */
function logLines(): Array<Record<string, unknown>> {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** The pids the primary started with this role, oldest first (from its "started a ... process" lines). */
const started = (role: 'web' | 'jobs') => logLines().filter((l) => l.role === role && typeof l.workerPid === 'number').map((l) => l.workerPid as number);

/** The pids of the processes whose runner is connected to this database right now. */
async function runnerPids(): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ name: string }>(
    `SELECT DISTINCT application_name AS name FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE 'herald-jobs:%'`,
    { type: QueryTypes.SELECT },
  );
  return rows.map((r) => Number(r.name.split(':')[1])).sort((a, b) => a - b);
}

/** The pids that logged graphile-worker's "Completed task <id> (push:...)" line. */
const completedBy = () =>
  logLines()
    .filter((l) => typeof l.msg === 'string' && /^Completed task \d+ \(push:/.test(l.msg))
    .map((l) => l.pid as number);

/** A candidate with decisions pushed and one device at the local push service (answering `answers` first); the
 * instructor approves their application through the serving process. */
async function approvedWithDevice(...answers: ScriptedAnswer[]): Promise<{ browser: FakeBrowser; notificationId: number }> {
  const user = await ctx.createUser('candidate');
  await new PreferenceService({ sequelize: ctx.sequelize }).patch(user.id, { types: { application_approved: { push: true } } });
  const browser = service.subscribe();
  if (answers.length) service.script(browser.endpoint, ...answers);
  await ctx.services.pushSubscriptions.save(user.id, browser.json);
  const course = await ctx.createCourse(teacher);
  const application = await ctx.models.Application.create({ courseId: course.id, candidateId: user.id, motivation: 'Keen' });
  const res = await api(server.url, teacherSession, 'POST', `/api/applications/${application.id}/approve/`);
  expect(res.status).toBe(200);
  const [row] = await ctx.sequelize.query<{ id: string }>(
    "SELECT id FROM notifications WHERE recipient_id = :u AND type = 'application_approved'",
    { replacements: { u: user.id }, type: QueryTypes.SELECT },
  );
  return { browser, notificationId: Number(row.id) };
}

async function pushRows(notificationId: number) {
  return ctx.sequelize.query<{ status: string }>("SELECT status FROM deliveries WHERE notification_id = :id AND channel = 'push'", {
    replacements: { id: notificationId },
    type: QueryTypes.SELECT,
  });
}

test('the job process runs the runner, the serving process none; a push is sent and recorded once, by the job process', async () => {
  const [web] = started('web');
  const [jobs] = await until('the job process to start', async () => started('jobs').length > 0 && started('jobs'));
  expect(web).toBeDefined();
  expect(jobs).not.toBe(web);
  // JOB_NICE lowers the job process only: the serving process keeps the scheduler's first call on the CPU.
  expect([os.getPriority(web), os.getPriority(jobs)]).toEqual([os.getPriority(), 5]);
  // Only the job process's runner is connected; a runner in the serving process would show its pid here.
  expect(await until('the job runner to connect', async () => (await runnerPids()).length > 0 && runnerPids())).toEqual([jobs]);

  const { browser, notificationId } = await approvedWithDevice();
  await until('the push to be recorded sent', async () => (await pushRows(notificationId))[0]?.status === 'sent');
  expect(await pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  const received = service.received.filter((r) => r.endpoint === browser.endpoint);
  expect(received.map((r) => [r.status, (r.payload as { type: string }).type])).toEqual([[201, 'application_approved']]);
  expect(service.rejected).toEqual([]);
  await until('the completion to be logged', async () => completedBy().length > 0);
  expect(new Set(completedBy())).toEqual(new Set([jobs]));
  expect(await runnerPids()).toEqual([jobs]); // still no runner anywhere else
});

test('kill -9 of the job process between a push’s attempts: a new job process takes over, the push completes once', async () => {
  const [first] = started('jobs');
  // The first attempt is told to come back in 3 s: the row waits, held, with a keyed follow-up job in the queue.
  const { browser, notificationId } = await approvedWithDevice({ status: 429, headers: { 'Retry-After': '3' } });
  await until('the first attempt (429)', async () => service.received.some((r) => r.endpoint === browser.endpoint));
  expect((await pushRows(notificationId)).map((r) => r.status)).toEqual(['pending']);
  const completedBefore = completedBy().length;

  process.kill(first, 'SIGKILL');
  const second = await until('a new job process', async () => started('jobs').find((p) => p !== first), 20_000);
  expect(await until('its runner to connect', async () => (await runnerPids()).includes(second) && runnerPids())).toEqual([second]);

  await until('the push to be recorded sent', async () => (await pushRows(notificationId))[0]?.status === 'sent', 20_000);
  expect(await pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  expect(service.received.filter((r) => r.endpoint === browser.endpoint).map((r) => r.status)).toEqual([429, 201]);
  expect(service.rejected).toEqual([]);
  // The follow-up ran in the new job process; the serving process still runs no runner.
  await until('the follow-up completion to be logged', async () => completedBy().length > completedBefore);
  expect(new Set(completedBy().slice(completedBefore))).toEqual(new Set([second]));
  expect(await runnerPids()).toEqual([second]);
});

test('SIGTERM to the primary while a push is in flight: the serving process stops first, the running job finishes, then the job process and the primary stop cleanly', async () => {
  const [jobs] = started('jobs').slice(-1);
  const { browser, notificationId } = await approvedWithDevice({ status: 201, delayMs: 1_500 });
  await until('the push to be in flight', async () => service.received.some((r) => r.endpoint === browser.endpoint));
  expect((await pushRows(notificationId)).map((r) => r.status)).toEqual(['pending']);
  server.child.kill('SIGTERM');
  await server.exited;
  expect(server.child.exitCode).toBe(0);
  // The job that was running when the signal came finished and recorded its push before its process left.
  expect(await pushRows(notificationId)).toEqual([{ status: 'sent' }]);
  expect(completedBy().at(-1)).toBe(jobs);
  const byes = logLines().filter((l) => l.msg === 'bye');
  expect(byes.map((l) => l.role ?? 'primary')).toEqual(['web', 'jobs', 'primary']);
  expect(await runnerPids()).toEqual([]);
});
