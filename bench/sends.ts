/**
 * Benchmark 9 (issue 17): an admin's "everyone" on a platform of N users (default 1,000,000), `--connected` of them
 * (default 10,000, spread evenly over the user ids, so over the whole send) holding JSON sockets. Measures the POST's
 * answer (202: the send is only recorded), the first and last frame at the connected users, the time until every row
 * exists, the server's peak RSS (every Node process of its tree, from /proc) and the bytes per recipient of
 * `notifications` (pg_total_relation_size after minus before, over the rows written).
 *
 *   npm run bench:sends -- [--users 1000000] [--connected 10000] [--kill-at 0.3,0.6,0.9] [--job-workers 1]
 *
 * The server runs with JOB_WORKERS=1 (jobs in a process of their own, as the primary forks it). `--kill-at` sends
 * SIGKILL to that job process each time the send passes one of those fractions of its audience; the primary starts
 * a new one, whose runner frees the dead runner's job (JOB_STALE_SECONDS=1 here) and resumes from the last committed
 * chunk. Either way the bench checks exactly one row per user and exactly one frame per connected socket.
 */
import { Client } from 'pg';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase } from './lib/database';
import { agent, expectStatus, request } from './lib/http';
import { log, nowMs, sleep } from './lib/log';
import { roleOf } from './lib/process-stats';
import { environment, writeResult } from './lib/results';
import { insertSessions, insertUsers } from './lib/seed';
import { benchSecret, rssBytes, SERVER_SESSION, startServer, type BenchServer } from './lib/server';
import { round } from './lib/stats';
import { WsFleet } from './lib/ws-fleet';

export interface SendsOptions {
  users: number;
  connected: number;
  /** Fractions of the audience at which the job process is killed (SIGKILL), in order. */
  killAt: number[];
  jobWorkers: number;
  timeoutMs: number;
}

interface Platform {
  admin: { id: number; cookie: string; csrf: string };
  users: number;
  connectedCookies: string[];
}

