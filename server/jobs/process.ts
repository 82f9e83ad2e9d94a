import { Pool } from 'pg';
import type { ParsedCronItem } from 'graphile-worker';
import { startJobRunner, type JobLog, type JobRunner, type TaskList } from './index';
import type { RecoveryOptions } from './liveness';

export interface ProcessRunnerOptions {
  databaseUrl: string;
  /** Names the runner's connections in pg_stat_activity (which process runs jobs). */
  applicationName?: string;
  log: JobLog;
  tasks: TaskList;
  /** Jobs at once in this process. Every serving process runs a runner; SKIP LOCKED shares the jobs out. */
  concurrency?: number;
  pollInterval?: number;
  recovery?: RecoveryOptions;
  /** Recurring jobs (the hourly digest tick); graphile-worker keeps each tick once across processes. */
  cron?: ParsedCronItem[];
}

/**
 * The job runner of one Herald process, on a small pool of its own: its jobs' connections never compete with
 * the requests' Sequelize pool, and with WEB_CONCURRENCY workers the database sees n small pools, not n large
 * ones. `stop()` lets running jobs finish, then closes the pool.
 */
export async function startProcessRunner(opts: ProcessRunnerOptions): Promise<JobRunner> {
  const concurrency = opts.concurrency ?? 2;
  // One connection per running job, one for LISTEN, one for the runner's bookkeeping and addJob, one held by
  // the worker-liveness session.
  const pool = new Pool({ connectionString: opts.databaseUrl, max: concurrency + 3, application_name: opts.applicationName });
  // A connection dropped by the server must not crash the process: graphile-worker reconnects.
  const onError = (err: Error) => opts.log.error?.({ err, component: 'jobs' }, 'job connection failed');
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  let runner: JobRunner;
  try {
    runner = await startJobRunner({
      connection: { pgPool: pool },
      log: opts.log,
      tasks: opts.tasks,
      concurrency,
      pollInterval: opts.pollInterval,
      recovery: opts.recovery,
      cron: opts.cron,
    });
  } catch (err) {
    await pool.end();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    runner: runner.runner,
    addJob: (task, payload, spec) => runner.addJob(task, payload, spec),
    stop() {
      stopping ??= runner.stop().finally(() => pool.end());
      return stopping;
    },
  };
}
