/**
 * Benchmark (issue 12): N escalation emails to a local SMTP sink. N students of one course are on
 * `email: "unread"` for the bench's type (one INSERT ... SELECT of override rows); the instructor notifies the
 * course once; EMAIL_UNREAD_DELAY_SECONDS later the batch's one escalation job picks every still-unread
 * recipient and sends. Measured: from the job's due time to the Nth message accepted by the sink, the rate, the
 * server's RSS over the run (VmRSS from /proc/<pid>/status), and that every delivery row ends `sent` with the
 * sink holding each message exactly once. No sockets are open: nobody reads, so every recipient is mailed.
 *
 *   npm run bench:email -- [--students 10000] [--delay 1] [--profile]
 *
 * `--profile` writes V8 CPU profiles of the server under bench/tmp/ and adds their summary (where the CPU per
 * message goes) to the result.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { FANOUT_TYPE } from './lib/fanout-once';
import { agent, expectStatus, request } from './lib/http';
import { log, nowMs, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse } from './lib/seed';
import { summarizeProfiles } from './lib/profile';
import { benchSecret, cpuMs, ROOT, SERVER_SESSION, startServer } from './lib/server';
import { startSmtpSink } from './lib/smtp-sink';
import { round } from './lib/stats';
import { setStudentsEmail } from './fanout';

export interface EmailOptions {
  students: number;
  /** EMAIL_UNREAD_DELAY_SECONDS for the server. */
  delaySeconds: number;
  /** Give up waiting for the sink after this long. */
  timeoutMs?: number;
  /** V8 CPU profiles of the server, summarised into the result. */
  profile?: boolean;
  target?: PgTarget;
}

const TARGET_PER_SECOND = 300;
const SAMPLE_MS = 250;

/** Resident memory of a process in KiB, from /proc/<pid>/status (VmRSS); 0 once it is gone. */
function vmRssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The escalation job's due time as the queue holds it (read while it waits for its delay). */
async function escalationDueAt(db: Client): Promise<Date | null> {
  const { rows } = await db.query<{ run_at: Date }>(
    `SELECT j.run_at FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'email:escalate' ORDER BY j.id LIMIT 1`,
  );
  return rows[0]?.run_at ?? null;
}

