/**
 * Full-text search over a user's notifications (issue 14): title (weight A), message (B), and the sender's name and
 * course title (C), in one `search_vector` column with a GIN index. The vector is written by the one INSERT
 * (`insertNotificationsSql`) from the same expressions as the row: a fan-out's content is the same for every
 * recipient, so the scalar subquery is uncorrelated and PostgreSQL computes it once per statement, not per row.
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

/** The condition for search text `:q` on alias `n` (websearch syntax: "quoted phrases", or, -word). */
export const matchesSql = (alias: string) => `${alias}.search_vector @@ websearch_to_tsquery('${SEARCH_CONFIG}', :q)`;
