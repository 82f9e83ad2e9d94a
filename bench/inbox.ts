/**
 * Benchmark 8 (issue 14): the inbox of one user with 100,000 notifications among 5,000,000 rows. Search, the
 * grouped first page, the bell and the unread count, over HTTP against Herald's own server process, for two users:
 * a realistic instructor ("mix") and the extreme shape (90,000 applications in 9 groups). Per request: the service
 * call alone in this process (the same statements), and EXPLAIN (ANALYZE, BUFFERS) of each statement it runs.
 *
 *   npm run bench:inbox -- [--rows 5000000] [--per-user 100000] [--requests 500] [--name inbox]
 *                          [--keep FILE | --reuse FILE]
 *
 * The seed takes minutes: `--keep FILE` leaves the seeded database in place (herald_bench_inbox_kept) and writes
 * what `--reuse FILE` needs to measure it again, e.g. before and after a migration (`npm run db:migrate` against
 * it); drop it afterwards with `DROP DATABASE herald_bench_inbox_kept`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { createSequelize } from '../server/db';
import { NotificationService, type ListOptions } from '../server/services/notifications';
import { NotificationStore } from '../server/services/notifications/store';
import { DEFAULT_JOB_TIMING } from '../server/services/notifications/store/jobs';
import { SendStore } from '../server/services/notifications/store/sends';
import { intArg, parseArgs } from './lib/args';
import { createBenchDatabase, openTarget, serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { agent, expectStatus, request } from './lib/http';
import { seedInbox, type InboxUser, type SeededInbox } from './lib/inbox-seed';
import { log, nowMs } from './lib/log';
import { environment, writeResult } from './lib/results';
import { benchSecret, cpuMs, SERVER_SESSION, startServer } from './lib/server';
import { round, summary } from './lib/stats';

export interface InboxOptions {
  rows: number;
  perUser: number;
  requests: number;
  warmup: number;
  target?: PgTarget;
  /** Leave the seeded database in place and write what `reuse` needs here. */
  keep?: string;
  /** Measure a database seeded earlier with `keep` (no seed, no drop). */
  reuse?: string;
}

/** What `--keep` writes: the database, the secret its sessions are signed with, and the seeded users. */
interface Kept {
  url: string;
  kind: PgTarget['kind'];
  secret: string;
  seeded: SeededInbox;
}

/** What is measured, as the API is called, and the service call behind it (for the SQL and the in-process timing). */
interface Probe {
  name: string;
  path: string;
  call: (s: NotificationService, userId: number) => Promise<unknown>;
  /** The page is measured against the same page for a user without notifications (the bell is all that differs). */
  page?: boolean;
}

const list = (o: Partial<ListOptions>): ListOptions => ({ status: 'all', limit: 20, ...o });
const api = (query: Record<string, string>) => `/api/notifications/?${new URLSearchParams(query)}`;

function probes(course: string): Probe[] {
  const search = (name: string, q: string): Probe => ({
    name,
    path: api({ q }),
    call: (s, id) => s.list(id, list({ q })),
  });
  return [
    search('search_word', 'deadline'),
    search('search_course', `"${course}"`),
    search('search_name', 'Camille'),
    search('search_exclude', 'deadline -type:announcement'),
    { name: 'grouped_page_1', path: api({ group: 'true' }), call: (s, id) => s.listGroups(id, list({})) },
    { name: 'list_page_1', path: api({}), call: (s, id) => s.list(id, list({})) },
    { name: 'bell_page', path: '/settings/devices', call: (s, id) => s.bell(id), page: true },
    { name: 'unread_count', path: '/api/notifications/unread_count/', call: (s, id) => s.unreadCount(id) },
  ];
}

