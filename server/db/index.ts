import { Sequelize, type Options } from 'sequelize';
import type { Logger } from '../logger';

export interface DatabaseOptions {
  url: string;
  log?: Logger;
  poolMax?: number;
  /** Called with every SQL statement; tests use it to count statements. */
  onQuery?: (sql: string) => void;
}

/** Creates the Sequelize instance; connecting happens lazily on the first query, never at import time. */
export function createSequelize({ url, log, poolMax = 10, onQuery }: DatabaseOptions): Sequelize {
  const options: Options = {
    dialect: 'postgres',
    logging: onQuery ? (sql: string) => onQuery(sql) : log ? (sql: string) => log.trace({ sql }, 'sql') : false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    define: { underscored: true },
    dialectOptions: { application_name: 'herald' },
  };
  return new Sequelize(url, options);
}