export async function runEmail(o: EmailOptions) {
  return withBenchDatabase('herald_bench_email', o.target, async (url, target) => {
    const env = environment();
    const secret = benchSecret();
    const seeded = await seedCourse(url, { students: o.students, secret, ...SERVER_SESSION });
    await setStudentsEmail(url, [seeded.courseId], 'unread');
    log(`${o.students} students on email: "unread" for ${FANOUT_TYPE}`);
    const sink = await startSmtpSink();
    const profileDir = o.profile ? mkdtempSync(path.join(ROOT, 'bench', 'tmp', 'email-prof-')) : undefined;
    const server = await startServer({
      databaseUrl: url,
      secret,
      cpuProfileDir: profileDir,
      env: { SMTP_URL: sink.url, MAIL_FROM: 'Herald bench <bench@herald.test>', EMAIL_UNREAD_DELAY_SECONDS: String(o.delaySeconds) },
    });
    const db = new Client({ connectionString: url, application_name: 'herald-bench-email' });
    await db.connect();
    const a = agent(1);
    const rss: Array<{ t_ms: number; rss_kib: number }> = [];
    let result: Record<string, unknown> & { targets: object };
    let sampler: NodeJS.Timeout | undefined;
    try {
      const t0 = nowMs();
      const sample = () => rss.push({ t_ms: round(nowMs() - t0), rss_kib: server.pids().reduce((s, p) => s + vmRssKiB(p), 0) });
      sample();
      sampler = setInterval(sample, SAMPLE_MS);
      const cpu0 = cpuMs(server.pids());
      const res = await request(server.origin, 'POST', `/api/courses/${seeded.courseId}/notify-students/`, {
        agent: a,
        cookie: seeded.instructor.cookie,
        csrf: seeded.instructor.csrf_token,
        json: { notification_type: FANOUT_TYPE, title: 'Bench escalation', message: 'Seeded by the email benchmark.' },
      });
      expectStatus(res, [201], 'notify-students');
      const postedAt = nowMs();
      const due = await escalationDueAt(db);
      if (!due) throw new Error('no escalation job was enqueued (already run, or the preferences did not apply)');
      const dueMs = due.getTime();
      log(`POST ${round(res.ms)} ms; escalation due in ${round(dueMs - postedAt)} ms`);

      const deadline = nowMs() + (o.timeoutMs ?? 180_000);
      let lastLogged = 0;
      while (sink.count() < o.students && nowMs() < deadline) {
        await sleep(100);
        if (nowMs() - lastLogged > 5000) {
          lastLogged = nowMs();
          log(`  ${sink.count()} / ${o.students} accepted`);
        }
      }
      const accepted = sink.count();
      const first = sink.acceptedAt[0] ?? NaN;
      const lastAt = sink.acceptedAt[sink.acceptedAt.length - 1] ?? NaN;
      // The last UPDATE to `sent` follows the last acceptance by a round trip: wait for the rows to settle.
      let statuses: Record<string, number> = {};
      for (let i = 0; i < 50; i++) {
        const { rows } = await db.query<{ status: string; n: string }>(
          `SELECT status, count(*) AS n FROM deliveries WHERE channel = 'email' GROUP BY status`,
        );
        statuses = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
        if ((statuses.sent ?? 0) >= accepted && !statuses.pending) break;
        await sleep(200);
      }
      const serverCpuMs = cpuMs(server.pids()) - cpu0;
      // A few more seconds of samples: memory after the batch, not only during it.
      await sleep(3000);
      clearInterval(sampler);
      sampler = undefined;
      sample();

      const { rows: att } = await db.query<{ attempts: number; n: string }>(
        `SELECT attempts, count(*) AS n FROM deliveries WHERE channel = 'email' GROUP BY attempts ORDER BY attempts`,
      );
      const duplicates = [...sink.messageIds.values()].filter((n) => n > 1).length;
      const seconds = (lastAt - dueMs) / 1000;
      const rate = accepted / seconds;
      const duringRun = rss.filter((s) => s.t_ms >= dueMs - t0 && s.t_ms <= lastAt - t0 + SAMPLE_MS);
      const rssBefore = rss.filter((s) => s.t_ms <= dueMs - t0).at(-1)?.rss_kib ?? rss[0].rss_kib;
      const rssMax = Math.max(...rss.map((s) => s.rss_kib));
      const rssEnd = rss[rss.length - 1].rss_kib;
      const exactlyOnce =
        accepted === o.students &&
        sink.messageIds.size === o.students &&
        duplicates === 0 &&
        statuses.sent === o.students &&
        Object.keys(statuses).length === 1;
      log(
        `${accepted}/${o.students} accepted, ${round(seconds, 2)} s from due time to the last (${round(rate, 1)}/s; ` +
          `first ${round(first - dueMs)} ms after due); deliveries ${JSON.stringify(statuses)}; ${duplicates} duplicates; ` +
          `RSS ${Math.round(rssBefore / 1024)} -> max ${Math.round(rssMax / 1024)} -> ${Math.round(rssEnd / 1024)} MiB`,
      );
      result = {
        benchmark: 'email',
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        method:
          `${o.students} enrolled students, every one overridden to email: "unread" for ${FANOUT_TYPE} (one INSERT ... ` +
          `SELECT), no sockets open. A local SMTP sink (smtp-server on loopback, no TLS, no auth) accepts and ` +
          `discards each message, keeping its acceptance time and Message-ID. The server runs with SMTP_URL at the ` +
          `sink and EMAIL_UNREAD_DELAY_SECONDS=${o.delaySeconds}; the instructor notifies the course once. Time runs ` +
          `from the escalation job's run_at (read from graphile-worker's jobs table) to the ${o.students}th ` +
          `acceptance. RSS is the server's VmRSS summed over its Node processes, sampled every ${SAMPLE_MS} ms from ` +
          `before the POST to 3 s after the last delivery settled. Server CPU is utime+stime over the same span.`,
        students: o.students,
        delay_seconds: o.delaySeconds,
        post_ms: round(res.ms),
        accepted,
        first_accept_after_due_ms: round(first - dueMs),
        due_to_last_accept_s: round(seconds, 3),
        messages_per_second: round(rate, 1),
        server_cpu_ms: serverCpuMs,
        server_cpu_us_per_message: round((serverCpuMs * 1000) / Math.max(1, accepted), 1),
        deliveries_by_status: statuses,
        deliveries_by_attempts: Object.fromEntries(att.map((r) => [String(r.attempts), Number(r.n)])),
        sink_distinct_message_ids: sink.messageIds.size,
        sink_duplicates: duplicates,
        every_delivery_sent_exactly_once: exactlyOnce,
        rss_kib: {
          before_due: rssBefore,
          max: rssMax,
          max_during_send: duringRun.length ? Math.max(...duringRun.map((s) => s.rss_kib)) : null,
          end: rssEnd,
          samples: rss,
        },
        targets: {
          email_per_second: { target: `>= ${TARGET_PER_SECOND}`, measured: round(rate, 1), met: rate >= TARGET_PER_SECOND && exactlyOnce },
        },
      };
    } finally {
      if (sampler) clearInterval(sampler);
      a.destroy();
      await server.stop();
      await db.end();
      await sink.close();
    }
    if (profileDir) {
      // Written by the server on exit, so only now; it covers boot and the fan-out too, the sends dominate.
      const cpu = summarizeProfiles(profileDir);
      rmSync(profileDir, { recursive: true, force: true });
      log(`CPU by owner: ${cpu.by_owner.slice(0, 8).map((x) => `${x.name} ${x.share_pct}%`).join(', ')}`);
      return { ...result, cpu_profile: cpu };
    }
    return result;
  });
}

if (require.main === module) {
  const args = parseArgs();
  runEmail({ students: intArg(args, 'students', 10_000), delaySeconds: intArg(args, 'delay', 1), profile: args.has('profile') })
    .then((r) => log(`wrote ${writeResult('email', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
