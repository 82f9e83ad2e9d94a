/**
 * Benchmark 5: requests per second for the notifications page and the bell partial (autocannon), signed in
 * as a user with a realistic few hundred notifications.
 *
 *   npm run bench:pages -- [--seconds 10] [--connections 16] [--bell-path /notifications/bell]
 */
import autocannon from 'autocannon';
import { Client } from 'pg';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { agent, request } from './lib/http';
import { log } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse } from './lib/seed';
import { benchSecret, cpuMs, SERVER_SESSION, startServer } from './lib/server';
import { round } from './lib/stats';

export interface PagesOptions {
  seconds: number;
  connections: number;
  bellPath?: string;
  target?: PgTarget;
}

/** Where the bell partial may live; the first that answers 200 with HTML to an htmx request is used. */
const BELL_CANDIDATES = ['/notifications/bell', '/bell', '/partials/bell', '/notifications/bell-partial'];

export async function runPages(o: PagesOptions) {
  return withBenchDatabase('herald_bench_pages', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    const secret = benchSecret();
    const seeded = await seedCourse(url, { students: 1, secret, ...SERVER_SESSION });
    const cookie = seeded.studentCookies[0];
    // 300 notifications, 40 of them unread, so the page and the bell have real content to render.
    const db = new Client({ connectionString: url });
    await db.connect();
    await db.query(
      `INSERT INTO notifications (recipient_id, sender_id, type, title, message, course_id, data, read_at)
       SELECT $1, $2, 'announcement', 'Bench notification ' || g, 'Something happened in your course.', $3,
              jsonb_build_object('course_id', $3::int), CASE WHEN g > 260 THEN NULL ELSE now() END
         FROM generate_series(1, 300) AS g`,
      [seeded.studentIds[0], seeded.instructor.id, seeded.courseId],
    );
    await db.end();

    const server = await startServer({ databaseUrl: url, secret });
    try {
      const a = agent(1);
      const probe = async (path: string, htmx: boolean) => {
        const r = await request(server.origin, 'GET', path, {
          agent: a,
          cookie,
          headers: { accept: 'text/html', ...(htmx ? { 'hx-request': 'true' } : {}) },
        });
        return r.status === 200 && /</.test(r.body) ? r : null;
      };
      const targets: Array<{ name: string; path: string; htmx: boolean }> = [];
      if (await probe('/notifications', false)) targets.push({ name: 'notifications_page', path: '/notifications', htmx: false });
      if (await probe('/notifications', true)) targets.push({ name: 'notifications_list_partial', path: '/notifications', htmx: true });
      let bell: string | undefined;
      for (const p of o.bellPath ? [o.bellPath] : BELL_CANDIDATES) {
        if (await probe(p, true)) {
          bell = p;
          break;
        }
      }
      if (bell) targets.push({ name: 'bell_partial', path: bell, htmx: true });
      a.destroy();

      const pages: Record<string, unknown> = {};
      for (const t of targets) {
        const headers: Record<string, string> = { cookie, accept: 'text/html', ...(t.htmx ? { 'hx-request': 'true' } : {}) };
        await autocannon({ url: `${server.origin}${t.path}`, connections: 4, duration: 2, headers }); // warm-up
        const pids = server.pids();
        const cpu0 = cpuMs(pids);
        const r = await autocannon({ url: `${server.origin}${t.path}`, connections: o.connections, duration: o.seconds, headers });
        const total = r.requests.total;
        pages[t.name] = {
          path: t.path,
          htmx: t.htmx,
          requests_per_second: round(r.requests.average, 0),
          latency_ms: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
          requests: total,
          non_2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          bytes_per_response: round(r.throughput.total / Math.max(1, total), 0),
          server_cpu_ms_per_request: round((cpuMs(pids) - cpu0) / Math.max(1, total), 3),
        };
        log(`${t.name}: ${round(r.requests.average, 0)} req/s, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}`);
      }
      return {
        benchmark: 'pages',
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        method:
          `autocannon in the bench process, ${o.connections} keep-alive connections for ${o.seconds} s per page ` +
          '(after 2 s of warm-up), signed in as a user with 300 notifications (40 unread). Server with WEB_CONCURRENCY=1; ' +
          'the load generator shares the 2 cores.',
        pages,
        missing: bell ? [] : [`no bell partial route answered (tried ${(o.bellPath ? [o.bellPath] : BELL_CANDIDATES).join(', ')})`],
        targets: Object.fromEntries(
          Object.entries(pages).map(([k, v]) => [
            `${k}_rps`,
            { target: 'report (no figure set)', measured: (v as { requests_per_second: number }).requests_per_second, met: null },
          ]),
        ),
      };
    } finally {
      await server.stop();
    }
  });
}

if (require.main === module) {
  const args = parseArgs();
  runPages({ seconds: intArg(args, 'seconds', 10), connections: intArg(args, 'connections', 16), bellPath: args.get('bell-path') })
    .then((r) => log(`wrote ${writeResult('pages', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
