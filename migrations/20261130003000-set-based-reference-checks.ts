import type { MigrationContext } from '../server/db/migrate';

/**
 * Set-based reference checks on notifications (issue 17: a course fan-out to 10,000 students under 300 ms).
 * auto_explain (log_triggers) on the local PostgreSQL 15 put the fan-out's one INSERT ... SELECT at 260-300 ms, of
 * which ~150 ms were the foreign keys' triggers: PostgreSQL checks every row's reference with its own SPI query and
 * row lock, 10,000 times each for recipient_id, sender_id and course_id, although a fan-out's rows share one sender
 * and one course and its recipients were read from users by the same statement.
 *
 * The three foreign keys become triggers with the same guarantees (application_id's stays: its NULLs cost nothing):
 * - INSERT: one AFTER ... FOR EACH STATEMENT trigger reads the statement's rows (transition table) and checks that
 *   the DISTINCT referenced users and courses exist, one count each. A key missing raises 23503
 *   (foreign_key_violation) with the old constraint's name and PostgreSQL's own message and detail, so callers (and
 *   Sequelize's ForeignKeyConstraintError) see what they saw before; the whole statement fails.
 * - No row locks on users: a foreign key's check locks each referenced row FOR KEY SHARE, so that a DELETE waits for
 *   the inserting transaction; a send to everyone would lock (and write WAL for, and dirty the page of) each of a
 *   million users rows. Instead the two sides queue on one advisory lock (7420014, 0), held until commit: every
 *   statement inserting notifications takes it shared before checking (shared holders never wait for each other),
 *   and deleting users or courses takes it exclusive before acting on notifications. So a deletion waits for every
 *   transaction that inserted rows before it and then finds their rows (under READ COMMITTED each statement reads
 *   anew); an insert that comes after a deletion waits for it and then finds the key gone. Deletions are rare
 *   (Herald's own code deletes no user or course); inserts pay one uncontended lock per statement.
 * - UPDATE of recipient_id, sender_id or course_id to another non-null value: the same check for that row. A row
 *   trigger with a WHEN clause, because a trigger with transition tables cannot have a column list and one on every
 *   UPDATE would tax each state change; the app never changes these columns but through the SET NULL below. AFTER,
 *   as the foreign key's check, so it sees the row as written.
 * - DELETE of users: one statement trigger deletes the deleted recipients' rows (their deliveries follow by their
 *   own cascade, the group counters by theirs) and sets sender_id NULL where a deleted user sent; DELETE of courses
 *   sets course_id NULL. Under READ COMMITTED each of these statements reads with a fresh snapshot, as the
 *   foreign key's action did, so rows committed by an insert that this delete waited for are found too.
 * - UPDATE of users.id or courses.id still referenced: refused (the foreign keys were NO ACTION on update).
 * - TRUNCATE of users or courses needs no trigger: applications reference both, and notifications reference
 *   applications (that foreign key stays), so TRUNCATE ... CASCADE still empties notifications and a TRUNCATE
 *   without CASCADE is still refused. Nothing in Herald truncates them.
 * What skips triggers (session_replication_role = replica: the bench seeds) skips these checks, as it skipped the
 * foreign keys'. Two differences: under REPEATABLE READ, a user deleted while another transaction inserts for them
 * could leave that row behind where the foreign key would have raised a serialization failure (its cascade reads
 * with a crosscheck snapshot, which PL/pgSQL cannot); Herald sets no isolation level, so it deletes users under
 * READ COMMITTED. And the checks run with the caller's privileges where the foreign keys' ran as the tables'
 * owner: Herald connects as the owner.
 *
 * Measured 2026-11-30 on the local PostgreSQL 15 (EXPLAIN (ANALYZE, BUFFERS, WAL) of the store's fan-out statement
 * to one course of 10,000 students, rolled back each run, 2 shared cores at load ~0.9, runs 2-6 of 6): the three
 * foreign keys' triggers 37-45 + 34-38 + 31-33 ms (30,000 calls), the statement 254-275 ms; this trigger in a
 * first form that still locked each referenced row FOR KEY SHARE 16-17 ms (one call: two array aggregates over the
 * transition table and 10,001 + 1 row locks), the statement 150-161 ms; a second alternation, at a noisier moment:
 * 267-389 ms before, 153-220 ms after. Then with 1,000,000 users and the 10,000 students spread among them
 * (random_page_cost 1.1, four alternations, quiet): that first form 69-75 ms, this one 52-60 ms (the lookups
 * themselves now dominate), and a send to everyone on those users wrote its 1,000,001 rows in 23.7 s instead of
 * 26.5 s (bench/FINDINGS.md).
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  // One multi-statement query: one implicit transaction, so the checks replace the constraints atomically.
  await qi.sequelize.query(`
    -- 23503 worded as PostgreSQL words a foreign key's failure, naming the constraint this check replaces.
    CREATE FUNCTION notifications_ref_missing(col text, tbl text, key integer) RETURNS void LANGUAGE plpgsql AS $fn$
    DECLARE
      con constant text := 'notifications_' || col || '_fkey';
    BEGIN
      RAISE EXCEPTION 'insert or update on table "notifications" violates foreign key constraint "%"', con
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = con, TABLE = 'notifications', COLUMN = col,
              SCHEMA = current_schema(), DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, key, tbl);
    END $fn$;

    -- The statement's distinct references must exist. No row locks: the statement holds the references' lock
    -- shared (see the comment above) while a deletion of users or courses takes it exclusive, so the two queue.
    -- The lock comes first: after waiting for a deletion, the reads below see it (each statement reads anew).
    CREATE FUNCTION notifications_check_refs() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      ids integer[];
      missing integer;
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(7420014, 0);
      SELECT array_agg(DISTINCT k.id) INTO ids
        FROM (SELECT recipient_id FROM new_rows UNION ALL SELECT sender_id FROM new_rows WHERE sender_id IS NOT NULL) k(id);
      IF ids IS NOT NULL AND (SELECT count(*) FROM users u WHERE u.id = ANY (ids)) < cardinality(ids) THEN
        SELECT r.recipient_id INTO missing FROM new_rows r
         WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.recipient_id) LIMIT 1;
        IF FOUND THEN PERFORM notifications_ref_missing('recipient_id', 'users', missing); END IF;
        SELECT r.sender_id INTO missing FROM new_rows r
         WHERE r.sender_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = r.sender_id) LIMIT 1;
        IF FOUND THEN PERFORM notifications_ref_missing('sender_id', 'users', missing); END IF;
      END IF;
      SELECT array_agg(DISTINCT course_id) INTO ids FROM new_rows WHERE course_id IS NOT NULL;
      IF ids IS NOT NULL AND (SELECT count(*) FROM courses c WHERE c.id = ANY (ids)) < cardinality(ids) THEN
        SELECT r.course_id INTO missing FROM new_rows r
         WHERE r.course_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM courses c WHERE c.id = r.course_id) LIMIT 1;
        IF FOUND THEN PERFORM notifications_ref_missing('course_id', 'courses', missing); END IF;
      END IF;
      RETURN NULL;
    END $fn$;

    -- One row whose references changed (the WHEN clause below says which rows come here).
    CREATE FUNCTION notifications_check_row_refs() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(7420014, 0);
      IF NEW.recipient_id IS DISTINCT FROM OLD.recipient_id
         AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.recipient_id) THEN
        PERFORM notifications_ref_missing('recipient_id', 'users', NEW.recipient_id);
      END IF;
      IF NEW.sender_id IS NOT NULL AND NEW.sender_id IS DISTINCT FROM OLD.sender_id
         AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.sender_id) THEN
        PERFORM notifications_ref_missing('sender_id', 'users', NEW.sender_id);
      END IF;
      IF NEW.course_id IS NOT NULL AND NEW.course_id IS DISTINCT FROM OLD.course_id
         AND NOT EXISTS (SELECT 1 FROM courses WHERE id = NEW.course_id) THEN
        PERFORM notifications_ref_missing('course_id', 'courses', NEW.course_id);
      END IF;
      RETURN NULL;
    END $fn$;

    -- The foreign keys' ON DELETE actions, once per statement: CASCADE for recipients, SET NULL for senders and
    -- courses. The exclusive lock first: it waits for every transaction that inserted rows (they may reference what
    -- was deleted), whose rows the statements after it then see.
    CREATE FUNCTION users_delete_notifications() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(7420014, 0);
      DELETE FROM notifications n USING gone g WHERE n.recipient_id = g.id;
      UPDATE notifications n SET sender_id = NULL FROM gone g WHERE n.sender_id = g.id;
      RETURN NULL;
    END $fn$;
    CREATE FUNCTION courses_unlink_notifications() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_advisory_xact_lock(7420014, 0);
      UPDATE notifications n SET course_id = NULL FROM gone g WHERE n.course_id = g.id;
      RETURN NULL;
    END $fn$;

    -- NO ACTION on update: a key that changes is refused while rows still reference it (and no row took it over).
    CREATE FUNCTION notifications_keep_key() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      con text;
    BEGIN
      PERFORM pg_advisory_xact_lock(7420014, 0);
      IF TG_TABLE_NAME = 'users' AND NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.id) THEN
        con := CASE WHEN EXISTS (SELECT 1 FROM notifications WHERE recipient_id = OLD.id) THEN 'notifications_recipient_id_fkey'
                    WHEN EXISTS (SELECT 1 FROM notifications WHERE sender_id = OLD.id) THEN 'notifications_sender_id_fkey' END;
      ELSIF TG_TABLE_NAME = 'courses' AND NOT EXISTS (SELECT 1 FROM courses WHERE id = OLD.id)
            AND EXISTS (SELECT 1 FROM notifications WHERE course_id = OLD.id) THEN
        con := 'notifications_course_id_fkey';
      END IF;
      IF con IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "notifications"', TG_TABLE_NAME, con
          USING ERRCODE = 'foreign_key_violation', CONSTRAINT = con, TABLE = 'notifications', SCHEMA = current_schema(),
                DETAIL = format('Key (id)=(%s) is still referenced from table "notifications".', OLD.id);
      END IF;
      RETURN NULL;
    END $fn$;

    ALTER TABLE notifications DROP CONSTRAINT notifications_recipient_id_fkey,
      DROP CONSTRAINT notifications_sender_id_fkey, DROP CONSTRAINT notifications_course_id_fkey;

    -- Named to sort before notification_group_counts_* (a table's triggers fire in name order): references are
    -- locked before group counters, as the foreign keys' RI_ConstraintTrigger_* did, so a user's deletion (user row,
    -- then their counters) and an insert for them take the two in the same order and cannot deadlock.
    CREATE TRIGGER notification_check_refs AFTER INSERT ON notifications
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_check_refs();
    CREATE TRIGGER notification_check_row_refs AFTER UPDATE OF recipient_id, sender_id, course_id ON notifications
      FOR EACH ROW WHEN (NEW.recipient_id IS DISTINCT FROM OLD.recipient_id
                         OR (NEW.sender_id IS NOT NULL AND NEW.sender_id IS DISTINCT FROM OLD.sender_id)
                         OR (NEW.course_id IS NOT NULL AND NEW.course_id IS DISTINCT FROM OLD.course_id))
      EXECUTE FUNCTION notifications_check_row_refs();

    CREATE TRIGGER users_delete_notifications AFTER DELETE ON users
      REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION users_delete_notifications();
    CREATE TRIGGER courses_unlink_notifications AFTER DELETE ON courses
      REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION courses_unlink_notifications();
    CREATE TRIGGER users_keep_notification_key AFTER UPDATE OF id ON users
      FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION notifications_keep_key();
    CREATE TRIGGER courses_keep_notification_key AFTER UPDATE OF id ON courses
      FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION notifications_keep_key();
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP TRIGGER IF EXISTS courses_keep_notification_key ON courses;
    DROP TRIGGER IF EXISTS users_keep_notification_key ON users;
    DROP TRIGGER IF EXISTS courses_unlink_notifications ON courses;
    DROP TRIGGER IF EXISTS users_delete_notifications ON users;
    DROP TRIGGER IF EXISTS notification_check_row_refs ON notifications;
    DROP TRIGGER IF EXISTS notification_check_refs ON notifications;
    DROP FUNCTION IF EXISTS notifications_keep_key();
    DROP FUNCTION IF EXISTS courses_unlink_notifications();
    DROP FUNCTION IF EXISTS users_delete_notifications();
    DROP FUNCTION IF EXISTS notifications_check_row_refs();
    DROP FUNCTION IF EXISTS notifications_check_refs();
    DROP FUNCTION IF EXISTS notifications_ref_missing(text, text, integer);

    ALTER TABLE notifications
      ADD CONSTRAINT notifications_recipient_id_fkey FOREIGN KEY (recipient_id) REFERENCES users (id) ON DELETE CASCADE,
      ADD CONSTRAINT notifications_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE SET NULL,
      ADD CONSTRAINT notifications_course_id_fkey FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE SET NULL;
  `);
}
