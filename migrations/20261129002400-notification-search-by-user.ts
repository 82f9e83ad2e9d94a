import type { MigrationContext } from '../server/db/migrate';

/**
 * Search by user (issue 14, measured by bench/inbox.ts at 5,000,000 rows): the search index becomes
 * GIN (recipient_id, search_vector), with btree_gin for the integer column (a trusted extension shipped with
 * PostgreSQL; the embedded cluster has it too). Every search is one user's, and with the vector alone the index
 * answers every user's matches, which the plan then intersects with the whole of the user's inbox index: for a word
 * common in the table and absent from this user's rows, a bitmap of 100,000 entries for nothing. With the user in
 * the index, GIN intersects the posting lists itself, skipping through the long ones by the shortest, so a search
 * costs about what the user's matches cost. Same name: one search index, as before (the moderation table's search
 * never used it; it matches title and message with ILIKE).
 */
export async function up({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    CREATE EXTENSION IF NOT EXISTS btree_gin;
    DROP INDEX IF EXISTS notifications_search_idx;
    CREATE INDEX notifications_search_idx ON notifications USING gin (recipient_id, search_vector);
  `);
}

export async function down({ context: qi }: { context: MigrationContext }) {
  await qi.sequelize.query(`
    DROP INDEX IF EXISTS notifications_search_idx;
    CREATE INDEX notifications_search_idx ON notifications USING gin (search_vector);
  `);
}
