/**
 * Web Push throughput: an instructor notifies a course of N students, each with push on and one device at a
 * local push service (https on loopback, a certificate made here and trusted by the server process through
 * NODE_EXTRA_CA_CERTS, OUTBOUND_ALLOW_PRIVATE=true). The pushes go the production way: the fan-out's statement
 * enqueues one `push:send` job, the server's job runner sends them. The push service accepts (201) and counts
 * every push, checks the VAPID key and decrypts a sample. Measured: pushes/s, server RSS over the run.
 *
 *   npm run bench:push -- [--pushes 10000] [--sample 100]
 *   npm run bench:push -- --fanout-sockets 1000 [--rounds 3]   socket fan-out latency while pushes go out (push-fanout.ts)
 */
import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { checkVapid, decryptAes128gcm } from '../server/test/support/push-service';
import { intArg, parseArgs } from './lib/args';
import { serverSettings, withBenchDatabase, type PgTarget } from './lib/database';
import { agent, expectStatus, request } from './lib/http';
import { log, nowMs, sleep } from './lib/log';
import { environment, writeResult } from './lib/results';
import { seedCourse } from './lib/seed';
import { benchSecret, cpuMs, rssBytes, SERVER_SESSION, startServer } from './lib/server';
import { round } from './lib/stats';

export interface PushBenchOptions {
  pushes: number;
  /** Decrypt and check every `sample`-th push (all of them cost the bench process CPU the server then lacks). */
  sample: number;
  target?: PgTarget;
}

const TARGET_PER_SECOND = 500;