/** Times the service call and explains each statement it runs (captured from Sequelize, values inlined). */
async function inProcess(url: string, users: InboxUser[], list: Probe[], samples: number) {
  let captured: string[] = [];
  const sequelize = createSequelize({ url, poolMax: 1, onQuery: (sql) => captured.push(sql.replace(/^Executing \([^)]*\): /, '')) });
  const service = new NotificationService({
    store: new NotificationStore(sequelize),
    events: { publish: () => undefined } as never,
    sends: new SendStore(sequelize, DEFAULT_JOB_TIMING),
  });
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const out: Record<string, Record<string, { service: ReturnType<typeof summary>; plans: string[] }>> = {};
  try {
    for (const u of users) {
      out[u.shape] = {};
      for (const p of list) {
        captured = [];
        await p.call(service, u.id);
        const statements = captured;
        const plans: string[] = [];
        for (const sql of statements) {
          const { rows } = await pg.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`);
          plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        }
        const times: number[] = [];
        for (let i = 0; i < samples; i++) {
          const t0 = nowMs();
          await p.call(service, u.id);
          times.push(nowMs() - t0);
        }
        out[u.shape][p.name] = { service: summary(times), plans };
        log(`  ${u.shape} ${p.name}: service alone p50 ${out[u.shape][p.name].service.p50} ms, p99 ${out[u.shape][p.name].service.p99} ms`);
      }
    }
  } finally {
    await pg.end();
    await sequelize.close();
  }
  return out;
}

export async function runInbox(o: InboxOptions) {
  if (o.reuse) {
    const k = JSON.parse(readFileSync(o.reuse, 'utf8')) as Kept;
    return measure(o, k, environment());
  }
  const seedInto = async (url: string, kind: PgTarget['kind']): Promise<Kept> => {
    const secret = benchSecret();
    log(`seeding ${o.rows.toLocaleString('en')} notifications, ${o.perUser.toLocaleString('en')} for each measured user`);
    const seeded = await seedInbox(url, { total: o.rows, perUser: o.perUser, tag: `i${Date.now().toString(36)}`, secret, ...SERVER_SESSION });
    log(`seeded in ${seeded.seconds.toFixed(1)} s: ${JSON.stringify(seeded.counts)}`);
    return { url, kind, secret, seeded };
  };
  if (o.keep) {
    const target = o.target ?? (await openTarget());
    if (target.kind !== 'external') throw new Error('--keep needs DATABASE_URL (an embedded cluster is removed on exit)');
    const env = environment();
    const db = await createBenchDatabase(target, 'herald_bench_inbox_kept');
    const k = await seedInto(db.url, target.kind);
    writeFileSync(o.keep, JSON.stringify(k, null, 2));
    log(`kept ${db.url}; measure it again with --reuse ${o.keep}`);
    return measure(o, k, env);
  }
  return withBenchDatabase('herald_bench_inbox', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    return measure(o, await seedInto(url, target.kind), env);
  });
}

async function measure(o: InboxOptions, k: Kept, env: ReturnType<typeof environment>) {
  const { url, secret, seeded } = k;
  const settings = await serverSettings(url);
  log(`PostgreSQL ${settings.server_version}: fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit}`);
  const users = [seeded.mix, seeded.extreme];
  const list = probes(seeded.mix.topCourse);

  log('in-process: the service calls alone, and their plans');
  const sql = await inProcess(url, users, list, Math.min(300, o.requests));
  const loadAfterSql = environment().loadavg_at_start;

  const server = await startServer({ databaseUrl: url, secret });
  const http: Record<string, Record<string, ReturnType<typeof summary> & { server_cpu_ms_per_request: number; results?: number }>> = {};
  try {
    const a = agent(1);
    const get = (path: string, cookie: string) => request(server.origin, 'GET', path, { agent: a, cookie, headers: { accept: 'application/json, text/html' } });
    for (const u of [...users, seeded.empty]) {
      http[u.shape] = {};
      for (const p of list) {
        if (u === seeded.empty && !p.page) continue;
        // Shape check first: a fast error would be a meaningless figure.
        const first = expectStatus(await get(p.path, u.cookie), [200], `${u.shape} ${p.name}`);
        const results = first.body.startsWith('{') ? JSON.parse(first.body).results?.length : undefined;
        for (let i = 0; i < o.warmup; i++) await get(p.path, u.cookie);
        const times: number[] = [];
        const cpu0 = cpuMs(server.pids());
        for (let i = 0; i < o.requests; i++) {
          const r = await get(p.path, u.cookie);
          if (r.status !== 200) throw new Error(`${u.shape} ${p.name}: HTTP ${r.status}`);
          times.push(r.ms);
        }
        http[u.shape][p.name] = { ...summary(times), server_cpu_ms_per_request: round((cpuMs(server.pids()) - cpu0) / o.requests, 3), results };
        log(`  ${u.shape} ${p.name}: HTTP p50 ${http[u.shape][p.name].p50} ms, p95 ${http[u.shape][p.name].p95} ms, p99 ${http[u.shape][p.name].p99} ms (${results ?? '-'} results)`);
      }
    }
    a.destroy();
  } finally {
    await server.stop();
  }
  const loadAtEnd = environment().loadavg_at_start;

  const targets: Record<string, { target: string; measured: string; met: boolean }> = {};
  for (const u of users) {
    const h = http[u.shape];
    const searches = Object.keys(h).filter((k) => k.startsWith('search_'));
    const worst = Math.max(...searches.map((k) => h[k].p95));
    targets[`${u.shape}_search_p95_ms`] = { target: '< 50', measured: searches.map((k) => `${k} ${h[k].p95}`).join(', '), met: worst < 50 };
    targets[`${u.shape}_grouped_page_1_p99_ms`] = { target: '< 10', measured: String(h.grouped_page_1.p99), met: h.grouped_page_1.p99 < 10 };
    targets[`${u.shape}_bell_p99_ms`] = {
      target: '< 10 (the service call; the page around it is reported beside)',
      measured: `service ${sql[u.shape].bell_page.service.p99}; page ${h.bell_page.p99} vs ${http.empty.bell_page.p99} without notifications`,
      met: sql[u.shape].bell_page.service.p99 < 10,
    };
  }
  return {
    benchmark: 'inbox',
    environment: { ...env, loadavg_after_seed_and_sql: loadAfterSql, loadavg_at_end: loadAtEnd },
    database: { kind: k.kind, settings },
    method:
      `Two instructors with ${o.perUser.toLocaleString('en')} notifications each (every 50th row) among ` +
      `${o.rows.toLocaleString('en')}, seeded set-based, VACUUM ANALYZE after. "mix": 40 courses, 70% applications ` +
      `(skewed), announcements, messages, 10% done, 50 snoozed; "extreme": 90% applications in 9 groups, a third read. ` +
      `Per request ${o.requests} sequential keep-alive GETs (concurrency 1) after ${o.warmup} warm-up, each with the ` +
      `session cookie, against Herald's own server process (NODE_ENV=production). The bell has no route of its own: ` +
      `every page renders it (sendPage), so it is measured as GET /settings/devices (the bell plus an empty device ` +
      `list) for the user and for an instructor with no notifications; the difference is the bell. "Service alone": ` +
      `the NotificationService call in the bench process (same statements, one connection), ${Math.min(300, o.requests)} times.`,
    setup: { rows: o.rows, per_user: o.perUser, seed_seconds: round(seeded.seconds, 1), counts: seeded.counts, course_searched: seeded.mix.topCourse },
    http,
    service: Object.fromEntries(Object.entries(sql).map(([u, ps]) => [u, Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, v.service]))])),
    plans: Object.fromEntries(Object.entries(sql).map(([u, ps]) => [u, Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, v.plans]))])),
    targets,
  };
}

if (require.main === module) {
  const args = parseArgs();
  runInbox({
    rows: intArg(args, 'rows', 5_000_000),
    perUser: intArg(args, 'per-user', 100_000),
    requests: intArg(args, 'requests', 500),
    warmup: intArg(args, 'warmup', 100),
    keep: args.get('keep'),
    reuse: args.get('reuse'),
  })
    .then((r) => log(`wrote ${writeResult(args.get('name') ?? 'inbox', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
