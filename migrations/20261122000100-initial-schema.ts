import type { MigrationContext } from '../server/db/migrate';

/**
 * The course domain, notifications, sessions and login throttling.
 * Raw SQL so every constraint and index is exactly what the queries rely on.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE users (
      id            serial PRIMARY KEY,
      email         varchar(254) NOT NULL,
      name          varchar(120) NOT NULL,
      role          varchar(16)  NOT NULL CHECK (role IN ('candidate', 'instructor', 'admin')),
      password_hash text         NOT NULL,
      is_active     boolean      NOT NULL DEFAULT true,
      last_login_at timestamptz,
      created_at    timestamptz  NOT NULL DEFAULT now(),
      updated_at    timestamptz  NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
    CREATE INDEX users_role_idx ON users (role);

    CREATE TABLE courses (
      id            serial PRIMARY KEY,
      title         varchar(200) NOT NULL,
      description   text         NOT NULL DEFAULT '',
      instructor_id integer      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      created_at    timestamptz  NOT NULL DEFAULT now(),
      updated_at    timestamptz  NOT NULL DEFAULT now()
    );
    CREATE INDEX courses_instructor_idx ON courses (instructor_id);

    CREATE TABLE enrollments (
      course_id  integer     NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      student_id integer     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (course_id, student_id)
    );
    CREATE INDEX enrollments_student_idx ON enrollments (student_id);

    CREATE TABLE applications (
      id           serial PRIMARY KEY,
      course_id    integer     NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      candidate_id integer     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      motivation   text        NOT NULL DEFAULT '',
      status       varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
      reason       text,
      decided_by   integer     REFERENCES users (id) ON DELETE SET NULL,
      decided_at   timestamptz,
      created_at   timestamptz NOT NULL DEFAULT now(),
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT applications_once_per_course UNIQUE (candidate_id, course_id)
    );
    CREATE INDEX applications_course_status_idx ON applications (course_id, status);

    CREATE TABLE notifications (
      id             bigserial PRIMARY KEY,
      recipient_id   integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      sender_id      integer      REFERENCES users (id) ON DELETE SET NULL,
      type           varchar(32)  NOT NULL CHECK (type IN ('application_submitted', 'application_approved',
                       'application_rejected', 'course_enrollment', 'session_start', 'exam_result', 'message',
                       'announcement', 'course_update')),
      title          varchar(200) NOT NULL,
      message        text         NOT NULL DEFAULT '',
      data           jsonb        NOT NULL DEFAULT '{}'::jsonb,
      application_id integer      REFERENCES applications (id) ON DELETE SET NULL,
      course_id      integer      REFERENCES courses (id) ON DELETE SET NULL,
      -- Rows written by one fan-out share a batch id: the bus carries the batch, not 10,000 ids.
      batch_id       uuid,
      read_at        timestamptz,
      created_at     timestamptz  NOT NULL DEFAULT now()
    );
    -- The list, newest first, keyset-paginated on id.
    CREATE INDEX notifications_recipient_id_idx ON notifications (recipient_id, id DESC);
    -- Unread count and the Unread tab touch only unread rows.
    CREATE INDEX notifications_unread_idx ON notifications (recipient_id, id DESC) WHERE read_at IS NULL;
    CREATE INDEX notifications_batch_idx ON notifications (batch_id) WHERE batch_id IS NOT NULL;
    CREATE INDEX notifications_created_idx ON notifications (created_at);

    -- connect-pg-simple's table, plus the user id pulled out so a user's sessions can be found and ended.
    CREATE TABLE session (
      sid    varchar     NOT NULL COLLATE "default" PRIMARY KEY,
      sess   json        NOT NULL,
      expire timestamp(6) NOT NULL
    );
    CREATE INDEX session_expire_idx ON session (expire);
    CREATE INDEX session_user_idx ON session (((sess ->> 'userId')::integer)) WHERE sess ->> 'userId' IS NOT NULL;

    -- rate-limiter-flexible's Postgres store, shared by every process.
    CREATE TABLE rate_limits (
      key    varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    );
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP TABLE IF EXISTS rate_limits, session, notifications, applications, enrollments, courses, users CASCADE;
  `);
}
