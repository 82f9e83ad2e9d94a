import type { MigrationContext } from '../server/db/migrate';

/**
 * Each server process upserts its open WebSocket count here every few seconds, so the admin console can show the
 * cluster-wide number without asking every process. Rows of dead processes go stale and are ignored.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE UNLOGGED TABLE realtime_presence (
      instance_id varchar(100) PRIMARY KEY,
      sockets     integer      NOT NULL,
      updated_at  timestamptz  NOT NULL DEFAULT now()
    );
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS realtime_presence');
}
