import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config';
import { openDatabase } from '../db/open';
import type { Logger } from '../logger';
import { seedDemo } from '../services/demo-seed';
import { onShutdownSignal, printBanner, publicUrl } from './core';

/** Tells a forked process what it is: `web` serves HTTP and sockets, `jobs` runs only the job runner. */
export const ROLE_ENV = 'HERALD_PROCESS_ROLE';
export type Role = 'web' | 'jobs';

/**
 * The cluster primary (WEB_CONCURRENCY > 1 or JOB_WORKERS >= 1): owns the database, forks WEB_CONCURRENCY serving
 * processes and JOB_WORKERS job processes with DATABASE_URL pointing at it, replaces crashed ones with the same
 * role (backing off when they crash at boot), and on a signal stops them in the single-process order: serving
 * processes first (sockets told to reconnect, in-flight requests finished, so their jobs are committed), then the
 * job processes (running jobs finish and publish), then the database.
 */
export async function runPrimary(config: Config, logger: Logger) {
  const db = await openDatabase(config, logger, { poolMax: 2 });
  const seeded = config.seedDemo ? await seedDemo(db.sequelize, db.models) : false;
  await db.sequelize.close(); // the primary serves nothing; only the embedded server (if any) stays up
  let stopping = false;
  let quickCrashes = 0;
  const started = new Map<number, { role: Role; at: number }>();

  const fork = (role: Role) => {
    const w = cluster.fork({ DATABASE_URL: db.url, [ROLE_ENV]: role });
    started.set(w.id, { role, at: Date.now() });
    logger.info({ worker: w.id, workerPid: w.process.pid, role }, role === 'jobs' ? 'started a job process' : 'started a web process');
  };
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === config.webConcurrency) {
      logger.info({ workers: config.webConcurrency, jobWorkers: config.jobWorkers, url: publicUrl(config) }, 'Herald is listening');
      printBanner(config, seeded);
    }
  });
  cluster.on('exit', (w: Worker, code, signal) => {
    const was = started.get(w.id);
    started.delete(w.id);
    if (stopping || !was) return;
    const lived = Date.now() - was.at;
    quickCrashes = lived < 5_000 ? quickCrashes + 1 : 0;
    const delay = Math.min(250 * 2 ** quickCrashes, 30_000);
    logger.warn({ worker: w.id, role: was.role, code, signal, restartInMs: delay }, 'worker exited; starting a new one');
    setTimeout(() => !stopping && fork(was.role), delay);
  });
  for (let i = 0; i < config.webConcurrency; i++) fork('web');
  for (let i = 0; i < config.jobWorkers; i++) fork('jobs');

  const live = (role: Role) =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead() && started.get(w.id)?.role === role);
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    await stopAll(live('web'), 15_000);
    // A job may run for a while (a push chunk, an SMTP batch): it gets longer to finish than a request.
    await stopAll(live('jobs'), 30_000);
    await db.embedded?.stop();
    logger.info('bye');
    process.exit(0);
  };
  onShutdownSignal((signal) => void shutdown(signal));
}

/** SIGTERM to each, SIGKILL to those still running after `graceMs`. */
function stopAll(workers: Worker[], graceMs: number): Promise<unknown> {
  return Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => w.process.kill('SIGKILL'), graceMs);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          w.process.kill('SIGTERM');
        }),
    ),
  );
}
