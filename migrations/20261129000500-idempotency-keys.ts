import type { MigrationContext } from '../server/db/migrate';

/**
 * One row per (user, Idempotency-Key) on the POSTs that create notifications or records. The fingerprint ties a
 * key to its request (method, path, body): the same key with another request is refused instead of replaying an
 * unrelated result. The stored answer is what a retry gets back. Rows older than a day are reclaimable.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE idempotency_keys (
      user_id      integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      key          varchar(100) NOT NULL,
      fingerprint  char(64)     NOT NULL,
      -- NULL while the first request is still running (or died before answering).
      status_code  smallint,
      response     jsonb,
      created_at   timestamptz  NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS idempotency_keys');
}
