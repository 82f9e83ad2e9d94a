import type { MigrationContext } from '../server/db/migrate';

/**
 * Outbound webhooks (server/services/webhooks, server/channels/webhooks). The secret is kept as is: signing needs
 * it. A delivery is one event for one endpoint, unique per (endpoint, event id) so an event handed over twice (two
 * processes, a replayed bus message) is written and sent once; every try of it is a row in webhook_attempts.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE webhook_endpoints (
      id            serial       PRIMARY KEY,
      user_id       integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      course_id     integer      REFERENCES courses (id) ON DELETE CASCADE,
      url           text         NOT NULL,
      events        text[]       NOT NULL,
      description   varchar(500) NOT NULL DEFAULT '',
      secret        text         NOT NULL,
      enabled       boolean      NOT NULL DEFAULT true,
      failing_since timestamptz,
      disabled_at   timestamptz,
      created_at    timestamptz  NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id);
    CREATE INDEX webhook_endpoints_events_idx ON webhook_endpoints USING gin (events) WHERE enabled;

    CREATE TABLE webhook_deliveries (
      id           bigserial   PRIMARY KEY,
      endpoint_id  integer     NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      event_id     text        NOT NULL,
      event_type   text        NOT NULL,
      body         text        NOT NULL,
      status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'skipped')),
      attempts     integer     NOT NULL DEFAULT 0,
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now(),
      UNIQUE (endpoint_id, event_id)
    );
    CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

    CREATE TABLE webhook_attempts (
      id               bigserial   PRIMARY KEY,
      delivery_id      bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      endpoint_id      integer     NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      event_id         text        NOT NULL,
      attempt          integer     NOT NULL,
      status_code      integer,
      latency_ms       integer     NOT NULL,
      response_excerpt varchar(1024),
      error            text,
      created_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS webhook_attempts, webhook_deliveries, webhook_endpoints');
}
