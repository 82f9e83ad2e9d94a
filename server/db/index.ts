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
 * Settings for every Herald session; an operator's PGOPTIONS comes after them and wins (`-c jit=on`, say).
 * - JIT compilation off: PostgreSQL compiles a plan whose estimated cost passes jit_above_cost, and a send to
 *   "everyone" on a million users estimates high while it reads at most 10,001 rows (the inline check) or one
 *   chunk. Measured on the local PostgreSQL 15 with 1,000,000 users: recording that send took 31-38 ms with JIT and
 *   5-6 ms without, and every one of its 1,000 chunks paid the same (bench/FINDINGS.md, issue 17).
 * - random_page_cost 1.1 (PostgreSQL's default is 4, a disk's seek): Herald's statements find their rows through
 *   indexes whose pages are cached or on SSD. With 4, a course fan-out to 10,000 students on a platform of 1,000,000
 *   users hash-joined three sequential scans of users (1.3 s); with 1.1 it looks the students up (0.33-0.38 s),
 *   and on a small platform the plans and times stay as they were.
 */
function sessionOptions(): string {
  return ['-c jit=off -c random_page_cost=1.1', process.env.PGOPTIONS].filter(Boolean).join(' ');
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
