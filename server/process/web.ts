import cluster from 'node:cluster';
import http from 'node:http';
import { StartupError, type Config, type EmailConfig } from '../config';
import { createApp } from '../app';
import { Dispatcher } from '../channels';
import { WebhookChannel } from '../channels/webhooks';
import { guardConnections } from '../http/connection-guard';
import { createSession } from '../http/session';
import type { Logger } from '../logger';
import { createRealtime } from '../realtime';
import { seedDemo } from '../services/demo-seed';
import { onShutdownSignal, openCore, printBanner, publicUrl } from './core';
import { startJobs, type ProcessJobs } from './jobs';

/**
 * One serving process: the whole app over HTTP and WebSockets. In cluster mode the primary already migrated and
 * seeded. It runs the job runner too unless JOB_WORKERS gave the jobs processes of their own.
 */
export async function runServer(config: Config, email: EmailConfig, logger: Logger) {
  const { db, bus, services } = await openCore(config, email, logger);
  const seeded = !cluster.isWorker && config.seedDemo ? await seedDemo(db.sequelize, db.models) : false;
  const session = createSession(config, db.url);
  const realtime = createRealtime({
    config,
    logger,
    sequelize: db.sequelize,
    services,
    bus,
    session: session.middleware,
    defaultMetrics: true,
    sessionCheckMs: config.sessionCheckMs,
  });
  // Every channel events are delivered through: one entry each.
  const dispatcher = new Dispatcher({ bus, logger, channels: [realtime, new WebhookChannel({ sequelize: db.sequelize, logger })] });
  await dispatcher.start();

  // The durable jobs: with JOB_WORKERS=0 every serving process runs a runner (the migrations above installed the
  // queue's schema); graphile-worker's SKIP LOCKED runs each job once whatever WEB_CONCURRENCY is. Otherwise the
  // job processes run them, and this process only enqueues (in the statements that make jobs necessary).
  const jobs: ProcessJobs | undefined = config.jobWorkers === 0 ? await startJobs({ db, bus, services }, config, email, logger) : undefined;

  const app = createApp({
    config,
    logger,
    services,
    session: session.middleware,
    probes: realtime.probes,
    socketsOpen: () => realtime.openSocketCount(),
    eventStreams: realtime,
  });
  // Node sweeps for timed-out heads every connectionsCheckingInterval: a second keeps the 30 s bound close to 30 s.
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, app);
  server.keepAliveTimeout = 65_000;
  guardConnections(server, {
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    maxPendingPerIp: config.maxPendingConnectionsPerIp,
  });
  realtime.attach(server);

  try {
    await listen(server, config);
  } catch (err) {
    await realtime.closeSockets().catch(() => undefined);
    await dispatcher.stop().catch(() => undefined);
    await jobs?.stop().catch(() => undefined);
    await session.pool.end().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
  logger.info(
    { url: publicUrl(config), database: db.embedded ? 'embedded' : 'external', bus: bus.kind, jobRunner: Boolean(jobs) },
    'Herald is listening',
  );
  if (!cluster.isWorker) printBanner(config, seeded);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing anyway');
      server.closeAllConnections();
    }, 10_000);
    force.unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await realtime.closeSockets();
    await closed;
    clearTimeout(force);
    // Only now: a request that was still running committed and published its event on this bus.
    await dispatcher.stop();
    // After the drain (a request's job is committed by now), before the pools: running jobs finish their chunk.
    await jobs?.stop().catch((err) => logger.error({ err }, 'job runner did not stop cleanly'));
    await session.pool.end().catch(() => undefined);
    await db.close();
    logger.info('bye');
    process.exit(0);
  };
  onShutdownSignal((signal) => void shutdown(signal));
}

/** Listens, or fails with what to do about it (the usual cause: another Herald already on that port). */
function listen(server: http.Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new StartupError(
            `Port ${config.port} is already in use (${where}): is Herald already running? Stop it, or start this one ` +
              `on another port, e.g. PORT=${config.port === 0 ? 3000 : config.port + 1} npm start.`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(new StartupError(`Not allowed to listen on ${where}: choose a port above 1023 with PORT=.`));
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(new StartupError(`HOST=${config.host} is not an address of this machine: set HOST= to one that is.`));
      } else {
        reject(err);
      }
    };
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
