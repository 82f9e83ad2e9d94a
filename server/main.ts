/**
 * Starts Herald: config, database (embedded unless DATABASE_URL), migrations, demo data, HTTP and WebSockets.
 * Stops it gracefully on SIGTERM/SIGINT: stop accepting, finish in-flight requests, close pools, stop the
 * embedded database.
 */
import http from 'node:http';
import { ConfigError, loadConfig } from './config';
import { createApp } from './app';
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemo } from './db/seed';
import { openDatabase } from './db/open';
import { createSession } from './http/session';
import { createLogger } from './logger';
import { createServices } from './services';
import { LocalEvents } from './services/events';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  const seeded = config.seedDemo ? await seedDemo(db.sequelize, db.models) : false;

  const events = new LocalEvents();
  const services = createServices({ sequelize: db.sequelize, models: db.models, events });
  const session = createSession(config, db.url);
  const app = createApp({ config, logger, services, session: session.middleware });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const url = config.publicUrl ?? `http://localhost:${config.port}`;
  logger.info({ url, database: db.embedded ? 'embedded' : 'external' }, 'Herald is listening');
  if (config.seedDemo) {
    const lines = DEMO_LOGINS.map((d) => `    ${d.email.padEnd(26)} ${d.role}`).join('\n');
    process.stdout.write(
      `\n  Herald is ready at ${url}${seeded ? ' (demo data created)' : ''}\n` +
        `  Demo logins (password: ${DEMO_PASSWORD}):\n${lines}\n  Admin console: ${url}/admin\n\n`,
    );
  }

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
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(force);
    await session.pool.end().catch(() => undefined);
    await db.close();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error('Herald failed to start:', err);
  process.exit(1);
});
