import type { MigrationContext } from '../server/db/migrate';

/**
 * Personal access tokens (server/services/tokens). Only the SHA-256 of a token is kept; `prefix` is the few
 * characters a user sees to recognise it. A token is never deleted, only revoked, so its history stays readable.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE api_tokens (
      id           serial       PRIMARY KEY,
      user_id      integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      name         varchar(100) NOT NULL,
      scopes       text[]       NOT NULL,
      prefix       varchar(16)  NOT NULL,
      hash         char(64)     NOT NULL UNIQUE,
      created_at   timestamptz  NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      expires_at   timestamptz,
      revoked_at   timestamptz
    );
    CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS api_tokens');
}
