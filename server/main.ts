/**
 * Starts Herald: config, database (embedded unless DATABASE_URL), migrations, demo data, HTTP and WebSockets.
 * Stops it gracefully on SIGTERM/SIGINT: sockets told to reconnect elsewhere (1012), in-flight requests finished
 * (their events still go out on the bus), then the bus, the job runner (running jobs finish) and the pools
 * closed, the embedded database stopped.
 *
 * WEB_CONCURRENCY=n (n > 1) runs a node:cluster primary that owns the database (embedded start, migrations,
 * seed) and n workers that share the port; events reach every worker through the bus (PostgreSQL LISTEN/NOTIFY,
 * or Redis when REDIS_URL is set), so any worker can serve any socket.
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { ConfigError, loadConfig, loadEmailConfig, StartupError, type Config, type EmailConfig } from './config';
import { createApp } from './app';
import { Dispatcher } from './channels';
import { createMailer, digestCron, emailTasks } from './channels/email';
import { pushChannelTasks } from './channels/push';
import { notificationTasks } from './services/notifications/tasks';
import { WebhookChannel, webhookChannelTasks } from './channels/webhooks';
import { openDatabase } from './db/open';
import { guardConnections } from './http/connection-guard';
import { createSession } from './http/session';
import { startProcessRunner } from './jobs';
import { createLogger, logFormatFor, type Logger } from './logger';
import { createBus, createRealtime } from './realtime';
import { createServices } from './services';
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemo } from './services/demo-seed';

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
  if (cluster.isPrimary && config.webConcurrency > 1) return runPrimary(config, logger);
  return runServer(config, email, logger.child(cluster.isWorker ? { worker: cluster.worker!.id } : {}));
}

function publicUrl(config: Config) {
  return config.publicUrl ?? `http://localhost:${config.port}`;
}

function printBanner(config: Config, seeded: boolean) {
  if (!config.seedDemo) return;
  const url = publicUrl(config);
  const lines = DEMO_LOGINS.map((d) => `    ${d.email.padEnd(26)} ${d.role}`).join('\n');
  process.stdout.write(
    `\n  Herald is ready at ${url}${seeded ? ' (demo data created)' : ''}\n` +
      `  Demo logins (password: ${DEMO_PASSWORD}):\n${lines}\n  Admin console: ${url}/admin\n\n`,
  );
}

/** One serving process: the whole app. In cluster mode the primary already migrated and seeded. */
async function runServer(config: Config, email: EmailConfig, logger: Logger) {
  const db = await openDatabase(config, logger, { ownSignals: true }); // shutdown() below stops it last

  // The bus is the services' EventPublisher: an event goes out to every process, this one included.
  const bus = createBus({ databaseUrl: db.url, redisUrl: config.redisUrl, logger });
  const services = createServices({
    sequelize: db.sequelize,
    models: db.models,
    events: bus,
    push: { vapid: config.vapid, outbound: { allowPrivate: config.outboundAllowPrivate } },
    jobTiming: { unreadDelaySeconds: email.unreadDelaySeconds },
  });
  // The VAPID pair exists before anyone asks for it: GET /api/push/vapid-public-key then only reads.
  await services.vapid.get();
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

  // The durable jobs: every serving process runs a runner (the migrations above installed the queue's schema);
  // graphile-worker's SKIP LOCKED runs each job once whatever WEB_CONCURRENCY is.
  const mailer = createMailer(email);
  const jobs = await startProcessRunner({
    databaseUrl: db.url,
    log: logger,
    tasks: {
      ...notificationTasks({ notifications: services.notifications }),
      ...emailTasks({ sequelize: db.sequelize, mailer, site: { publicUrl: publicUrl(config), secret: config.sessionSecret } }),
      ...pushChannelTasks({
        sequelize: db.sequelize,
        subscriptions: services.pushSubscriptions,
        vapid: services.vapid,
        policy: { allowPrivate: config.outboundAllowPrivate },
        logger,
      }),
      ...webhookChannelTasks({
        sequelize: db.sequelize,
        notifications: services.notifications,
        policy: { allowPrivate: config.outboundAllowPrivate },
        logger,
      }),
    },
    cron: digestCron,
  });

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
    await session.pool.end().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
  logger.info({ url: publicUrl(config), database: db.embedded ? 'embedded' : 'external', bus: bus.kind }, 'Herald is listening');
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
    await jobs.stop().catch((err) => logger.error({ err }, 'job runner did not stop cleanly'));
    mailer.close();
    await session.pool.end().catch(() => undefined);
    await db.close();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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

/**
 * The cluster primary: owns the database, forks the workers with DATABASE_URL pointing at it, replaces crashed
 * workers (backing off when they crash at boot), and on a signal stops the workers before the database.
 */
async function runPrimary(config: Config, logger: Logger) {
  const db = await openDatabase(config, logger, { poolMax: 2, ownSignals: true }); // the primary stops it after its workers
  const seeded = config.seedDemo ? await seedDemo(db.sequelize, db.models) : false;
  await db.sequelize.close(); // the primary serves nothing; only the embedded server (if any) stays up
  const env = { DATABASE_URL: db.url };
  let stopping = false;
  let quickCrashes = 0;
  const startedAt = new Map<number, number>();

  const fork = () => {
    const w = cluster.fork(env);
    startedAt.set(w.id, Date.now());
  };
  let listening = 0;
  cluster.on('listening', () => {
    listening += 1;
    if (listening === config.webConcurrency) {
      logger.info({ workers: config.webConcurrency, url: publicUrl(config) }, 'Herald is listening');
      printBanner(config, seeded);
    }
  });
  cluster.on('exit', (w: Worker, code, signal) => {
    if (stopping) return;
    const lived = Date.now() - (startedAt.get(w.id) ?? 0);
    startedAt.delete(w.id);
    quickCrashes = lived < 5_000 ? quickCrashes + 1 : 0;
    const delay = Math.min(250 * 2 ** quickCrashes, 30_000);
    logger.warn({ worker: w.id, code, signal, restartInMs: delay }, 'worker exited; starting a new one');
    setTimeout(() => !stopping && fork(), delay);
  });
  for (let i = 0; i < config.webConcurrency; i++) fork();

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => w.process.kill('SIGKILL'), 15_000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            w.process.kill('SIGTERM');
          }),
      ),
    );
    await db.embedded?.stop();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  // An operator's mistake gets its sentence alone; anything else its stack, and never a bare `undefined`.
  const why = err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : `unexpected error (${String(err)})`;
  console.error(`Herald failed to start: ${why}`);
  process.exit(1);
});