/** A throwaway certificate for 127.0.0.1; its PEM is also the CA file the server trusts. */
export function certificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** The push service: counts pushes by arrival time, decrypts every `sample`-th device's push. */
export async function startPushService(opts: { key: string; cert: string; sample: number; vapidKey: () => string }) {
  const devices: Array<{ ecdh: ECDH; auth: Buffer }> = [];
  const arrivals: number[] = [];
  const problems: string[] = [];
  let checked = 0;
  let origin = '';
  const server = https.createServer({ key: opts.key, cert: opts.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push(nowMs());
      const index = Number(/^\/push\/(\d+)$/.exec(req.url ?? '')?.[1]);
      if (Number.isInteger(index) && index % opts.sample === 0 && devices[index]) {
        try {
          checkVapid(req.headers.authorization, opts.vapidKey(), origin);
          const payload = JSON.parse(decryptAes128gcm(Buffer.concat(chunks), devices[index]).toString('utf8'));
          if (typeof payload.id !== 'number' || payload.type !== 'announcement') throw new Error(`unexpected payload ${JSON.stringify(payload)}`);
          checked++;
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      res.writeHead(201).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    arrivals,
    problems,
    checked: () => checked,
    /** A browser's subscription: its key pair and auth secret stay here, the endpoint and public parts go to Herald. */
    subscribe(index: number) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      devices[index] = { ecdh, auth };
      return { endpoint: `${origin}/push/${index}`, p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') };
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** One device per student (its subscription, made by the push service), stored as the browser would have; announcements pushed by default. */
export async function subscribeAll(
  url: string,
  studentIds: number[],
  subs: Array<{ endpoint: string; p256dh: string; auth: string }>,
): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const t0 = Date.now();
    await db.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
       SELECT t.*, 'herald-bench' FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS t`,
      [studentIds, subs.map((s) => s.endpoint), subs.map((s) => s.p256dh), subs.map((s) => s.auth)],
    );
    // Announcements pushed for everyone, as an admin would set the default.
    await db.query(`UPDATE notification_type_defaults SET push = true WHERE type = 'announcement'`);
    log(`${studentIds.length} devices subscribed at ${new URL(subs[0]?.endpoint ?? 'https://none').origin} in ${Date.now() - t0} ms`);
  } finally {
    await db.end();
  }
}

export async function runPush(o: PushBenchOptions) {
  return withBenchDatabase('herald_bench_push', o.target, async (url, target) => {
    const env = environment();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-push-'));
    const { key, cert, certFile } = certificate(dir);
    let vapidKey = '';
    const service = await startPushService({ key, cert, sample: o.sample, vapidKey: () => vapidKey });
    const secret = benchSecret();
    const seeded = await seedCourse(url, { students: o.pushes, secret, ...SERVER_SESSION });

    await subscribeAll(url, seeded.studentIds, seeded.studentIds.map((_, i) => service.subscribe(i)));

    const server = await startServer({
      databaseUrl: url,
      secret,
      env: { OUTBOUND_ALLOW_PRIVATE: 'true', NODE_EXTRA_CA_CERTS: certFile },
    });
    const a = agent(1);
    try {
      const keyRes = expectStatus(await request(server.origin, 'GET', '/api/push/vapid-public-key', { agent: a, cookie: seeded.instructor.cookie }), [200], 'vapid key');
      vapidKey = JSON.parse(keyRes.body).key;

      const pids = server.pids();
      const rss: number[] = [rssBytes(pids)];
      const cpu0 = cpuMs(pids);
      const load0 = os.loadavg();
      const sampler = setInterval(() => rss.push(rssBytes(pids)), 250);
      const t0 = nowMs();
      const post = await request(server.origin, 'POST', `/api/courses/${seeded.courseId}/notify-students/`, {
        agent: a,
        cookie: seeded.instructor.cookie,
        csrf: seeded.instructor.csrf_token,
        json: { notification_type: 'announcement', title: 'Bench push', message: 'Seeded by the benchmarks.' },
      });
      expectStatus(post, [201], 'notify-students');
      // Until every push arrived, or nothing new came for 30 s.
      let seen = 0;
      let quietSince = Date.now();
      while (service.arrivals.length < o.pushes && Date.now() - quietSince < 30_000) {
        await sleep(100);
        if (service.arrivals.length !== seen) (seen = service.arrivals.length), (quietSince = Date.now());
      }
      await sleep(500); // RSS and CPU right after the last send
      clearInterval(sampler);
      const cpu = cpuMs(pids) - cpu0;
      const arrivals = service.arrivals;
      const first = Math.min(...arrivals);
      const last = Math.max(...arrivals);
      const mib = (b: number) => round(b / 2 ** 20, 1);
      const perSecond = round((arrivals.length * 1000) / (last - t0), 0);
      const sending = round((arrivals.length * 1000) / Math.max(1, last - first), 0);
      const summary = {
        pushes: o.pushes,
        received: arrivals.length,
        decrypted_sample: service.checked(),
        sample_problems: service.problems.slice(0, 5),
        post_ms: round(post.ms),
        first_push_ms: round(first - t0),
        last_push_ms: round(last - t0),
        pushes_per_second: perSecond,
        pushes_per_second_while_sending: sending,
        server_cpu_ms: cpu,
        server_cpu_us_per_push: round((cpu * 1000) / Math.max(1, arrivals.length), 1),
        server_rss_mib: { before: mib(rss[0]), peak: mib(Math.max(...rss)), after: mib(rss[rss.length - 1]) },
        loadavg_during: { start: load0.map((x) => round(x, 2)), end: os.loadavg().map((x) => round(x, 2)) },
      };
      log(
        `${arrivals.length}/${o.pushes} pushes in ${summary.last_push_ms} ms after the POST: ${perSecond}/s ` +
          `(${sending}/s from the first push), sample ${service.checked()} decrypted, ${service.problems.length} problems; ` +
          `RSS ${summary.server_rss_mib.before} → peak ${summary.server_rss_mib.peak} → ${summary.server_rss_mib.after} MiB; ` +
          `load ${summary.loadavg_during.start.join(' ')} → ${summary.loadavg_during.end.join(' ')}`,
      );
      return {
        benchmark: 'push',
        environment: env,
        database: { kind: target.kind, settings: await serverSettings(url) },
        method:
          `One server (WEB_CONCURRENCY=1, NODE_ENV=production) with its job runner. ${o.pushes} students of one ` +
          `course each have one push subscription at a local https push service in the bench process (same ` +
          `origin for all: the per-origin bound of ${16} requests in flight applies). The instructor POSTs ` +
          `notify-students; the fan-out statement enqueues one push:send job; the runner sends. pushes/s = pushes ` +
          `received / (last arrival - POST sent); the push service answers 201 at once, checks VAPID and decrypts ` +
          `every ${o.sample}th push. RSS of the server's Node processes sampled every 250 ms.`,
        result: summary,
        targets: {
          push_per_second: {
            target: `>= ${TARGET_PER_SECOND}`,
            measured: perSecond,
            met: perSecond >= TARGET_PER_SECOND && arrivals.length === o.pushes && service.problems.length === 0,
          },
        },
      };
    } finally {
      a.destroy();
      await server.stop();
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

if (require.main === module && parseArgs().has('fanout-sockets')) {
  // The A/B mode lives in its own file; `bench:push` stays the one command for both.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only in this mode (it imports this file)
  (require('./push-fanout') as typeof import('./push-fanout.js')).main();
} else if (require.main === module) {
  const args = parseArgs();
  const pushes = intArg(args, 'pushes', 10_000);
  runPush({ pushes, sample: Math.max(1, intArg(args, 'sample', 100)) })
    .then((r) => log(`wrote ${writeResult(pushes === 10_000 ? 'push' : `push-${pushes}`, r)}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
