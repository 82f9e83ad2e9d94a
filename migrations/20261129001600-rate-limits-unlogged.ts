import type { MigrationContext } from '../server/db/migrate';

/**
 * The /api rate limit writes one row per request (server/services/tokens/rate-limits.ts). Measured on the dev
 * machine: 4.6 ms per sequential upsert on a logged table (a WAL flush per commit), 1.3 ms unlogged. A crash
 * empties an unlogged table, which here forgets at most a minute of counts: nothing worth a flush per request.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('ALTER TABLE rate_limits SET UNLOGGED');
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('ALTER TABLE rate_limits SET LOGGED');
}
