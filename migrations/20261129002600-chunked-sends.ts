import type { MigrationContext } from '../server/db/migrate';

/**
 * Sends above SEND_INLINE_MAX (issue 17) are recorded first and written by a queued job in chunks, so the
 * broadcast row now exists before its notifications and says how far the send got:
 *
 * - `status`: queued (recorded, the job not started), running, finished, cancelled. An inline send is written
 *   finished by its one statement, as before (the default, so existing rows read as finished).
 * - `total`: the audience's size, counted by the job when it starts (counting a million users would cost the POST
 *   its 100 ms); `recipients` stays "rows written so far", so the two give the progress.
 * - The audience is fixed when the send is recorded: `audience_max_id` (the highest user id then; ids come from a
 *   sequence, so every later user is above it) and `audience_as_of` (the record time: a course audience also leaves
 *   out enrolments made after it, whose students' ids can be old).
 * - `cursor`: the keyset position, the last recipient id a committed chunk covered; each chunk advances it in its
 *   own transaction. `pushed_to`: the last recipient id whose chunk was published to the bus; below `cursor`
 *   only between a chunk's commit and its publish, so a resumed job knows which chunk's frames to send again.
 * - `message`, `data`: the content the job writes into each row (an inline send keeps them in its rows only; the
 *   next step of issue 17 stores content once for every send).
 *
 * `notifications_batch_idx` (batch_id) becomes UNIQUE (batch_id, recipient_id): a replayed chunk inserts only rows
 * that do not exist yet (ON CONFLICT DO NOTHING on it), and the batch lookups (email, push, pushes) still lead with
 * batch_id. Replaced rather than added beside, so each insert maintains one index for it, not two.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    ALTER TABLE broadcasts
      ADD COLUMN status varchar(16) NOT NULL DEFAULT 'finished'
        CONSTRAINT broadcasts_status_check CHECK (status IN ('queued', 'running', 'finished', 'cancelled')),
      ADD COLUMN total integer,
      ADD COLUMN audience_max_id integer,
      ADD COLUMN audience_as_of timestamptz,
      ADD COLUMN cursor integer NOT NULL DEFAULT 0,
      ADD COLUMN pushed_to integer NOT NULL DEFAULT 0,
      ADD COLUMN message text,
      ADD COLUMN data jsonb,
      ADD COLUMN started_at timestamptz,
      ADD COLUMN finished_at timestamptz;
    CREATE UNIQUE INDEX notifications_batch_recipient_key ON notifications (batch_id, recipient_id) WHERE batch_id IS NOT NULL;
    DROP INDEX notifications_batch_idx;
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE INDEX notifications_batch_idx ON notifications (batch_id) WHERE batch_id IS NOT NULL;
    DROP INDEX notifications_batch_recipient_key;
    ALTER TABLE broadcasts
      DROP COLUMN status, DROP COLUMN total, DROP COLUMN audience_max_id, DROP COLUMN audience_as_of,
      DROP COLUMN cursor, DROP COLUMN pushed_to, DROP COLUMN message, DROP COLUMN data,
      DROP COLUMN started_at, DROP COLUMN finished_at;
  `);
}
