import type { MigrationContext } from '../server/db/migrate';

/**
 * The inbox's states (issue 14): done (archived) and snoozed, and a sort key so a woken notification comes back at
 * the top of the lists, above anything that arrived while it slept.
 *
 * - `done_at`: set when done; done also marks read. Done rows leave All / Unread / Read and live under "Done".
 * - `snoozed_until`: set while snoozed. A snoozed row is also marked read (read_at, never equal to created_at, so
 *   it is not "silent"): every existing unread query (the count, the badge, the email escalation and digest)
 *   leaves it out untouched, and waking sets read_at back to NULL. A `notifications:wake` job wakes it.
 * - `sort_key` = COALESCE(surfaced_key, id): the lists' keyset. A row that never woke sorts by its id, exactly as
 *   before (old cursors stay valid); waking takes `nextval` of the id sequence as `surfaced_key`, a number above
 *   every id handed out so far and below every id handed out later. Generated, so no writer can forget it.
 *
 * Indexes: the lists read (recipient_id, sort_key DESC) partial indexes, one per list, like the unread index did
 * on id. The unread index moves to sort_key: the same rows (read_at IS NULL), the same width, so the unread count
 * (an index-only scan of it) costs what it did.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    ALTER TABLE notifications
      ADD COLUMN done_at        timestamptz,
      ADD COLUMN snoozed_until  timestamptz,
      ADD COLUMN surfaced_key   bigint,
      ADD COLUMN sort_key       bigint GENERATED ALWAYS AS (COALESCE(surfaced_key, id)) STORED;
    DROP INDEX notifications_unread_idx;
    CREATE INDEX notifications_unread_idx ON notifications (recipient_id, sort_key DESC) WHERE read_at IS NULL;
    -- All / Read and the bell: everything neither done nor snoozed.
    CREATE INDEX notifications_inbox_idx ON notifications (recipient_id, sort_key DESC)
      WHERE done_at IS NULL AND snoozed_until IS NULL;
    CREATE INDEX notifications_done_idx ON notifications (recipient_id, sort_key DESC) WHERE done_at IS NOT NULL;
    CREATE INDEX notifications_snoozed_idx ON notifications (recipient_id, sort_key DESC) WHERE snoozed_until IS NOT NULL;
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP INDEX IF EXISTS notifications_snoozed_idx;
    DROP INDEX IF EXISTS notifications_done_idx;
    DROP INDEX IF EXISTS notifications_inbox_idx;
    DROP INDEX IF EXISTS notifications_unread_idx;
    ALTER TABLE notifications DROP COLUMN sort_key, DROP COLUMN surfaced_key, DROP COLUMN snoozed_until, DROP COLUMN done_at;
    CREATE INDEX notifications_unread_idx ON notifications (recipient_id, id DESC) WHERE read_at IS NULL;
  `);
}
