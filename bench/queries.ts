/**
 * Benchmark 4: the unread count and the notifications list over HTTP with a real session, for a user with
 * 50,000 notifications in a table of 5,000,000; page 1 against page 500 (keyset cursor).
 *
 *   npm run bench:queries -- [--rows 5000000] [--per-user 50000] [--requests 2000]
 */
import { Client } from 'pg';
import { selectNotifications } from '../server/services/notifications/store/shape';
import { encodeCursor } from '../server/services/notifications';
import { intArg, parseArgs } from './lib/args';
import { withBenchDatabase, serverSettings, type PgTarget } from './lib/database';
import { agent, expectStatus, request } from './lib/http';
import { log, nowMs } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedBigTable, seedCourse } from './lib/seed';
import { benchSecret, cpuMs, SERVER_SESSION, startServer } from './lib/server';
import { round, summary } from './lib/stats';

const PAGE_SIZE = 20;
const DEEP_PAGE = 500;

export interface QueriesOptions {
  rows: number;
  perUser: number;
  requests: number;
  target?: PgTarget;
  /** Profile the server (V8 CPU profiles written here on exit) and add a summary to the result. */
  cpuProfileDir?: string;
}

export async function runQueries(o: QueriesOptions) {
  return withBenchDatabase('herald_bench_queries', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    const secret = benchSecret();
    const seeded = await seedCourse(url, { students: 1, secret, ...SERVER_SESSION });
    const userId = seeded.studentIds[0];
    const cookie = seeded.studentCookies[0];
    log(`loading ${o.rows.toLocaleString('en')} notifications (${o.perUser.toLocaleString('en')} for user ${userId})`);
    const big = await seedBigTable(url, {
      total: o.rows,
      perUser: o.perUser,
      fillers: 5000,
      userId,
      senderId: seeded.instructor.id,
      courseId: seeded.courseId,
      tag: 'q',
    });
    log(`loaded in ${big.seconds.toFixed(1)} s; the user has ${big.unread} unread`);

    const db = new Client({ connectionString: url });
    await db.connect();
    const skip = (DEEP_PAGE - 1) * PAGE_SIZE;
    const { rows: at } = await db.query<{ id: string }>(
      'SELECT id FROM notifications WHERE recipient_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1',
      [userId, skip - 1],
    );
    const cursor = encodeCursor(Number(at[0].id));

    // The statements the service runs, verbatim, for the plans and the database-only timings.
    const sql = {
      unread_count: {
        text: 'SELECT count(*) AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL',
        values: [userId] as unknown[],
      },
      page_1: {
        text: `${selectNotifications()} WHERE n.recipient_id = $1 ORDER BY n.id DESC LIMIT $2`,
        values: [userId, PAGE_SIZE + 1] as unknown[],
      },
      page_500: {
        text: `${selectNotifications()} WHERE n.recipient_id = $1 AND n.id < $2 ORDER BY n.id DESC LIMIT $3`,
        values: [userId, Number(at[0].id), PAGE_SIZE + 1] as unknown[],
      },
    };
    const plans: Record<string, string> = {};
    const sqlOnly: Record<string, ReturnType<typeof summary>> = {};
    for (const [name, q] of Object.entries(sql)) {
      const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values);
      plans[name] = rows.map((r) => r['QUERY PLAN']).join('\n');
      const samples: number[] = [];
      for (let i = 0; i < 500; i++) {
        const t0 = nowMs();
        await db.query(q.text, q.values);
        samples.push(nowMs() - t0);
      }
      sqlOnly[name] = summary(samples);
    }
    const settings = await serverSettings(url);
    await db.end();

    const server = await startServer({ databaseUrl: url, secret, cpuProfileDir: o.cpuProfileDir });
    try {
      const a = agent(1);
      const endpoints = {
        unread_count: '/api/notifications/unread_count/',
        page_1: `/api/notifications/?limit=${PAGE_SIZE}`,
        page_500: `/api/notifications/?limit=${PAGE_SIZE}&cursor=${cursor}`,
      };
      // Shape checks first: a fast error page would be a meaningless figure.
      const p1 = JSON.parse(expectStatus(await request(server.origin, 'GET', endpoints.page_1, { agent: a, cookie }), [200], 'page 1').body);
      const p500 = JSON.parse(
        expectStatus(await request(server.origin, 'GET', endpoints.page_500, { agent: a, cookie }), [200], 'page 500').body,
      );
      if (p1.results.length !== PAGE_SIZE || p500.results.length !== PAGE_SIZE || p500.results[0].id >= Number(at[0].id)) {
        throw new Error('unexpected list responses');
      }
      const http: Record<string, ReturnType<typeof summary> & { server_cpu_ms_per_request: number }> = {};
      for (const [name, path] of Object.entries(endpoints)) {
        for (let i = 0; i < 200; i++) await request(server.origin, 'GET', path, { agent: a, cookie }); // warm-up
        const samples: number[] = [];
        const cpu0 = cpuMs(server.pids());
        for (let i = 0; i < o.requests; i++) {
          const r = await request(server.origin, 'GET', path, { agent: a, cookie });
          if (r.status !== 200) throw new Error(`${name}: HTTP ${r.status}`);
          samples.push(r.ms);
        }
        http[name] = { ...summary(samples), server_cpu_ms_per_request: round((cpuMs(server.pids()) - cpu0) / o.requests, 3) };
        log(`${name}: p50 ${http[name].p50} ms, p99 ${http[name].p99} ms over HTTP`);
      }
      a.destroy();
      const result = {
        benchmark: 'queries',
        environment: env,
        database: { kind: target.kind, settings },
        method:
          `One user with ${o.perUser.toLocaleString('en')} notifications (${big.unread} unread) spread evenly through ` +
          `${o.rows.toLocaleString('en')} rows; VACUUM ANALYZE after loading. ${o.requests} sequential keep-alive GETs ` +
          `per endpoint (concurrency 1) after 200 warm-up requests, each with the session cookie (session lookup, ` +
          `user lookup, the query, and express-session's rolling touch). Page ${DEEP_PAGE} uses the keyset cursor ` +
          `the API returns (${PAGE_SIZE} per page).`,
        setup: { rows: o.rows, per_user: o.perUser, unread: big.unread, load_seconds: round(big.seconds, 1) },
        http,
        sql_only: sqlOnly,
        plans,
        targets: {
          unread_count_p99_ms: { target: '< 5', measured: http.unread_count.p99, met: http.unread_count.p99 < 5 },
          page_1_p99_ms: { target: '< 5', measured: http.page_1.p99, met: http.page_1.p99 < 5 },
          page_500_vs_page_1: {
            target: 'page 500 no slower than page 1',
            measured: `p50 ${http.page_500.p50} vs ${http.page_1.p50} ms, p99 ${http.page_500.p99} vs ${http.page_1.p99} ms`,
            // "No slower" within measurement noise: 10% or 0.2 ms, whichever is larger.
            met: http.page_500.p50 <= Math.max(http.page_1.p50 * 1.1, http.page_1.p50 + 0.2),
          },
        },
      };
      return result;
    } finally {
      await server.stop();
    }
  });
}

if (require.main === module) {
  const args = parseArgs();
  runQueries({
    rows: intArg(args, 'rows', 5_000_000),
    perUser: intArg(args, 'per-user', 50_000),
    requests: intArg(args, 'requests', 2000),
  })
    .then((r) => log(`wrote ${writeResult('queries', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
