/**
 * Socket fan-out latency while Web Push goes out (#13: "socket fan-out latency unchanged while they go out").
 * One server, two courses: N students with a push device each at the local push service (push.ts), and M other
 * students connected on /ws/notifications with no device. Each round has two phases, in alternating order
 * (ABBA...) so that whatever else loads the shared machine falls on both alike:
 *
 * - quiet: fan-outs to the socket course, nothing else going on;
 * - pushing: the instructor notifies the push course (N pushes through the job runner), and while they arrive
 *   at the push service, the same fan-outs to the socket course. A fan-out counts only if pushes were still
 *   arriving when its last frame came.
 *
 * Every fan-out is timed POST → last frame (bench/lib/fanout-once.ts), one at a time, `gap` ms apart in both
 * phases. Also: pushes/s while fan-outs run, and the server's RSS at every round's start and end (flat or not).
 * The push service runs in a child process (lib/push-service-child.ts), so its TLS work never delays the bench's
 * own POSTs in one phase only.
 *
 * Also per phase: CPU per process role (serving, job, primary) and the serving process's event-loop delay (its
 * /metrics), so that a run with JOB_WORKERS=1 shows what moving the jobs out of the serving process changes.
 *
 *   npm run bench:push -- --fanout-sockets 1000 [--pushes 10000] [--rounds 3] [--quiet-runs 20] [--gap 150]
 *     [--job-workers 0|n] [--job-nice 0-19] [--name push-fanout]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { fanOutOnce, type FanOutRun } from './lib/fanout-once';
import { agent, expectStatus, request } from './lib/http';
import { log, nowMs, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse } from './lib/seed';
import { benchSecret, cpuMs, rssBytes, SERVER_SESSION, startServer, type BenchServer } from './lib/server';
import { round, summary } from './lib/stats';
import { RoleCpu, scrapeLoopDelay, type LoopDelay, type Role } from './lib/process-stats';
import { RemotePushService } from './lib/push-service-child';
import { WsFleet } from './lib/ws-fleet';
import { certificate, subscribeAll } from './push';

export interface PushFanoutOptions {
  pushes: number;
  sockets: number;
  rounds: number;
  quietRuns: number;
  gapMs: number;
  sample: number;
  /** JOB_WORKERS of the server: 0 (the default) = the runner in the serving process, n = n job processes. */
  jobWorkers?: number;
  /** JOB_NICE of the server's job processes. */
  jobNice?: number;
  target?: PgTarget;
}

const METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef';

/** "Unchanged": the pushing phase's p50 within this much of the quiet phase's (two cores shared with the load generators). */
const SAME_WITHIN = 1.25;
const TARGET_PER_SECOND = 500;

interface Batch {
  pushes: number;
  ms: number;
  per_second: number;
}

