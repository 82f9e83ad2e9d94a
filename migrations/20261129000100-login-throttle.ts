import type { MigrationContext } from '../server/db/migrate';

/**
 * The login throttle's state (server/services/auth/throttle.ts), one row per subject: an (account, address) pair,
 * an address, or an account. Every process reads and writes it in single statements, so the counts are shared and
 * exact. Rows are forgotten once their window has passed.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE login_throttle (
      key           text        PRIMARY KEY,
      -- Failures allowed within the window before each further one makes this subject wait.
      free          integer     NOT NULL,
      failures      integer     NOT NULL DEFAULT 0,
      window_ends   timestamptz NOT NULL,
      blocked_until timestamptz,
      -- Attempts being checked right now; a slot held by a process that died frees itself when the lease ends.
      in_flight     integer     NOT NULL DEFAULT 0,
      lease_ends    timestamptz
    );
    CREATE INDEX login_throttle_window_idx ON login_throttle (window_ends);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS login_throttle');
}
