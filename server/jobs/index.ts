import {
  Logger as WorkerLogger,
  run,
  runMigrations,
  type ParsedCronItem,
  type Runner,
  type TaskList,
  type TaskSpec,
  type WorkerEvents,
} from 'graphile-worker';
import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { WorkerLiveness, type RecoveryOptions } from './liveness';

export type { JobHelpers, Task, TaskList } from 'graphile-worker';

/*
 * The durable job queue: graphile-worker on Herald's own PostgreSQL. Chosen over pg-boss because a job can be
 * added by SQL (`graphile_worker.add_job`) inside the very statement that writes the notifications, so a job
 * exists exactly when its rows were committed; it wakes workers with LISTEN/NOTIFY, takes jobs with
 * SKIP LOCKED (every process may run a runner, each job runs once), dedupes by job key and retries with
 * exponential backoff (exp(attempt) seconds: the first retries come within seconds).
 */

/** The slice of a pino logger the queue writes to (the migrator passes a smaller one). */
export interface JobLog {
  info(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** graphile-worker's logger writing to ours, its scope (worker id, task, job id) as structured fields. */
export function workerLogger(log: JobLog): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    // graphile-worker hands the whole job row as `job` (payload, timestamps, lock holder): one ~700-character log
    // line per job run. Its id and task say which; the rest is in graphile_worker.jobs while it matters.
    const { job, ...rest } = (meta ?? {}) as { job?: { id?: unknown; task_identifier?: unknown } };
    const fields = { ...scope, ...rest, ...(job && { jobId: job.id, task: job.task_identifier }), component: 'jobs' };
    const name = String(level);
    if (name === 'error') (log.error ?? log.info).call(log, fields, message);
    else if (name === 'warning') (log.warn ?? log.info).call(log, fields, message);
    else if (name === 'info') log.info(fields, message);
    else log.debug?.(fields, message);
  });
}

/** Where the queue connects: a connection string (it opens its own pool) or a pool we own. */
export type JobConnection = { connectionString: string; pgPool?: never } | { pgPool: Pool; connectionString?: never };

/**
 * Creates or upgrades the graphile_worker schema. Idempotent and safe to run from several processes at once
 * (graphile-worker serialises its own migrations); `migrate()` calls it after our migrations.
 */
export async function installJobSchema(connection: JobConnection, log?: JobLog): Promise<void> {
  await runMigrations({ ...connection, logger: workerLogger(log ?? silent) });
}

export interface JobRunnerOptions {
  connection: JobConnection;
  log: JobLog;
  /** Every channel contributes its tasks: `{ ...emailTasks, ...pushTasks }`. */
  tasks: TaskList;
  /** Jobs run at once in this process (graphile-worker's default is 1). */
  concurrency?: number;
  /** Fallback poll when a NOTIFY was missed, in ms (the default 2000 suits production; tests lower it). */
  pollInterval?: number;
  /** Recurring jobs (digests), parsed with graphile-worker's `parseCrontab`/`parseCronItems`. */
  cron?: ParsedCronItem[];
  /** Freeing the jobs of workers that died (see `WorkerLiveness`); holds one connection of its own. */
  recovery?: RecoveryOptions;
}

export interface JobRunner {
  addJob(task: string, payload: unknown, spec?: TaskSpec): Promise<{ id: string }>;
  /** Stops taking jobs, waits for the running ones, then releases its connections. */
  stop(): Promise<void>;
  /** The underlying runner, for its events (job:success, job:error...) in tests and metrics. */
  readonly runner: Runner;
}

/**
 * Starts a runner. Signals are ours (main.ts stops the runner in its own shutdown order), so graphile-worker
 * must not install handlers that would exit the process under us.
 */
export async function startJobRunner(opts: JobRunnerOptions): Promise<JobRunner> {
  const liveness = await WorkerLiveness.open(opts.connection, opts.log, opts.recovery);
  // Our own emitter, listened to before run() creates the pool (it emits pool:create before it returns). Jobs
  // are locked by the pool's id (locked_by), not by its workers' ids.
  const events = new EventEmitter() as WorkerEvents;
  events.on('pool:create', ({ workerPool }) => liveness.alive(workerPool.id));
  let runner: Runner;
  try {
    runner = await run({
      ...opts.connection,
      events,
      taskList: opts.tasks,
      concurrency: opts.concurrency ?? 4,
      pollInterval: opts.pollInterval,
      noHandleSignals: true,
      logger: workerLogger(opts.log),
      parsedCronItems: opts.cron ?? [],
    });
  } catch (err) {
    await liveness.close();
    throw err;
  }
  liveness.start();
  let stopping: Promise<void> | undefined;
  return {
    runner,
    addJob: async (task, payload, spec) => ({ id: (await runner.addJob(task, payload, spec)).id }),
    stop() {
      stopping ??= runner.stop().finally(() => liveness.close());
      return stopping;
    },
  };
}

export { enqueueJobSql, type EnqueueSql } from './sql';
export { WorkerLiveness, type RecoveryOptions } from './liveness';

const silent: JobLog = { info: () => undefined };
export { startProcessRunner, type ProcessRunnerOptions } from './process';
