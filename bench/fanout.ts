/**
 * Benchmark 1: an instructor notifies a course of N enrolled, connected students; time from the POST to the
 * last student's frame, and server CPU per delivered message.
 *
 *   npm run bench:fanout -- [--sizes 1000,10000] [--runs 7] [--web-concurrency 1] [--email unread|off]
 *                           [--platform-users 1000000]
 *
 * `--email unread` (issue 12) stores every student's preference for the bench's type as email when unread, so
 * the fan-out statement also reads it and enqueues the batch's escalation job; `--email off` stores the same
 * number of override rows saying off, the fair baseline. Without the option no preference row exists. The
 * escalation is due EMAIL_UNREAD_DELAY_SECONDS (600 s by default) later, after the runs: only the in-app path
 * is timed. Results go to results/fanout-email-<mode>.json then, so the plain fan-out's file is left alone.
 *
 * `--platform-users N` adds N users who are in no course (set-based, split evenly among the courses), with each
 * course's students spread through them, so the course is a slice of a large platform as on a real one: the planner
 * then weighs looking the students up against scanning every user. Results go to results/fanout-platform-<N>.json.
 */
import { Client } from 'pg';
import { intArg, intList, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { FANOUT_TYPE, fanOutOnce, type FanOutRun } from './lib/fanout-once';
import { agent } from './lib/http';
import { log } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse } from './lib/seed';
import { benchSecret, SERVER_SESSION, startServer } from './lib/server';
import { percentile, round } from './lib/stats';
import { WsFleet } from './lib/ws-fleet';

export interface FanoutOptions {
  sizes: number[];
  runs: number;
  warmup: number;
  webConcurrency: number;
  target?: PgTarget;
  /** Every student's email preference for the bench's type, stored as an override row; none when absent. */
  email?: EmailMode;
  /** Users in no course, added after the courses (a large platform); none when absent. */
  platformUsers?: number;
}

export type EmailMode = 'unread' | 'off';

/** One INSERT ... SELECT over the courses' enrollments: 10,000 override rows in a few tens of ms. */
export async function setStudentsEmail(url: string, courseIds: number[], mode: EmailMode): Promise<number> {
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  try {
    const res = await db.query(
      `INSERT INTO notification_preferences (user_id, type, email)
       SELECT DISTINCT e.student_id, $2, $3 FROM enrollments e WHERE e.course_id = ANY($1::int[])
       ON CONFLICT (user_id, type) DO UPDATE SET email = EXCLUDED.email, updated_at = now()`,
      [courseIds, FANOUT_TYPE, mode],
    );
    await db.query('ANALYZE notification_preferences');
    return res.rowCount ?? 0;
  } finally {
    await db.end();
  }
}

const TARGET_P50_MS: Record<number, number> = { 1000: 100, 10000: 600 };

