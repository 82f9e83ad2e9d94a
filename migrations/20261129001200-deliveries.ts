import type { MigrationContext } from '../server/db/migrate';

/**
 * One row per (notification, channel) that was meant to leave Herald (email now; push and webhooks later).
 * The UNIQUE pair is the guarantee that a retried or duplicated job never sends twice what was recorded as
 * sent: a job first claims rows (insert-or-lease), sends only what it claimed, then records the outcome.
 * `claimed_until` is the lease: a job that dies mid-send leaves its rows pending, and they become claimable
 * again when the lease runs out. recipient_id is copied from the notification so the admin list filters on it
 * without a join.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE deliveries (
      id                  bigserial    PRIMARY KEY,
      notification_id     bigint       NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
      recipient_id        integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      channel             varchar(16)  NOT NULL CHECK (channel ~ '^[a-z][a-z_]*$'),
      status              varchar(16)  NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'cancelled')),
      attempts            integer      NOT NULL DEFAULT 0,
      last_error          text,
      provider_message_id text,
      claimed_until       timestamptz,
      created_at          timestamptz  NOT NULL DEFAULT now(),
      updated_at          timestamptz  NOT NULL DEFAULT now(),
      sent_at             timestamptz,
      CONSTRAINT deliveries_once_per_channel UNIQUE (notification_id, channel)
    );
    -- The admin list is keyset-paginated on id, newest first, filtered by any of channel/status/recipient.
    CREATE INDEX deliveries_channel_status_idx ON deliveries (channel, status, id DESC);
    CREATE INDEX deliveries_recipient_idx ON deliveries (recipient_id, id DESC);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS deliveries');
}
