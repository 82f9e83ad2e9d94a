/**
 * Benchmark 3: an instructor approves an application -> the candidate's frame arrives. p50 and p99 at
 * concurrency 1, 16 and 64, and the approvals per second reached.
 *
 *   npm run bench:latency -- [--levels 1,16,64] [--approvals 300,2000,4000] [--seconds 20] [--courses 64]
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { intArg, intList, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { agent, request } from './lib/http';
import { log, nowMs, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { insertSessions, seedApplicants, seedCourse } from './lib/seed';
import { benchSecret, cpuMs, cpuSince, cpuSnapshot, postgresPids, SERVER_SESSION, startServer } from './lib/server';
import { round, summary } from './lib/stats';
import { SocketPool } from './lib/sockets';

export interface LatencyOptions {
  levels: number[];
  approvals: number[];
  seconds: number;
  courses: number;
  target?: PgTarget;
  /** Profile the server (V8 CPU profiles written here on exit) and add a summary to the result. */
  cpuProfileDir?: string;
}

export async function runLatency(o: LatencyOptions) {
  return withBenchDatabase('herald_bench_latency', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    const secret = benchSecret();
    const total = o.approvals.reduce((s, n) => s + n, 0);
    const course = await seedCourse(url, { students: 0, secret, ...SERVER_SESSION });
    // Applications spread over several courses of the instructor, interleaved, so concurrent approvals touch
    // different courses as they would across a platform; --courses 1 shows one course's backlog instead.
    const db0 = new Client({ connectionString: url });
    await db0.connect();
    const { rows: extra } = await db0.query<{ id: number }>(
      `INSERT INTO courses (title, description, instructor_id)
       SELECT 'Bench latency course ' || g, '', $1 FROM generate_series(2, $2::int) AS g RETURNING id`,
      [course.instructor.id, o.courses],
    );
    await db0.end();
    const courseIds = [course.courseId, ...extra.map((r) => r.id)];
    const perCourse = await Promise.all(
      courseIds.map((courseId, k) =>
        seedApplicants(url, {
          courseId,
          count: Math.ceil(total / courseIds.length),
          tag: `l${k}x${randomBytes(3).toString('hex')}`,
          secret,
          ...SERVER_SESSION,
        }),
      ),
    );
    const applicants = { applicationIds: [] as number[], candidateCookies: [] as string[] };
    for (let i = 0; applicants.applicationIds.length < total; i++) {
      const from = perCourse[i % perCourse.length];
      const j = Math.floor(i / perCourse.length);
      applicants.applicationIds.push(from.applicationIds[j]);
      applicants.candidateCookies.push(from.candidateCookies[j]);
    }
    // One instructor session per lane, as approvals from many browser tabs would be: a single session row
    // would serialise every request on express-session's rolling touch of that row.
    const db = new Client({ connectionString: url });
    await db.connect();
    const lanes = await insertSessions(db, Array(Math.max(...o.levels)).fill(course.instructor.id), { secret, ...SERVER_SESSION });
    await db.end();

    const server = await startServer({ databaseUrl: url, secret, cpuProfileDir: o.cpuProfileDir });
    // The candidates' sockets live in this process, so frame and request share one clock and no IPC hop.
    const pool = new SocketPool();
    const waiting = new Map<number, (at: number) => void>();
    pool.onFrame((f) => {
      const appId = f.msg.type === 'notification' ? f.msg.notification?.application_id : undefined;
      if (typeof appId === 'number') waiting.get(appId)?.(f.at);
    });
    try {
      const opened = await pool.open({
        url: `ws://127.0.0.1:${server.port}/ws/notifications`,
        origin: server.origin,
        cookies: applicants.candidateCookies,
        concurrency: 64,
        deflate: false,
        timeoutMs: 120_000,
      });
      log(`${opened.established}/${total} candidate sockets open${opened.errors.length ? ` (${opened.errors.join(' | ')})` : ''}`);

      const levels: Record<string, unknown> = {};
      let offset = 0;
      for (const [k, c] of o.levels.entries()) {
        const ids = applicants.applicationIds.slice(offset, offset + o.approvals[k]);
        offset += o.approvals[k];
        const a = agent(c);
        const frameMs: number[] = [];
        const httpMs: number[] = [];
        let missed = 0;
        let failed = 0;
        let next = 0;
        const deadline = Date.now() + o.seconds * 1000;
        const pids = server.pids();
        const pg = postgresPids();
        const cpu0 = cpuMs(pids);
        const pg0 = cpuSnapshot(pg);
        const t0 = nowMs();
        await Promise.all(
          Array.from({ length: c }, async (_, lane) => {
            while (next < ids.length && Date.now() < deadline) {
              const id = ids[next++];
              const frame = new Promise<number | null>((resolve) => {
                const timer = setTimeout(() => resolve(null), 10_000);
                waiting.set(id, (at) => {
                  clearTimeout(timer);
                  resolve(at);
                });
              });
              const start = nowMs();
              const res = await request(server.origin, 'POST', `/api/applications/${id}/approve/`, {
                agent: a,
                cookie: lanes.cookies[lane],
                csrf: lanes.csrfTokens[lane],
              });
              httpMs.push(res.ms);
              if (res.status !== 200) {
                failed++;
                if (failed <= 3) log(`approve ${id}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
              }
              const at = await frame;
              waiting.delete(id);
              if (at === null) missed++;
              else frameMs.push(at - start);
            }
          }),
        );
        const elapsed = (nowMs() - t0) / 1000;
        const done = frameMs.length;
        const cpu = cpuMs(pids) - cpu0;
        levels[String(c)] = {
          concurrency: c,
          approvals: done + missed,
          frames: summary(frameMs),
          http_response: summary(httpMs),
          missed_frames: missed,
          failed_requests: failed,
          seconds: round(elapsed, 2),
          approvals_per_second: round(done / elapsed, 0),
          server_cpu_ms_per_approval: round(cpu / Math.max(1, done), 2),
          postgres_cpu_ms_per_approval: round((cpuSince(pg0)) / Math.max(1, done), 2),
        };
        const l = levels[String(c)] as { frames: { p50: number; p99: number }; approvals_per_second: number };
        log(`concurrency ${c}: ${done} approvals, p50 ${l.frames.p50} ms, p99 ${l.frames.p99} ms, ${l.approvals_per_second}/s`);
        a.destroy();
        await sleep(1000);
      }
      const best = Object.values(levels) as Array<{ concurrency: number; approvals_per_second: number; frames: { p99: number } }>;
      const meeting = best.filter((l) => l.frames.p99 < 50);
      const top = meeting.length ? Math.max(...meeting.map((l) => l.approvals_per_second)) : 0;
      return {
        benchmark: 'latency',
        courses: o.courses,
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        bus: process.env.REDIS_URL ? 'redis' : 'postgres LISTEN/NOTIFY',
        method:
          `Server with WEB_CONCURRENCY=1. ${total} candidates each hold a socket and one pending application, spread ` +
          `over ${o.courses} courses of one instructor and taken round-robin. ` +
          'At each concurrency level c, c lanes (each an instructor session on a keep-alive connection) approve ' +
          'applications back to back; latency runs from sending POST /api/applications/:id/approve/ to the ' +
          "candidate's notification frame (application_id matches). Throughput = frames received / wall time of " +
          `the level. Each level is bounded to ${o.seconds} s.`,
        sockets: { requested: total, established: opened.established, errors: opened.errors },
        levels,
        targets: {
          throughput_with_p99_under_50ms: {
            target: '>= 1000 approvals/s with p99 < 50 ms',
            measured: `${top}/s at p99 < 50 ms; ` + best.map((l) => `c=${l.concurrency}: ${l.approvals_per_second}/s, p99 ${l.frames.p99} ms`).join('; '),
            met: top >= 1000,
          },
        },
      };
    } finally {
      await pool.close();
      await server.stop();
    }
  });
}

if (require.main === module) {
  const args = parseArgs();
  runLatency({
    levels: intList(args, 'levels', [1, 16, 64]),
    approvals: intList(args, 'approvals', [300, 2000, 4000]),
    seconds: intArg(args, 'seconds', 20),
    courses: intArg(args, 'courses', 64),
  })
    .then((r) => log(`wrote ${writeResult('latency', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