export async function runFanout(o: FanoutOptions) {
  return withBenchDatabase('herald_bench_fanout', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    const secret = benchSecret();
    const courses = [];
    const among = o.platformUsers ? Math.floor(o.platformUsers / o.sizes.length) : undefined;
    for (const n of o.sizes) courses.push(await seedCourse(url, { students: n, among, secret, ...SERVER_SESSION }));
    if (o.email) {
      const rows = await setStudentsEmail(url, courses.map((c) => c.courseId), o.email);
      log(`${rows} students set to email: "${o.email}" for ${FANOUT_TYPE}`);
    }
    const server = await startServer({ databaseUrl: url, secret, webConcurrency: o.webConcurrency });
    const a = agent(1);
    const bySize: Record<string, unknown> = {};
    const targets: Record<string, unknown> = {};
    try {
      for (const [k, n] of o.sizes.entries()) {
        const seeded = courses[k];
        // Two client processes from 5,000 sockets on, so parsing frames is not one core's queue.
        const { fleet, reports } = await WsFleet.open({
          url: `ws://127.0.0.1:${server.port}/ws/notifications`,
          origin: server.origin,
          cookies: seeded.studentCookies,
          workers: n >= 5000 ? 2 : 1,
          timeoutMs: 120_000,
        });
        try {
          const established = reports.reduce((s, r) => s + r.established, 0);
          const errors = reports.flatMap((r) => r.errors);
          log(`N=${n}: ${established} sockets established${errors.length ? `; errors: ${errors.join(' | ')}` : ''}`);
          const runs: FanOutRun[] = [];
          for (let i = 0; i < o.warmup + o.runs; i++) {
            const run = await fanOutOnce({ server, fleet, agent: a, instructor: seeded.instructor, timeoutMs: 30_000 });
            if (i >= o.warmup) runs.push(run);
            log(
              `N=${n} ${i < o.warmup ? 'warm-up' : `run ${i - o.warmup + 1}`}: last frame ${run.last_frame_ms} ms ` +
                `(POST ${run.post_ms} ms), ${run.delivered}/${run.expected} delivered, server CPU ${run.server_cpu_ms} ms`,
            );
          }
          const delivered = runs.reduce((s, r) => s + r.delivered, 0);
          const cpu = runs.reduce((s, r) => s + r.server_cpu_ms, 0);
          const pgCpu = runs.reduce((s, r) => s + r.postgres_cpu_ms, 0);
          const last = runs.map((r) => r.last_frame_ms);
          const summaryN = {
            students: n,
            established,
            open_errors: errors,
            last_frame_ms: { p50: percentile(last, 50), min: Math.min(...last), max: Math.max(...last) },
            median_frame_ms_p50: percentile(runs.map((r) => r.median_frame_ms), 50),
            post_ms_p50: percentile(runs.map((r) => r.post_ms), 50),
            all_delivered: runs.every((r) => r.delivered === r.expected && r.expected === n),
            server_cpu_us_per_message: round((cpu * 1000) / Math.max(1, delivered), 1),
            postgres_cpu_us_per_message: round((pgCpu * 1000) / Math.max(1, delivered), 1),
            runs,
          };
          bySize[String(n)] = summaryN;
          const t = TARGET_P50_MS[n];
          if (t !== undefined) {
            targets[`fanout_${n}_p50_ms`] = {
              target: `< ${t}`,
              measured: summaryN.last_frame_ms.p50,
              met: summaryN.last_frame_ms.p50 < t && summaryN.all_delivered,
            };
          }
        } finally {
          await fleet.close();
        }
      }
    } finally {
      a.destroy();
      await server.stop();
    }
    return {
      benchmark: 'fanout',
      environment: env,
      database: { kind: target.kind, settings: await serverSettings(url) },
      bus: process.env.REDIS_URL ? 'redis' : 'postgres LISTEN/NOTIFY',
      email: o.email,
      platform_users: o.platformUsers ?? 0,
      email_preference: o.email ? `every student overridden to email: "${o.email}"` : 'no preference rows (type default: off)',
      method:
        `Server with WEB_CONCURRENCY=${o.webConcurrency}. N students of one course hold authenticated sockets ` +
        `(/ws/notifications, opened by separate load-generator processes)` +
        (o.platformUsers ? `, on a platform of ${o.platformUsers} more users in no course` : '') +
        `. The instructor POSTs notify-students; ` +
        `the time runs from sending the POST to the arrival of the last student's frame (all clocks on this machine). ` +
        `${o.warmup} warm-up runs, then ${o.runs} measured; p50 over those. Server CPU is utime+stime of the ` +
        `server's Node processes from /proc/<pid>/stat across the run, divided by frames delivered; PostgreSQL CPU ` +
        `is all postgres processes on the machine over the same interval.`,
      sizes: bySize,
      targets,
    };
  });
}

function emailArg(v: string | undefined): EmailMode | undefined {
  if (v === undefined || v === 'unread' || v === 'off') return v;
  throw new Error(`--email must be unread or off, got ${v}`);
}

if (require.main === module) {
  const args = parseArgs();
  runFanout({
    sizes: intList(args, 'sizes', [1000, 10000]),
    runs: intArg(args, 'runs', 7),
    warmup: intArg(args, 'warmup', 2),
    webConcurrency: intArg(args, 'web-concurrency', 1),
    email: emailArg(args.get('email')),
    platformUsers: intArg(args, 'platform-users', 0) || undefined,
  })
    .then((r) => log(`wrote ${writeResult(r.email ? `fanout-email-${r.email}` : r.platform_users ? `fanout-platform-${r.platform_users}` : 'fanout', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
