import type { MigrationContext } from '../server/db/migrate';

/**
 * Per-group counters (issue 14's benchmark): the grouped first page of a user with 90,000 applications in 9 groups
 * spent most of its time counting each group's members (bench/FINDINGS.md, "The inbox at 5,000,000 rows"). The
 * unfiltered lists (All, Unread, Read) now read a group's counts from here; a filtered or searched list, Done and
 * Snoozed still count live.
 *
 * `notification_group_counts` (recipient_id, group_key) -> `inbox` (members neither done nor snoozed: All) and
 * `unread` (inbox members with read_at NULL: Unread; Read is inbox - unread). Only shared groups (group_key NOT
 * NULL) have a row, and only while inbox > 0: a row that reaches zero is deleted.
 *
 * Kept by the database, so no write path can forget it: one AFTER ... FOR EACH STATEMENT trigger per event on
 * notifications (INSERT, UPDATE, DELETE: PostgreSQL allows transition tables on a single event only, and not with
 * an UPDATE OF column list, so the UPDATE trigger sees every update and finds the net change itself). Each
 * statement's net change per (recipient, group) is one upsert `x = x + excluded.x`, in key order:
 * - "mark all read" on 66,000 rows of 9 groups is 9 upserts, not 66,000 updates of 9 rows;
 * - two statements adding to one group at once both count (the second waits for the first's row lock, then adds
 *   to the committed value): no read-modify-write;
 * - two transactions touching the same groups lock them in the same order, so they queue, never deadlock;
 * - a statement over ungrouped rows only (a fan-out of announcements) reads its transition table and writes nothing.
 * TRUNCATE empties the counters too. What skips triggers (session_replication_role = replica: the bench seeds)
 * must call notification_group_counts_rebuild() afterwards, as this migration does for existing rows.
 *
 * There is no foreign key to users: deleting a user deletes their notifications (cascade), whose trigger then takes
 * their counters to zero and deletes them, in whatever order the cascades run.
 *
 * Measured 2026-11-30 on the local PostgreSQL 15 (EXPLAIN ANALYZE, 2 shared cores at load 7, so times are
 * pessimistic; rolled back each run): the 10,000-row fan-out of announcements, 525 ms median with the triggers
 * (the counters' trigger itself 1.6 ms) and 541 ms without, the same within noise; a fan-out of 10,000 grouped rows
 * (10,000 upserts, one per recipient) +95-107 ms; marking 10,000 ungrouped rows read, trigger 6 ms; one user's
 * "mark all read" of 66,667 rows in 9 groups, trigger 61-82 ms of a 1.5-3 s statement. One user with 90,000
 * applications in 9 groups and 10,000 messages: grouped first page 3,428 -> 535 buffers (96 -> 6 ms), bell 1,826 ->
 * 318 buffers in 2 -> 1 statements (39 -> 5 ms), 50 bells of a connect burst 100 statements (104 ms) -> 1 (6 ms).
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  // One multi-statement query: one implicit transaction, so the triggers and the backfill commit together.
  await qi.sequelize.query(`
    CREATE TABLE notification_group_counts (
      recipient_id integer NOT NULL,
      group_key    text    NOT NULL,
      inbox        integer NOT NULL,
      unread       integer NOT NULL,
      PRIMARY KEY (recipient_id, group_key)
    );

    -- One statement's net change per (recipient, group), from its transition tables: each row counts -1 as it was
    -- (old_rows) and +1 as it is (new_rows); a row's share is inbox = neither done nor snoozed, unread = in the
    -- inbox with read_at NULL (the lists' rules). Dynamic SQL only to name the tables the event has.
    CREATE FUNCTION notification_group_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      cols constant text := 'recipient_id, group_key, done_at IS NULL AND snoozed_until IS NULL AS inbox, read_at IS NULL AS unread';
      src text := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT 1 AS s, %s FROM new_rows', cols)
        WHEN 'DELETE' THEN format('SELECT -1 AS s, %s FROM old_rows', cols)
        ELSE format('SELECT -1 AS s, %1$s FROM old_rows UNION ALL SELECT 1, %1$s FROM new_rows', cols) END;
      gone_r integer[];
      gone_k text[];
    BEGIN
      -- In key order, so two transactions over the same groups queue rather than deadlock.
      EXECUTE format($q$
        WITH up AS (
          INSERT INTO notification_group_counts AS c (recipient_id, group_key, inbox, unread)
          SELECT d.recipient_id, d.group_key, d.di, d.du FROM (
            SELECT x.recipient_id, x.group_key,
                   sum(CASE WHEN x.inbox THEN x.s ELSE 0 END) AS di, sum(CASE WHEN x.inbox AND x.unread THEN x.s ELSE 0 END) AS du
              FROM (%s) x WHERE x.group_key IS NOT NULL GROUP BY 1, 2) d
           WHERE d.di <> 0 OR d.du <> 0
           ORDER BY d.recipient_id, d.group_key
          ON CONFLICT (recipient_id, group_key) DO UPDATE SET inbox = c.inbox + excluded.inbox, unread = c.unread + excluded.unread
          RETURNING c.recipient_id, c.group_key, c.inbox)
        SELECT array_agg(recipient_id), array_agg(group_key) FROM up WHERE inbox <= 0$q$, src) INTO gone_r, gone_k;
      -- Groups emptied from the inbox: their rows are already locked by the upsert.
      IF gone_r IS NOT NULL THEN
        DELETE FROM notification_group_counts c USING unnest(gone_r, gone_k) AS z(r, k)
         WHERE c.recipient_id = z.r AND c.group_key = z.k;
      END IF;
      RETURN NULL;
    END $fn$;

    CREATE FUNCTION notification_group_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM notification_group_counts;
      RETURN NULL;
    END $fn$;

    -- Every counter from the rows, under a lock that keeps writers out meanwhile (SHARE: reads go on).
    CREATE FUNCTION notification_group_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      LOCK TABLE notifications IN SHARE MODE;
      DELETE FROM notification_group_counts;
      INSERT INTO notification_group_counts (recipient_id, group_key, inbox, unread)
      SELECT recipient_id, group_key, count(*), count(*) FILTER (WHERE read_at IS NULL)
        FROM notifications
       WHERE group_key IS NOT NULL AND done_at IS NULL AND snoozed_until IS NULL
       GROUP BY 1, 2;
    END $fn$;

    CREATE TRIGGER notification_group_counts_insert AFTER INSERT ON notifications
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_group_counts_sync();
    CREATE TRIGGER notification_group_counts_update AFTER UPDATE ON notifications
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_group_counts_sync();
    CREATE TRIGGER notification_group_counts_delete AFTER DELETE ON notifications
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notification_group_counts_sync();
    CREATE TRIGGER notification_group_counts_truncate AFTER TRUNCATE ON notifications
      FOR EACH STATEMENT EXECUTE FUNCTION notification_group_counts_truncate();

    SELECT notification_group_counts_rebuild();
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP TRIGGER IF EXISTS notification_group_counts_truncate ON notifications;
    DROP TRIGGER IF EXISTS notification_group_counts_delete ON notifications;
    DROP TRIGGER IF EXISTS notification_group_counts_update ON notifications;
    DROP TRIGGER IF EXISTS notification_group_counts_insert ON notifications;
    DROP FUNCTION IF EXISTS notification_group_counts_rebuild();
    DROP FUNCTION IF EXISTS notification_group_counts_truncate();
    DROP FUNCTION IF EXISTS notification_group_counts_sync();
    DROP TABLE IF EXISTS notification_group_counts;
  `);
}
