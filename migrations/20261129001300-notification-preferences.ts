import type { MigrationContext } from '../server/db/migrate';

/**
 * Who gets what where. Only what differs from the defaults is stored: one row of defaults per notification type
 * (admins edit them), and per (user, type) the channels a user changed (NULL = follow the default, so a later
 * change of a default reaches everyone who never touched it). The view `effective_notification_preferences`
 * resolves both, per (user, type), so the fan-out reads preferences in its own statement: a plain join the
 * planner narrows to the recipients and the one type.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE notification_type_defaults (
      type       varchar(32) PRIMARY KEY,
      in_app     boolean     NOT NULL DEFAULT true,
      email      varchar(16) NOT NULL DEFAULT 'off' CHECK (email IN ('off', 'immediate', 'unread', 'digest')),
      push       boolean     NOT NULL DEFAULT false,
      -- Channels a user cannot switch off for this type (application decisions always reach the inbox).
      locked     text[]      NOT NULL DEFAULT '{}' CHECK (locked <@ ARRAY['in_app', 'email', 'push']),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO notification_type_defaults (type, locked) VALUES
      ('application_submitted', '{}'), ('application_approved', '{in_app}'), ('application_rejected', '{in_app}'),
      ('course_enrollment', '{}'), ('session_start', '{}'), ('exam_result', '{}'), ('message', '{}'),
      ('announcement', '{}'), ('course_update', '{}');

    CREATE TABLE notification_preferences (
      user_id    integer     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      type       varchar(32) NOT NULL REFERENCES notification_type_defaults (type) ON DELETE CASCADE,
      in_app     boolean,
      email      varchar(16) CHECK (email IN ('off', 'immediate', 'unread', 'digest')),
      push       boolean,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, type)
    );

    -- Per user, not per type: when email and push may go out, and when the digest does.
    CREATE TABLE notification_settings (
      user_id     integer     PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      timezone    varchar(64) NOT NULL DEFAULT 'UTC',
      quiet_start time,
      quiet_end   time,
      digest_hour smallint    NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
      -- When the last digest went out: the next one lists what is unread since.
      last_digest_at timestamptz,
      updated_at  timestamptz NOT NULL DEFAULT now(),
      CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
    );

    -- A locked in-app channel is on whatever is stored; a locked email or push follows the admin's default.
    -- unread and digest mean nothing without the inbox, so they resolve to off when in_app is off (the API
    -- refuses that pair, but a later change of a default could make it).
    CREATE VIEW effective_notification_preferences AS
    SELECT u.id AS user_id,
           d.type,
           e.in_app,
           CASE WHEN 'email' = ANY (d.locked) THEN d.email
                WHEN NOT e.in_app AND COALESCE(p.email, d.email) IN ('unread', 'digest') THEN 'off'
                ELSE COALESCE(p.email, d.email) END AS email,
           CASE WHEN 'push' = ANY (d.locked) THEN d.push ELSE COALESCE(p.push, d.push) END AS push,
           COALESCE(s.timezone, 'UTC') AS timezone,
           s.quiet_start,
           s.quiet_end,
           COALESCE(s.digest_hour, 8) AS digest_hour
      FROM users u
     CROSS JOIN notification_type_defaults d
      LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.type = d.type
      LEFT JOIN notification_settings s ON s.user_id = u.id
     CROSS JOIN LATERAL (
       SELECT CASE WHEN 'in_app' = ANY (d.locked) THEN true ELSE COALESCE(p.in_app, d.in_app) END AS in_app
     ) e;
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP VIEW IF EXISTS effective_notification_preferences;
    DROP TABLE IF EXISTS notification_settings, notification_preferences, notification_type_defaults;
  `);
}
