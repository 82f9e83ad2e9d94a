import type { MigrationContext } from '../server/db/migrate';

/**
 * Web Push: one row per browser (device) a user allowed alerts on, and the process-wide settings table that keeps
 * the generated VAPID key pair, so every process and every restart sign with the key the browsers subscribed to.
 * The endpoint is the browser's capability URL at its push service: unique, since a browser has one subscription
 * per origin whoever is signed in on it.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE settings (
      key         varchar(100) PRIMARY KEY,
      value       jsonb        NOT NULL,
      created_at  timestamptz  NOT NULL DEFAULT now()
    );
    CREATE TABLE push_subscriptions (
      id               serial       PRIMARY KEY,
      user_id          integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      endpoint         text         NOT NULL UNIQUE,
      p256dh           varchar(100) NOT NULL,
      auth             varchar(50)  NOT NULL,
      user_agent       varchar(512),
      expiration_time  timestamptz,
      created_at       timestamptz  NOT NULL DEFAULT now(),
      updated_at       timestamptz  NOT NULL DEFAULT now(),
      last_success_at  timestamptz
    );
    CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);
    -- Users with a visible Herald tab, per server process: a visible tab shows the notification itself, so no
    -- push goes out. Unlogged like realtime_presence; a dead process's rows stop counting with its presence row.
    CREATE UNLOGGED TABLE realtime_visible (
      user_id      integer      NOT NULL,
      instance_id  varchar(100) NOT NULL,
      PRIMARY KEY (user_id, instance_id)
    );
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS realtime_visible; DROP TABLE IF EXISTS push_subscriptions; DROP TABLE IF EXISTS settings');
}
