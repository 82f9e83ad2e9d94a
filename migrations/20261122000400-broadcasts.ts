import type { MigrationContext } from '../server/db/migrate';

/**
 * One row per fan-out, written by the same statement as its notifications: after a crash the sender can see
 * whether a send went out (the row exists exactly when the notifications do), and an idempotency key lets a
 * resend of the same request answer with the first result instead of delivering a second copy.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE TABLE broadcasts (
      -- The fan-out's batch id: notifications.batch_id of every row it wrote.
      id              uuid         PRIMARY KEY,
      sender_id       integer      REFERENCES users (id) ON DELETE SET NULL,
      course_id       integer      REFERENCES courses (id) ON DELETE CASCADE,
      audience        jsonb        NOT NULL,
      type            varchar(32)  NOT NULL,
      title           varchar(200) NOT NULL,
      recipients      integer      NOT NULL,
      idempotency_key varchar(100),
      created_at      timestamptz  NOT NULL DEFAULT now(),
      CONSTRAINT broadcasts_sender_idempotency_key UNIQUE (sender_id, idempotency_key)
    );
    -- A course's "recently sent", newest first.
    CREATE INDEX broadcasts_course_created_idx ON broadcasts (course_id, created_at DESC);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP TABLE IF EXISTS broadcasts');
}
