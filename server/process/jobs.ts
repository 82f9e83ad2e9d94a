import os from 'node:os';
import type { Config, EmailConfig } from '../config';
import { createMailer, digestCron, emailTasks, type Mailer } from '../channels/email';
import { pushChannelTasks } from '../channels/push';
import { webhookChannelTasks } from '../channels/webhooks';
import type { TaskList } from 'graphile-worker';
import type { Sequelize } from 'sequelize';
import type { Services } from '../services';
import { startProcessRunner, type JobRunner } from '../jobs';
import { notificationCron, notificationTasks } from '../services/notifications/tasks';
import type { Logger } from '../logger';
import { onShutdownSignal, openCore, publicUrl, type Core } from './core';

/** A process's job runner and what its tasks hold open (the SMTP pool). */
export interface ProcessJobs {
  /** Stops taking jobs, lets the running ones finish, then closes the runner's pool and the mailer. */
  stop(): Promise<void>;
  readonly runner: JobRunner;
}

/**
 * Starts this process's runner with every channel's tasks. Its pool's connections are named
 * `herald-jobs:<pid>` in pg_stat_activity: which processes run jobs is visible in the database (and tested).
 */
export async function startJobs(core: Core, config: Config, email: EmailConfig, logger: Logger): Promise<ProcessJobs> {
  const { db } = core;
  const mailer = createMailer(email);
  const runner = await startProcessRunner({
    databaseUrl: db.url,
    applicationName: `herald-jobs:${process.pid}`,
    log: logger,
    tasks: processTasks({ sequelize: db.sequelize, services: core.services }, config, mailer, logger),
    cron: [...digestCron, ...notificationCron],
    // Checking twice per stale period keeps a dead runner's jobs waiting at most about 1.5 of it.
    recovery: { staleAfterSeconds: config.jobStaleSeconds, intervalMs: Math.min(30_000, config.jobStaleSeconds * 500) },
  });
  return {
    runner,
    async stop() {
      await runner.stop();
      mailer.close();
    },
  };
}

/**
 * Every durable job a production runner takes: the notifications' own (snooze wake-ups) and each channel's. One
 * list, so a task that some statement enqueues cannot be missing here (server/test/process/tasks.test.ts).
 */
export function processTasks(
  deps: { sequelize: Sequelize; services: Services },
  config: Config,
  mailer: Mailer,
  logger: Logger,
): TaskList {
  const { sequelize, services } = deps;
  const policy = { allowPrivate: config.outboundAllowPrivate };
  return {
    ...notificationTasks({ notifications: services.notifications, sends: services.sends, tombstoneRetentionDays: config.stateReplayRetentionDays }),
    ...emailTasks({ sequelize, mailer, site: { publicUrl: publicUrl(config), secret: config.sessionSecret } }),
    ...pushChannelTasks({ sequelize, subscriptions: services.pushSubscriptions, vapid: services.vapid, policy, logger }),
    ...webhookChannelTasks({ sequelize, notifications: services.notifications, policy, logger }),
  };
}

/**
 * A job process (JOB_WORKERS >= 1): the runner and what jobs need, no HTTP listener, no sockets, so push
 * encryption, SMTP and webhooks never hold up a serving process's event loop. The bus is started because jobs
 * publish (an event after a job commits) and Redis's publisher connects only on start.
 */
export async function runJobProcess(config: Config, email: EmailConfig, logger: Logger) {
  // Lowering one's own priority needs no privilege; on a machine shared with serving processes the scheduler then
  // runs socket delivery first and jobs on what is left (pushes are batch work, frames are interactive).
  if (config.jobNice > 0) os.setPriority(config.jobNice);
  const core = await openCore(config, email, logger);
  await core.bus.start();
  const jobs = await startJobs(core, config, email, logger);
  logger.info({ nice: os.getPriority(), database: core.db.embedded ? 'embedded' : 'external', bus: core.bus.kind }, 'job process running');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'job process stopping; running jobs finish first');
    // Running jobs finish (and publish) before the bus closes; the bus flushes what they published.
    await jobs.stop().catch((err) => logger.error({ err }, 'job runner did not stop cleanly'));
    await core.bus.stop().catch(() => undefined);
    await core.db.close();
    logger.info('bye');
    process.exit(0);
  };
  onShutdownSignal((signal) => void shutdown(signal));
}