/** N learners and one admin in set-based INSERTs; sessions only for the admin and the connected learners. */
async function seedPlatform(url: string, o: { users: number; connected: number; secret: string }): Promise<Platform> {
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  const t0 = Date.now();
  try {
    const tag = `s${Date.now().toString(36)}`;
    await db.query('BEGIN');
    const [adminId] = await insertUsers(db, tag, 'admin', 1, 'instructor');
    await db.query("UPDATE users SET role = 'admin' WHERE id = $1", [adminId]);
    const ids = await insertUsers(db, tag, 'learner', o.users, 'candidate');
    // Spread over the id range: their frames come from the first chunk to the last.
    const step = ids.length / Math.max(1, o.connected);
    const connected = Array.from({ length: Math.min(o.connected, ids.length) }, (_, i) => ids[Math.floor(i * step)]);
    const session = { secret: o.secret, ...SERVER_SESSION };
    const a = await insertSessions(db, [adminId], session);
    const c = await insertSessions(db, connected, session);
    await db.query('COMMIT');
    await db.query('ANALYZE users, session');
    log(`seeded ${o.users.toLocaleString('en')} users (${connected.length} with sessions) in ${Date.now() - t0} ms`);
    return { admin: { id: adminId, cookie: a.cookies[0], csrf: a.csrfTokens[0] }, users: o.users, connectedCookies: c.cookies };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

/** The process whose runner takes the send's job: the one the primary forked as `jobs`. */
function jobProcess(server: BenchServer): number | undefined {
  const pids = server.pids();
  return pids.find((pid) => roleOf(pid, pids) === 'jobs');
}

export async function runSends(o: SendsOptions) {
  return withBenchDatabase('herald_bench_sends', undefined, async (url, target) => {
    const env = environment();
    const secret = benchSecret();
    const platform = await seedPlatform(url, { users: o.users, connected: o.connected, secret });
    const db = new Client({ connectionString: url, application_name: 'herald-bench-probe' });
    await db.connect();
    const size = async () => Number((await db.query<{ n: string }>("SELECT pg_total_relation_size('notifications') AS n")).rows[0].n);
    const bytesBefore = await size();
    const server = await startServer({
      databaseUrl: url,
      secret,
      jobWorkers: o.jobWorkers,
      env: o.killAt.length ? { JOB_STALE_SECONDS: '1' } : {},
      readyTimeoutMs: 120_000,
    });
    const a = agent(1);
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(server.pids()))), 100);
    const { fleet, reports } = await WsFleet.open({
      url: `ws://127.0.0.1:${server.port}/ws/notifications`,
      origin: server.origin,
      cookies: platform.connectedCookies,
      workers: o.connected >= 5000 ? 2 : 1,
      timeoutMs: 180_000,
    });
    try {
      const established = reports.reduce((s, r) => s + r.established, 0);
      const errors = reports.flatMap((r) => r.errors);
      log(`${established} sockets established${errors.length ? `; errors: ${errors.join(' | ')}` : ''}`);
      // One send to the admin alone first (inline: one row), through the same route: the first request of a fresh
      // server pays for its cold paths once (code, the pool's connections, their plan and function caches), which a
      // running server has paid long before. Its time is reported beside the measured POST.
      const warm = await request(server.origin, 'POST', '/api/admin/notifications/send', {
        agent: a,
        cookie: platform.admin.cookie,
        csrf: platform.admin.csrf,
        json: { audience: { kind: 'user', user_id: platform.admin.id }, notification_type: 'announcement', title: 'Warm-up', message: 'Seeded by the benchmarks.' },
      });
      expectStatus(warm, [200], 'warm-up send');
      log(`warm-up send to one user answered in ${round(warm.ms)} ms`);
      const marker = `m${Date.now().toString(36)}`;
      const armed = await fleet.expect(marker, o.timeoutMs);
      peakRss = rssBytes(server.pids()); // the peak of the send, not of the seed or the sockets' opening

      const t0 = nowMs();
      const res = await request(server.origin, 'POST', '/api/admin/notifications/send', {
        agent: a,
        cookie: platform.admin.cookie,
        csrf: platform.admin.csrf,
        json: { audience: { kind: 'all' }, notification_type: 'announcement', title: `Bench send ${marker}`, message: 'Seeded by the benchmarks.' },
      });
      expectStatus(res, [202], 'admin send');
      const send = JSON.parse(res.body) as { id: string };
      log(`POST answered 202 in ${round(res.ms)} ms (send ${send.id})`);

      // Progress from the send's own row; each kill lands when the rows pass its fraction.
      const kills: Array<{ fraction: number; recipients: number; total: number; pid: number; at_ms: number }> = [];
      const pending = [...o.killAt];
      let status = 'queued';
      let total = 0;
      let allRowsMs = NaN;
      while (nowMs() - t0 < o.timeoutMs) {
        const b = (await db.query<{ status: string; recipients: number; total: number | null }>(
          'SELECT status, recipients, total FROM broadcasts WHERE id = $1',
          [send.id],
        )).rows[0];
        status = b.status;
        total = b.total ?? 0;
        if (status === 'finished' || status === 'cancelled') {
          allRowsMs = nowMs() - t0;
          break;
        }
        const pid = jobProcess(server);
        if (pending.length && b.total && b.recipients >= b.total * pending[0] && pid !== undefined) {
          process.kill(pid, 'SIGKILL');
          const k = { fraction: pending.shift()!, recipients: b.recipients, total: b.total, pid, at_ms: round(nowMs() - t0) };
          kills.push(k);
          log(`kill -9 of the job process ${pid} at ${b.recipients}/${b.total} rows (${k.at_ms} ms)`);
        }
        await sleep(20);
      }
      if (Number.isNaN(allRowsMs)) log(`the send did not finish within ${o.timeoutMs} ms (status ${status})`);
      else log(`every row written after ${round(allRowsMs)} ms (${status})`);
      for (const f of pending) log(`kill at ${f} skipped: the send finished first`);

      const delivery = await armed.done;
      await sleep(2_000); // a late duplicate (a chunk published twice) would arrive in this window
      const fleetStats = await fleet.stats();
      clearInterval(sampler);
      const rows = (await db.query<{ n: string; recipients: string; everyone: string }>(
        `SELECT count(*) AS n, count(DISTINCT recipient_id) AS recipients, (SELECT count(*) FROM users) AS everyone
           FROM notifications WHERE batch_id = $1`,
        [send.id],
      )).rows[0];
      const rowCount = Number(rows.n);
      const allUsers = Number(rows.everyone);
      const bytesAfter = await size();
      const times = delivery.times;
      const result = {
        users: o.users,
        audience_total: total,
        connected: established,
        post_ms: round(res.ms),
        warmup_post_ms: round(warm.ms),
        first_frame_ms: times.length ? round(Math.min(...times) - t0) : null,
        last_frame_ms: times.length ? round(Math.max(...times) - t0) : null,
        all_rows_ms: round(allRowsMs),
        status,
        rows: rowCount,
        exactly_one_row_per_user: rowCount === Number(rows.recipients) && rowCount === allUsers && rowCount === total,
        frames: delivery.count,
        frames_expected: delivery.expected,
        duplicate_frames: fleetStats.duplicates,
        exactly_one_frame_per_socket: delivery.count === delivery.expected && fleetStats.duplicates === 0 && delivery.expected === established,
        server_peak_rss_mib: round(peakRss / 2 ** 20, 1),
        notifications_bytes_before: bytesBefore,
        notifications_bytes_after: bytesAfter,
        bytes_per_recipient: round((bytesAfter - bytesBefore) / Math.max(1, rowCount), 1),
        kills,
      };
      log(JSON.stringify(result, null, 2));
      return {
        benchmark: 'sends',
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        method:
          `Server with WEB_CONCURRENCY=1, JOB_WORKERS=${o.jobWorkers}. ${o.users} users seeded set-based; ` +
          `${o.connected} of them, spread evenly over the ids, hold /ws/notifications sockets from load-generator ` +
          `processes. The admin POSTs /api/admin/notifications/send with audience "all"; times run from sending the ` +
          `POST, after one warm-up send through the same route to the admin alone (inline, one row). Rows: the send's broadcasts row polled every 20 ms. RSS: the sum over the server's Node processes ` +
          `sampled every 100 ms during the send. Bytes per recipient: growth of pg_total_relation_size('notifications') ` +
          `over the rows written.` +
          (o.killAt.length ? ` The job process is killed (SIGKILL) as the rows pass ${o.killAt.join(', ')} of the audience.` : ''),
        result,
      };
    } finally {
      clearInterval(sampler);
      await fleet.close();
      a.destroy();
      await server.stop();
      await db.end();
    }
  });
}

function fractions(v: string | undefined): number[] {
  if (v === undefined) return [];
  const list = v.split(',').map(Number);
  if (list.some((f) => !(f > 0 && f < 1))) throw new Error(`--kill-at takes fractions between 0 and 1, got ${v}`);
  return list.sort((x, y) => x - y);
}

if (require.main === module) {
  const args = parseArgs();
  const killAt = fractions(args.get('kill-at'));
  if (killAt.length && intArg(args, 'job-workers', 1) < 1) throw new Error('--kill-at needs a job process: --job-workers 1');
  runSends({
    users: intArg(args, 'users', 1_000_000),
    connected: intArg(args, 'connected', 10_000),
    killAt,
    jobWorkers: intArg(args, 'job-workers', 1),
    timeoutMs: intArg(args, 'timeout-ms', 300_000),
  })
    .then((r) => {
      log(`wrote ${writeResult(killAt.length ? 'sends-kill' : 'sends', r)}`);
      // Exit non-zero when a correctness check failed: a fast wrong answer is no result.
      if (!r.result.exactly_one_row_per_user || !r.result.exactly_one_frame_per_socket) process.exit(2);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
