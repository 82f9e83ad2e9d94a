import type { MigrationContext } from '../server/db/migrate';

/**
 * State changes replay on reconnect (issue 14, "nothing is lost when a tab sleeps"): a tab that resumes with
 * `?since=P` is told which rows it had were read, marked unread, done, undone, snoozed or deleted while it was away.
 *
 * - `state_pos`: the position of a row's latest state change, taken from the id sequence (the one `sort_key` takes
 *   its numbers from), one number per statement: every row one action changed shares it, and the live frame that
 *   announces the action carries it. NULL on rows never changed since they were written (nearly all of them: no
 *   bytes, and the index below leaves them out). Set by every statement that changes a state (store/states.ts, the
 *   read-all, the wake-up), never by the insert.
 * - `notification_tombstones`: a deleted row can carry no position, so the statement that deletes (the user's own
 *   delete, bulk and group actions, moderation) writes one tombstone per row in the same statement (a CTE, not a
 *   trigger: a user's deletion cascading to their rows must not write tombstones for a user who is going, and the
 *   position is one per statement, which a row trigger cannot share). `sort_key` is kept so a replay tells a tab
 *   only about rows it could have had (sort_key <= P), and `group_key` so it is sent the fresh lines of the groups
 *   the rows were in. Pruned after a retention (STATE_REPLAY_RETENTION_DAYS) by a
 *   periodic job: a tab away longer than that is not told of deletions older than the retention.
 *
 * Adding a NULL column without a default rewrites nothing, so this runs in constant time on a large table; the
 * partial index is empty when created.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    ALTER TABLE notifications ADD COLUMN state_pos bigint;
    CREATE INDEX notifications_state_pos_idx ON notifications (recipient_id, state_pos) WHERE state_pos IS NOT NULL;
    CREATE TABLE notification_tombstones (
      recipient_id     integer      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      position         bigint       NOT NULL,
      notification_id  bigint       NOT NULL,
      sort_key         bigint       NOT NULL,
      group_key        text,
      deleted_at       timestamptz  NOT NULL DEFAULT now(),
      PRIMARY KEY (recipient_id, position, notification_id)
    );
    CREATE INDEX notification_tombstones_deleted_at_idx ON notification_tombstones (deleted_at);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP TABLE IF EXISTS notification_tombstones;
    DROP INDEX IF EXISTS notifications_state_pos_idx;
    ALTER TABLE notifications DROP COLUMN IF EXISTS state_pos;
  `);
}