import path from 'node:path';
import type { Sequelize } from 'sequelize';
import { DATA_DIR, type Config } from '../config';
import type { Logger } from '../logger';
import { initModels, type Models } from '../models';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded';
import { createSequelize } from './index';
import { migrate } from './migrate';

export interface OpenDatabase {
  url: string;
  sequelize: Sequelize;
  models: Models;
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL when none is configured, then migrates.
 * Returns everything needed to close it again in the right order.
 */
export async function openDatabase(config: Config, logger: Logger, opts: { poolMax?: number } = {}): Promise<OpenDatabase> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(path.join(DATA_DIR, 'pg'), logger);
  const url = config.databaseUrl ?? embedded!.url;
  const sequelize = createSequelize({ url, log: logger, poolMax: opts.poolMax });
  const models = initModels(sequelize);
  await migrate(sequelize, url, logger);
  return {
    url,
    sequelize,
    models,
    embedded,
    async close() {
      await sequelize.close();
      await embedded?.stop();
    },
  };
}
