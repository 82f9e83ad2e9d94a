import type { MigrationContext } from '../server/db/migrate';

/**
 * Full-text search of a user's notifications (issue 14): `search_vector` holds title (A), message (B) and the
 * sender's name and course title (C), written by the one INSERT (store/fulltext.ts); a GIN index serves `q=`.
 * Existing rows are filled here from the same expression.
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    ALTER TABLE notifications ADD COLUMN search_vector tsvector;
    UPDATE notifications n SET search_vector =
        setweight(to_tsvector('english', n.title), 'A') || setweight(to_tsvector('english', n.message), 'B')
        || setweight(to_tsvector('english', concat_ws(' ', (SELECT name FROM users WHERE id = n.sender_id),
                                                           (SELECT title FROM courses WHERE id = n.course_id))), 'C');
    CREATE INDEX notifications_search_idx ON notifications USING gin (search_vector);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query('DROP INDEX IF EXISTS notifications_search_idx; ALTER TABLE notifications DROP COLUMN IF EXISTS search_vector');
}
