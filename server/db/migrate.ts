import path from 'node:path';
import { Umzug, SequelizeStorage } from 'umzug';
import { Client } from 'pg';
import type { QueryInterface, Sequelize } from 'sequelize';
import { installJobSchema } from '../jobs';

export type MigrationContext = QueryInterface;

/** One timestamped file per change in migrations/, each with up and down, recorded in SequelizeMeta. */
export function createMigrator(sequelize: Sequelize, logger?: { info: (o: object, m?: string) => void }) {
  return new Umzug({
    migrations: {
      glob: ['*.{ts,js}', { cwd: path.join(__dirname, '..', '..', 'migrations'), ignore: ['*.d.ts'] }],
    },
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize }),
    logger: logger ? { info: (m) => logger.info(m, 'migration'), warn: () => {}, error: () => {}, debug: () => {} } : undefined,
  });
}

/**
 * Runs pending migrations under an advisory lock held on a dedicated connection (a pooled one could hand the
 * unlock to another session), so several processes starting together migrate once. The job queue's own schema
 * (graphile_worker) follows ours, so every database Herald migrates (npm start, DATABASE_URL, the tests'
 * template) can take jobs.
 */
export async function migrate(sequelize: Sequelize, url: string, logger?: { info: (o: object, m?: string) => void }) {
  const lock = new Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(7420001)');
    await createMigrator(sequelize, logger).up();
    await installJobSchema({ connectionString: url }, logger);
  } finally {
    await lock.end(); // ending the session releases the lock
  }
}
