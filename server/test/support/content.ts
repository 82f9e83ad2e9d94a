/**
 * The notifications as their readers see them, for tests that check rows in SQL: a fan-out row's title, message
 * and data are its broadcast's (content stored once, issue 17), a single notice's its own. A FROM item named
 * `alias` with the row's own columns and its content; the store reads the same COALESCE (shape.ts).
 */
export function withContent(alias = 'notifications'): string {
  return `(SELECT x.id, x.recipient_id, x.sender_id, x.type, COALESCE(x.title, xb.title) AS title,
                  COALESCE(x.message, xb.message) AS message, COALESCE(x.data, xb.data) AS data, x.application_id,
                  x.course_id, x.batch_id, x.read_at, x.created_at, x.done_at, x.snoozed_until, x.sort_key
             FROM notifications x LEFT JOIN broadcasts xb ON xb.id = x.batch_id) ${alias}`;
}
