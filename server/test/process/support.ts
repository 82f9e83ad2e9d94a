import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import type { User } from '../../models';
import { PreferenceService } from '../../services/preferences';
import { createTestContext, type TestContext } from '../support/harness';
import { startPushService, type FakeBrowser, type PushService, type ScriptedAnswer } from '../support/push-service';
import { api, login } from '../support/realtime';
import { spawnServer, type ServerProcess } from '../resilience/support/processes';

/**
 * A real Herald with job processes of their own (server/main.ts through tsx, JOB_WORKERS), a local https push
 * service it trusts, and what the tests read it by: the primary's log (which pid has which role, which pid
 * completed which job) and pg_stat_activity (which pids hold a job runner).
 */
export interface JobWorld {
  ctx: TestContext;
  service: PushService;
  server: ServerProcess;
  /** The pids the primary started with this role, oldest first (from its "started a ... process" lines). */
  started(role: 'web' | 'jobs'): number[];
  /** The pids that logged graphile-worker's "Completed task <id> (push:...)" line, in order. */
  completedBy(): number[];
  /** The server's JSON log lines (the primary's and its workers', which share its stdout). */
  logLines(): Array<Record<string, unknown>>;
  /** The pids of the processes whose runner is connected to this database right now. */
  runnerPids(): Promise<number[]>;
  /** A candidate with decisions pushed and one device (answering `answers` first), approved through the server. */
  approvedWithDevice(...answers: ScriptedAnswer[]): Promise<{ browser: FakeBrowser; notificationId: number }>;
  pushRows(notificationId: number): Promise<Array<{ status: string }>>;
  close(): Promise<void>;
}

export async function startJobWorld(env: Record<string, string>, opts: { readyTimeoutMs?: number } = {}): Promise<JobWorld> {
  // A database and services for fixtures only (no runner in this process); loopback push endpoints allowed.
  const ctx = await createTestContext({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  const service = await startPushService({ vapidPublicKey: async () => (await ctx.services.vapid.get()).publicKey });
  const caDir = mkdtempSync(path.join(tmpdir(), 'herald-jobproc-'));
  writeFileSync(path.join(caDir, 'ca.pem'), service.ca);
  const server = await spawnServer({
    databaseUrl: ctx.dbUrl,
    readyTimeoutMs: opts.readyTimeoutMs,
    env: {
      // graphile-worker logs each completed job at info, with the pid of the process that ran it.
      LOG_LEVEL: 'info',
      OUTBOUND_ALLOW_PRIVATE: 'true',
      NODE_EXTRA_CA_CERTS: path.join(caDir, 'ca.pem'),
      ...env,
    },
  });
  const teacher = await ctx.createUser('instructor');
  const teacherSession = await login(server.url, teacher);

  const logLines = () =>
    server
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
  const pushRows = (notificationId: number) =>
    ctx.sequelize.query<{ status: string }>("SELECT status FROM deliveries WHERE notification_id = :id AND channel = 'push'", {
      replacements: { id: notificationId },
      type: QueryTypes.SELECT,
    });

  return {
    ctx,
    service,
    server,
    logLines,
    pushRows,
    started: (role) => logLines().filter((l) => l.role === role && typeof l.workerPid === 'number').map((l) => l.workerPid as number),
    completedBy: () =>
      logLines()
        .filter((l) => typeof l.msg === 'string' && /^Completed task \d+ \(push:/.test(l.msg))
        .map((l) => l.pid as number),
    async runnerPids() {
      const rows = await ctx.sequelize.query<{ name: string }>(
        `SELECT DISTINCT application_name AS name FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'herald-jobs:%'`,
        { type: QueryTypes.SELECT },
      );
      return rows.map((r) => Number(r.name.split(':')[1])).sort((a, b) => a - b);
    },
    async approvedWithDevice(...answers) {
      const user: User = await ctx.createUser('candidate');
      await new PreferenceService({ sequelize: ctx.sequelize }).patch(user.id, { types: { application_approved: { push: true } } });
      const browser = service.subscribe();
      if (answers.length) service.script(browser.endpoint, ...answers);
      await ctx.services.pushSubscriptions.save(user.id, browser.json);
      const course = await ctx.createCourse(teacher);
      const application = await ctx.models.Application.create({ courseId: course.id, candidateId: user.id, motivation: 'Keen' });
      const res = await api(server.url, teacherSession, 'POST', `/api/applications/${application.id}/approve/`);
      if (res.status !== 200) throw new Error(`approve answered ${res.status}`);
      const [row] = await ctx.sequelize.query<{ id: string }>(
        "SELECT id FROM notifications WHERE recipient_id = :u AND type = 'application_approved'",
        { replacements: { u: user.id }, type: QueryTypes.SELECT },
      );
      return { browser, notificationId: Number(row.id) };
    },
    async close() {
      await server.kill('SIGKILL');
      await service.close();
      await ctx.close();
      rmSync(caDir, { recursive: true, force: true });
    },
  };
}
