import type { MigrationContext } from '../server/db/migrate';

/**
 * Content stored once (issue 17). A fan-out's title, message, data and search vector were copied into every
 * recipient's row: at 10,000 recipients the same text 10,000 times, plus 10,000 tsvectors and their GIN entries.
 * The send's `broadcasts` row (id = the rows' batch_id) already exists exactly when its rows do (the inline
 * statement writes both; a recorded send writes it first), so it becomes the content's one home:
 *
 * - `broadcasts.search_vector`, built as the rows' was (title A, message B, sender name and course title C), with
 *   a GIN index: a search finds a fan-out's rows through the few broadcasts that match, then the user's row by the
 *   unique (batch_id, recipient_id) index. `message` and `data` (added for recorded sends) now hold every send's.
 * - A fan-out row keeps what is its own and what the per-user indexes need (recipient, type, sender, course: the
 *   filters, group_key and the group index's INCLUDE; state, sort and times); title, message, data and
 *   search_vector are NULL. The store's one SELECT shape reads COALESCE(row, broadcast), so every reader (API,
 *   pages, pushes, email, webhooks) sees the same notification as before.
 * - A single (triggered) notification keeps its content inline, as before (batch_id NULL): it has no other row
 *   to share with, and a second row per notice would cost more than it saves. CHECK: a row has its own title or a
 *   batch to read it from.
 * - The content must outlive everything that still references it: broadcasts' course FK goes from CASCADE to SET
 *   NULL (a deleted course used to delete its sends' records; now its students keep reading the announcement, as
 *   their rows did), and a trigger refuses to delete a broadcast whose rows still read their content from it.
 * - notifications_search_idx becomes partial (rows with their own vector): fan-out rows no longer add a
 *   recipient_id entry and a NULL entry each to the GIN.
 *
 * The backfill copies each batch's content from one of its rows to its broadcast, then NULLs the copies with one
 * set-based UPDATE. On a big table that UPDATE rewrites every fan-out row in one transaction (a new tuple version
 * each, WAL for all of them, and the table's dead tuples until vacuum): run it in batches by id range off-hours
 * there; for the test and development databases one statement is fine. VACUUM afterwards returns the space.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    ALTER TABLE broadcasts ADD COLUMN search_vector tsvector;

    -- Each batch's content from its oldest row (every row of a batch carries the same), kept where the broadcast
    -- already has it (a recorded send's message and data).
    UPDATE broadcasts b
       SET message = COALESCE(b.message, r.message), data = COALESCE(b.data, r.data), search_vector = r.search_vector
      FROM (SELECT DISTINCT ON (batch_id) batch_id, message, data, search_vector FROM notifications
             WHERE batch_id IS NOT NULL AND title IS NOT NULL ORDER BY batch_id, id) r
     WHERE r.batch_id = b.id;
    -- Sends without rows yet (a queued recorded send): the vector from the broadcast's own content.
    UPDATE broadcasts b SET search_vector =
        setweight(to_tsvector('english', b.title), 'A') || setweight(to_tsvector('english', coalesce(b.message, '')), 'B')
        || setweight(to_tsvector('english', concat_ws(' ', (SELECT name FROM users WHERE id = b.sender_id),
                                                           (SELECT title FROM courses WHERE id = b.course_id))), 'C')
     WHERE b.search_vector IS NULL;
    UPDATE broadcasts SET message = '' WHERE message IS NULL;
    UPDATE broadcasts SET data = '{}' WHERE data IS NULL;
    CREATE INDEX broadcasts_search_idx ON broadcasts USING gin (search_vector);

    ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_course_id_fkey,
      ADD CONSTRAINT broadcasts_course_id_fkey FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE SET NULL;

    ALTER TABLE notifications
      ALTER COLUMN title DROP NOT NULL, ALTER COLUMN message DROP NOT NULL, ALTER COLUMN data DROP NOT NULL,
      ADD CONSTRAINT notifications_content_check CHECK (title IS NOT NULL OR batch_id IS NOT NULL);

    -- Only rows whose broadcast exists (it now holds their content); read, done and snoozed state is untouched.
    UPDATE notifications n SET title = NULL, message = NULL, data = NULL, search_vector = NULL
      FROM broadcasts b
     WHERE b.id = n.batch_id AND n.batch_id IS NOT NULL AND n.title IS NOT NULL;

    DROP INDEX IF EXISTS notifications_search_idx;
    CREATE INDEX notifications_search_idx ON notifications USING gin (recipient_id, search_vector) WHERE search_vector IS NOT NULL;

    -- Deleting a broadcast whose rows read their content from it would blank them: refused. (No FK from
    -- notifications.batch_id: its per-row check would cost every fan-out insert a lookup; broadcasts are deleted
    -- almost never, so the check lives here instead.)
    CREATE FUNCTION broadcasts_keep_content() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF EXISTS (SELECT 1 FROM notifications WHERE batch_id = OLD.id AND title IS NULL) THEN
        RAISE EXCEPTION 'broadcast % still holds the content of its notifications', OLD.id USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN OLD;
    END $fn$;
    CREATE TRIGGER broadcasts_keep_content BEFORE DELETE ON broadcasts FOR EACH ROW EXECUTE FUNCTION broadcasts_keep_content();
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP TRIGGER IF EXISTS broadcasts_keep_content ON broadcasts;
    DROP FUNCTION IF EXISTS broadcasts_keep_content();

    DROP INDEX IF EXISTS notifications_search_idx;
    UPDATE notifications n SET title = b.title, message = b.message, data = b.data, search_vector = b.search_vector
      FROM broadcasts b
     WHERE b.id = n.batch_id AND n.title IS NULL;
    ALTER TABLE notifications DROP CONSTRAINT notifications_content_check,
      ALTER COLUMN title SET NOT NULL, ALTER COLUMN message SET NOT NULL, ALTER COLUMN data SET NOT NULL;
    CREATE INDEX notifications_search_idx ON notifications USING gin (recipient_id, search_vector);

    ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_course_id_fkey,
      ADD CONSTRAINT broadcasts_course_id_fkey FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE CASCADE;
    -- An inline send kept its content in its rows only (see the chunked-sends migration).
    UPDATE broadcasts SET message = NULL, data = NULL WHERE audience_max_id IS NULL;
    DROP INDEX IF EXISTS broadcasts_search_idx;
    ALTER TABLE broadcasts DROP COLUMN search_vector;
  `);
}