export async function runPushFanout(opts: PushFanoutOptions) {
  const o = { ...opts, jobWorkers: opts.jobWorkers ?? 0, jobNice: opts.jobNice ?? 0 };
  return withBenchDatabase('herald_bench_push_fanout', o.target, async (url, target) => {
    const env = environment();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-push-'));
    const { key, cert, certFile } = certificate(dir);
    const { service } = await RemotePushService.start({ key, cert, sample: o.sample });
    const secret = benchSecret();
    const pushCourse = await seedCourse(url, { students: o.pushes, secret, ...SERVER_SESSION });
    const socketCourse = await seedCourse(url, { students: o.sockets, secret, ...SERVER_SESSION });
    await subscribeAll(url, pushCourse.studentIds, await service.subscribe(o.pushes));

    const server = await startServer({
      databaseUrl: url,
      secret,
      jobWorkers: o.jobWorkers,
      env: { OUTBOUND_ALLOW_PRIVATE: 'true', NODE_EXTRA_CA_CERTS: certFile, METRICS_TOKEN, JOB_NICE: String(o.jobNice) },
    });
    const a = agent(2);
    const { fleet, reports } = await WsFleet.open({
      url: `ws://127.0.0.1:${server.port}/ws/notifications`,
      origin: server.origin,
      cookies: socketCourse.studentCookies,
      timeoutMs: 120_000,
    });
    try {
      const established = reports.reduce((s, r) => s + r.established, 0);
      const keyRes = await request(server.origin, 'GET', '/api/push/vapid-public-key', { agent: a, cookie: pushCourse.instructor.cookie });
      service.setVapidKey(JSON.parse(expectStatus(keyRes, [200], 'vapid key').body).key);
      const fanOut = () => fanOutOnce({ server, fleet, agent: a, instructor: socketCourse.instructor, timeoutMs: 30_000 });
      for (let i = 0; i < 3; i++) await fanOut(); // warm-up
      log(`${established} sockets open; ${o.pushes} push devices; ${o.rounds} rounds`);

      const pids = server.pids();
      const roles = new RoleCpu(server.pids);
      const cpuByPhase: Record<'quiet' | 'pushing', Partial<Record<Role, number>>> = { quiet: {}, pushing: {} };
      const loop: Record<'quiet' | 'pushing', LoopDelay[]> = { quiet: [], pushing: [] };
      const quiet: FanOutRun[] = [];
      const pushing: FanOutRun[] = [];
      const batches: Batch[] = [];
      const rssMib: Array<{ round: number; start: number; end: number }> = [];
      const cpu0 = cpuMs(pids);
      const t0 = Date.now();
      for (let r = 0; r < o.rounds; r++) {
        const start = rssBytes(pids);
        const phases = r % 2 === 0 ? (['quiet', 'pushing'] as const) : (['pushing', 'quiet'] as const);
        for (const phase of phases) {
          await scrapeLoopDelay(server.origin, METRICS_TOKEN); // resets the serving process's delay histogram
          const cpuAt = roles.snapshot();
          if (phase === 'quiet') {
            for (let i = 0; i < o.quietRuns; i++) {
              quiet.push(await fanOut());
              await sleep(o.gapMs);
            }
          } else {
            const b = await pushBatch({ server, service, instructor: pushCourse.instructor, agent: a, pushes: o.pushes, fanOut, gapMs: o.gapMs });
            pushing.push(...b.runs);
            batches.push(b.batch);
          }
          RoleCpu.add(cpuByPhase[phase], cpuAt);
          loop[phase].push(await scrapeLoopDelay(server.origin, METRICS_TOKEN));
        }
        rssMib.push({ round: r + 1, start: mib(start), end: mib(rssBytes(pids)) });
        log(`round ${r + 1}: quiet ${quiet.length}, pushing ${pushing.length} fan-outs so far; RSS ${mib(start)} → ${mib(rssBytes(pids))} MiB`);
      }
      const cpu = cpuMs(pids) - cpu0;
      const q = summary(quiet.map((x) => x.last_frame_ms));
      const p = summary(pushing.map((x) => x.last_frame_ms));
      const slowest = Math.min(...batches.map((b) => b.per_second));
      const pushStats = await service.stats();
      const allDelivered = [...quiet, ...pushing].every((x) => x.delivered === x.expected && x.expected === o.sockets);
      log(
        `fan-out to ${o.sockets}, POST → last frame: quiet p50 ${q.p50} p90 ${q.p90} ms (n=${q.n}); ` +
          `while pushing p50 ${p.p50} p90 ${p.p90} ms (n=${p.n}); pushes/s per batch ${batches.map((b) => b.per_second).join(', ')}`,
      );
      return {
        benchmark: 'push-fanout',
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        method:
          `One server (WEB_CONCURRENCY=1, JOB_WORKERS=${o.jobWorkers}, JOB_NICE=${o.jobNice}, NODE_ENV=production): ` +
          (o.jobWorkers === 0 ? 'the job runner in the serving process; ' : `the job runner in ${o.jobWorkers} job process(es) of its own; `) +
          `${o.sockets} students of one course ` +
          `connected on /ws/notifications (one load-generator process), ${o.pushes} students of another course with ` +
          `one push device each at a local https push service (a child process of the bench). ${o.rounds} rounds, phases in ` +
          `ABBA order: quiet = ${o.quietRuns} fan-outs to the socket course; pushing = one notify-students to the push ` +
          `course (${o.pushes} pushes via the push:send job) and, while its pushes arrive, the same fan-outs, kept ` +
          `only if pushes were still arriving at their last frame. Fan-outs one at a time, ${o.gapMs} ms apart, timed ` +
          `POST → last student's frame. 3 warm-up fan-outs first. Same machine for everything (2 cores). Per phase: ` +
          `CPU ms per process role from /proc, and the serving process's event-loop delay (its /metrics, ` +
          `prom-client's monitorEventLoopDelay reset at each phase's start).`,
        result: {
          sockets: established,
          fanout_last_frame_ms: { quiet: q, pushing: p },
          fanout_median_frame_ms_p50: {
            quiet: summary(quiet.map((x) => x.median_frame_ms)).p50,
            pushing: summary(pushing.map((x) => x.median_frame_ms)).p50,
          },
          all_delivered: allDelivered,
          push_batches: batches,
          push_sample_decrypted: pushStats.checked,
          push_sample_problems: pushStats.problems,
          server_rss_mib: rssMib,
          server_cpu_ms: cpu,
          job_workers: o.jobWorkers,
          job_nice: o.jobNice,
          cpu_ms_by_role: cpuByPhase,
          serving_loop_delay_ms: { quiet: loopSummary(loop.quiet), pushing: loopSummary(loop.pushing) },
          seconds: round((Date.now() - t0) / 1000, 1),
          loadavg_at_end: os.loadavg().map((x) => round(x, 2)),
        },
        targets: {
          fanout_p50_unchanged_while_pushing: {
            target: `pushing p50 <= ${SAME_WITHIN} x quiet p50`,
            measured: `${p.p50} vs ${q.p50} ms`,
            met: p.n > 0 && p.p50 <= q.p50 * SAME_WITHIN && allDelivered,
          },
          push_per_second_while_fanning_out: {
            target: `>= ${TARGET_PER_SECOND}`,
            measured: slowest,
            met: slowest >= TARGET_PER_SECOND && pushStats.problems.length === 0,
          },
        },
      };
    } finally {
      await fleet.close();
      a.destroy();
      await server.stop();
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const mib = (b: number) => round(b / 2 ** 20, 1);

/** Per phase: the median over its occurrences of each figure, and the worst max. */
function loopSummary(xs: LoopDelay[]) {
  const med = (v: number[]) => summary(v).p50;
  return { p50_ms: med(xs.map((x) => x.p50_ms)), p99_ms: med(xs.map((x) => x.p99_ms)), max_ms: Math.max(...xs.map((x) => x.max_ms)) };
}

/** One push batch, and fan-outs for as long as its pushes are arriving. */
async function pushBatch(o: {
  server: BenchServer;
  service: RemotePushService;
  instructor: { cookie: string; csrf_token: string; course_id: number };
  agent: ReturnType<typeof agent>;
  pushes: number;
  fanOut: () => Promise<FanOutRun>;
  gapMs: number;
}): Promise<{ runs: FanOutRun[]; batch: Batch }> {
  const before = (await o.service.stats()).count;
  const arrived = () => o.service.count - before;
  const t0 = nowMs();
  const post = await request(o.server.origin, 'POST', `/api/courses/${o.instructor.course_id}/notify-students/`, {
    agent: o.agent,
    cookie: o.instructor.cookie,
    csrf: o.instructor.csrf_token,
    json: { notification_type: 'announcement', title: 'Bench push', message: 'Seeded by the benchmarks.' },
  });
  expectStatus(post, [201], 'notify-students (push course)');
  const deadline = Date.now() + 60_000;
  while (arrived() === 0 && Date.now() < deadline) await sleep(10);
  const runs: FanOutRun[] = [];
  while (arrived() < o.pushes && Date.now() < deadline) {
    const run = await o.fanOut();
    if (arrived() < o.pushes) runs.push(run); // pushes were still arriving when its last frame came
    await sleep(o.gapMs);
  }
  let seen = arrived();
  let quietSince = Date.now();
  while (arrived() < o.pushes && Date.now() - quietSince < 30_000) {
    await sleep(50);
    if (arrived() !== seen) (seen = arrived()), (quietSince = Date.now());
  }
  const { last } = await o.service.stats();
  const ms = last - t0;
  return { runs, batch: { pushes: arrived(), ms: round(ms, 0), per_second: round((arrived() * 1000) / ms, 0) } };
}

export function main(): void {
  const args = parseArgs();
  runPushFanout({
    pushes: intArg(args, 'pushes', 10_000),
    sockets: intArg(args, 'fanout-sockets', 1000),
    rounds: Math.max(1, intArg(args, 'rounds', 3)),
    quietRuns: Math.max(1, intArg(args, 'quiet-runs', 20)),
    gapMs: intArg(args, 'gap', 150),
    sample: Math.max(1, intArg(args, 'sample', 100)),
    jobWorkers: intArg(args, 'job-workers', 0),
    jobNice: intArg(args, 'job-nice', 0),
  })
    .then((r) => log(`wrote ${writeResult(args.get('name') ?? 'push-fanout', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
