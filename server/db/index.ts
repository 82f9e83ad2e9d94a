import { Sequelize, type Options } from 'sequelize';
import type { Logger } from '../logger';

export interface DatabaseOptions {
  url: string;
  log?: Logger;
  poolMax?: number;
  /** Called with every SQL statement; tests use it to count statements. */
  onQuery?: (sql: string) => void;
}

/**
 * Settings for every Herald session. JIT compilation is off: PostgreSQL compiles a plan whose estimated cost passes
 * jit_above_cost, and a send to "everyone" on a million users estimates high while it reads at most 10,001 rows
 * (the inline check) or one chunk. Measured on the local PostgreSQL 15 with 1,000,000 users: recording that send
 * took 31-38 ms with JIT and 5-6 ms without (bench/FINDINGS.md, issue 17). Herald runs short statements only; an
 * operator's PGOPTIONS comes after this, so `PGOPTIONS='-c jit=on'` turns it back on.
 */
function sessionOptions(): string {
  return ['-c jit=off', process.env.PGOPTIONS].filter(Boolean).join(' ');
}

/** Creates the Sequelize instance; connecting happens lazily on the first query, never at import time. */
export function createSequelize({ url, log, poolMax = 10, onQuery }: DatabaseOptions): Sequelize {
  const options: Options = {
    dialect: 'postgres',
    logging: onQuery ? (sql: string) => onQuery(sql) : log ? (sql: string) => log.trace({ sql }, 'sql') : false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 10_000 },
    define: { underscored: true },
    dialectOptions: { application_name: 'herald', options: sessionOptions() },
  };
  return new Sequelize(url, options);
}
