/**
 * Full-text search over a user's notifications (issue 14): title (weight A), message (B), and the sender's name and
 * course title (C), in one `search_vector` column with a GIN index. A single notice's vector is written by its
 * INSERT (`insertNotificationsSql`) from the same expressions as the row; a fan-out's is written once, on its
 * broadcast (`broadcastContentSql`, issue 17), and its rows have none.
 * One text search configuration everywhere (documents and queries), so stemming agrees on both sides.
 */
export const SEARCH_CONFIG = 'english';

/** The vector of a row from SQL expressions (trusted, over the INSERT's FROM clause), as a scalar subquery. */
export function searchVectorSql(e: { title: string; message: string; senderId: string; courseId: string }): string {
  const cfg = `'${SEARCH_CONFIG}'`;
  return `(SELECT setweight(to_tsvector(${cfg}, coalesce(v.t, '')), 'A') || setweight(to_tsvector(${cfg}, coalesce(v.m, '')), 'B')
                  || setweight(to_tsvector(${cfg}, concat_ws(' ', (SELECT name FROM users WHERE id = v.s),
                                                                   (SELECT title FROM courses WHERE id = v.c))), 'C')
             FROM (SELECT CAST(${e.title} AS text) AS t, CAST(${e.message} AS text) AS m,
                          CAST(${e.senderId} AS integer) AS s, CAST(${e.courseId} AS integer) AS c) AS v)`;
}

const QUERY = `websearch_to_tsquery('${SEARCH_CONFIG}', :q)`;

/**
 * The condition for search text `:q` on the notifications alias `alias` (websearch syntax: "quoted phrases", or,
 * -word): its own vector (a single notice), or, for a fan-out row (whose content is stored once, on its broadcast),
 * its broadcast's. The broadcasts that match are one hashed set per statement (broadcasts_search_idx), whatever
 * the number of rows tested.
 */
export const matchesSql = (alias: string) =>
  `(${alias}.search_vector @@ ${QUERY}
    OR (${alias}.search_vector IS NULL AND ${alias}.batch_id IN (SELECT mb.id FROM broadcasts mb WHERE mb.search_vector @@ ${QUERY})))`;

/** Only a row's own vector: the GIN index over rows with a vector (notifications_search_idx) answers it. */
export const ownMatchSql = (alias: string) => `${alias}.search_vector @@ ${QUERY}`;

/** A broadcast's vector (broadcasts_search_idx): the content of every row of its fan-out. */
export const broadcastMatchSql = (alias: string) => `${alias}.search_vector @@ ${QUERY}`;

/**
 * How many of the newest rows of a list a search reads in order before it falls back to the index (see below).
 * About sqrt(page * rows of a big inbox): 21 * 100,000 -> ~1,450; a round 1,000 keeps the head cheap.
 */
export const SEARCH_HEAD_ROWS = 1000;

/**
 * The ids and sort keys of one page of a user's search (`:q` over `list(a)`, the list's conditions on alias `a`
 * with its cursor; `:limit` rows), newest first, as CTEs ending in `page`. Two ways to find them, the cheaper one
 * chosen by the data rather than by an estimate the planner cannot make:
 * - the head: the list's newest SEARCH_HEAD_ROWS rows in sort order (its partial index), matched one by one and
 *   stopping at a full page. A common word (an instructor's course name) fills it after a few dozen rows;
 * - the tail, only when the head did not fill the page and the list goes on past it: the GIN index, restricted to
 *   rows older than the head. What is left to read is bounded by how rare the word is: a rare word has few rows.
 * The GIN index alone reads every match of the user before sorting them (14,000 heap rows for a course name among
 * 100,000: 0.7-3 s on a busy machine; the planner cannot know that a word rare in the table is common for this
 * user), and the index order alone reads the whole list for a word that is not there. Measured: bench/inbox.ts.
 * The tail has two sources since content is stored once: single notices by their own vector (the per-user GIN),
 * and fan-out rows through the broadcasts whose vector matches (broadcasts_search_idx), each joined to this user's
 * row by the unique (batch_id, recipient_id) index.
 */
export function searchPageSql(list: (a: string) => string): string {
  const more = '(SELECT count(*) FROM hits) < :limit';
  return `hits AS MATERIALIZED (
      SELECT h.id, h.sort_key FROM (
        SELECT m.id, m.sort_key, m.search_vector, m.batch_id FROM notifications m WHERE ${list('m')}
         ORDER BY m.sort_key DESC LIMIT ${SEARCH_HEAD_ROWS}) h
       WHERE ${matchesSql('h')} ORDER BY h.sort_key DESC LIMIT :limit
    ),
    edge AS (
      SELECT e.sort_key FROM notifications e WHERE ${list('e')} ORDER BY e.sort_key DESC OFFSET ${SEARCH_HEAD_ROWS - 1} LIMIT 1
    ),
    page AS (
      SELECT id, sort_key FROM hits
      UNION ALL
      (SELECT x.id, x.sort_key FROM (
         (SELECT t.id, t.sort_key FROM notifications t
           WHERE ${list('t')} AND ${ownMatchSql('t')} AND ${more} AND t.sort_key < (SELECT sort_key FROM edge)
           ORDER BY t.sort_key DESC LIMIT :limit)
         UNION ALL
         (SELECT t.id, t.sort_key FROM broadcasts tb JOIN notifications t ON t.batch_id = tb.id
           WHERE ${broadcastMatchSql('tb')} AND t.search_vector IS NULL AND ${more}
             AND ${list('t')} AND t.sort_key < (SELECT sort_key FROM edge)
           ORDER BY t.sort_key DESC LIMIT :limit)
       ) x
       ORDER BY x.sort_key DESC LIMIT :limit)
    )`;
}
