/**
 * Starts Herald: config, database (embedded unless DATABASE_URL), migrations, demo data, HTTP and WebSockets.
 * Stops it gracefully on SIGTERM/SIGINT: sockets told to reconnect elsewhere (1012), in-flight requests finished
 * (their events still go out on the bus), then the bus, the job runner (running jobs finish) and the pools
 * closed, the embedded database stopped.
 *
 * The process roles live in server/process/: `web.ts` (a serving process, with a job runner when JOB_WORKERS=0),
 * `jobs.ts` (a job process: the runner alone, no listener), `primary.ts` (the node:cluster primary).
 *
 * WEB_CONCURRENCY=n (n > 1) or JOB_WORKERS=m (m >= 1) runs a cluster primary that owns the database (embedded
 * start, migrations, seed), n serving workers that share the port and m job processes; events reach every worker
 * through the bus (PostgreSQL LISTEN/NOTIFY, or Redis when REDIS_URL is set), so any worker can serve any socket
 * and what a job publishes reaches them all.
 */
import cluster from 'node:cluster';
import { ConfigError, loadConfig, loadEmailConfig, StartupError } from './config';
import { createLogger, logFormatFor } from './logger';
import { runJobProcess } from './process/jobs';
import { ROLE_ENV, runPrimary } from './process/primary';
import { runServer } from './process/web';

async function main() {
  let config;
  let email;
  try {
    config = loadConfig();
    email = loadEmailConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, logFormatFor(config.env));
  if (cluster.isPrimary && (config.webConcurrency > 1 || config.jobWorkers > 0)) return runPrimary(config, logger);
  if (cluster.isWorker && process.env[ROLE_ENV] === 'jobs') {
    return runJobProcess(config, email, logger.child({ worker: cluster.worker!.id, role: 'jobs' }));
  }
  return runServer(config, email, logger.child(cluster.isWorker ? { worker: cluster.worker!.id, role: 'web' } : {}));
}

main().catch((err: unknown) => {
  // An operator's mistake gets its sentence alone; anything else its stack, and never a bare `undefined`.
  const why = err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : `unexpected error (${String(err)})`;
  console.error(`Herald failed to start: ${why}`);
  process.exit(1);
});
