/**
 * Benchmark 2: how many authenticated idle sockets one server process holds, and its RSS per connection;
 * then a multi-process start holding 50,000 with a fan-out that still reaches every one of them.
 *
 *   npm run bench:connections -- [--single 19000] [--multi 50000] [--multi-processes 4]
 */
import os from 'node:os';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { fanOutOnce } from './lib/fanout-once';
import { agent } from './lib/http';
import { log, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse, type SeededCourse } from './lib/seed';
import { benchSecret, rssBytes, SERVER_SESSION, startServer } from './lib/server';
import { round } from './lib/stats';
import { MAX_PER_WORKER, WsFleet } from './lib/ws-fleet';

export interface ConnectionsOptions {
  single: number;
  multi: number;
  multiProcesses: number;
  target?: PgTarget;
}

/** Opening tens of thousands of sockets is bounded: past this the phase reports what it reached. */
const OPEN_TIMEOUT_MS = 180_000;

async function phase(o: {
  url: string;
  secret: string;
  seeded: SeededCourse;
  count: number;
  processes: number;
  clientWorkers: number;
}) {
  const server = await startServer({ databaseUrl: o.url, secret: o.secret, webConcurrency: o.processes });
  const a = agent(1);
  try {
    // Cluster workers finish loading modules after they listen; measure the baseline once they settle.
    await sleep(o.processes > 1 ? 5000 : 2000);
    const rssBefore = rssBytes(server.pids());
    const { fleet, reports } = await WsFleet.open({
      url: `ws://127.0.0.1:${server.port}/ws/notifications`,
      origin: server.origin,
      cookies: o.seeded.studentCookies.slice(0, o.count),
      workers: o.clientWorkers,
      concurrency: 64,
      timeoutMs: OPEN_TIMEOUT_MS,
    });
    try {
      const established = reports.reduce((s, r) => s + r.established, 0);
      const openMs = Math.max(...reports.map((r) => r.ms));
      const errors = reports.flatMap((r) => r.errors);
      log(`${established}/${o.count} sockets on ${o.processes} process(es) in ${(openMs / 1000).toFixed(1)} s`);
      // Idle for a while: keep-alive pings run, allocation from the handshakes settles.
      await sleep(5000);
      const pids = server.pids();
      const rssAfter = rssBytes(pids);
      const perProcess = pids.map((pid) => ({ pid, rss_mib: round(rssBytes([pid]) / 2 ** 20, 1) }));
      const stats = await fleet.stats();
      // Still alive and authenticated: one notify-students to the course must reach every open socket.
      const fan = await fanOutOnce({ server, fleet, agent: a, instructor: o.seeded.instructor, timeoutMs: 60_000 });
      log(`fan-out to ${fan.expected} open sockets: ${fan.delivered} delivered, last after ${fan.last_frame_ms} ms`);
      return {
        processes: o.processes,
        requested: o.count,
        established,
        open_errors: errors,
        open_seconds: round(openMs / 1000, 1),
        connections_per_second: round(established / (openMs / 1000), 0),
        still_open_after_idle: stats.open,
        closed_unexpectedly: stats.closedUnexpectedly,
        server_rss_mib_before: round(rssBefore / 2 ** 20, 1),
        server_rss_mib_after: round(rssAfter / 2 ** 20, 1),
        rss_kib_per_connection: round((rssAfter - rssBefore) / 1024 / Math.max(1, established), 2),
        server_processes: perProcess,
        load_generator_rss_mib: round(stats.rss / 2 ** 20, 1),
        fanout: fan,
      };
    } finally {
      await fleet.close();
    }
  } finally {
    a.destroy();
    await server.stop();
  }
}

export async function runConnections(o: ConnectionsOptions) {
  return withBenchDatabase('herald_bench_connections', o.target, async (url, target) => {
    const env = environment(); // at the start: the load average then says how quiet the machine was
    const secret = benchSecret();
    const result: Record<string, unknown> = {
      benchmark: 'connections',
      environment: env,
      database: { kind: target.kind, settings: await serverSettings(url) },
      bus: process.env.REDIS_URL ? 'redis' : 'postgres LISTEN/NOTIFY',
      method:
        'Sockets authenticated with seeded sessions, opened 64 handshakes at a time per load-generator process ' +
        `(each under ${MAX_PER_WORKER} sockets, each from its own loopback source address). A socket counts once the ` +
        'server greeted it with connection_established. RSS per connection = (server RSS 5 s after the last open ' +
        '- RSS before any socket) / sockets, summed over the server processes. Then one notify-students to the ' +
        'whole course checks that every open socket still receives.',
    };
    const single = await seedCourse(url, { students: o.single, secret, ...SERVER_SESSION });
    result.single = await phase({ url, secret, seeded: single, count: o.single, processes: 1, clientWorkers: 2 });

    // 50,000 sockets cost a few GiB across servers and clients; skip rather than push the machine into swap.
    const needGiB = 4;
    if (o.multi > 0 && os.freemem() / 2 ** 30 < needGiB) {
      result.multi = { skipped: `less than ${needGiB} GiB free memory` };
    } else if (o.multi > 0) {
      const multi = await seedCourse(url, { students: o.multi, secret, ...SERVER_SESSION });
      const clientWorkers = Math.max(2, Math.ceil(o.multi / 12_500));
      result.multi = await phase({ url, secret, seeded: multi, count: o.multi, processes: o.multiProcesses, clientWorkers });
    }
    const s = result.single as { established: number; rss_kib_per_connection: number; fanout: { delivered: number } };
    const m = result.multi as { established?: number; fanout?: { delivered: number; expected: number } } | undefined;
    result.targets = {
      single_process_sockets: { target: `>= ${o.single}`, measured: s.established, met: s.established >= o.single && s.fanout.delivered === s.established },
      rss_kib_per_connection: { target: '< 10', measured: s.rss_kib_per_connection, met: s.rss_kib_per_connection < 10 },
      multi_process_sockets_with_fanout: {
        target: `${o.multi} across ${o.multiProcesses} processes, fan-out reaches all`,
        measured: m?.established !== undefined ? `${m.established} open, fan-out delivered ${m.fanout?.delivered}` : 'not run',
        met: m?.established === o.multi && m?.fanout?.delivered === o.multi,
      },
    };
    return result;
  });
}

if (require.main === module) {
  const args = parseArgs();
  runConnections({
    single: intArg(args, 'single', 19_000),
    multi: intArg(args, 'multi', 50_000),
    multiProcesses: intArg(args, 'multi-processes', 4),
  })
    .then((r) => log(`wrote ${writeResult('connections', r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
