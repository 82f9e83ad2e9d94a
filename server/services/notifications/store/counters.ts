/**
 * Aggregate counts of notifications as SQL pieces, for reports that count across several tables in one
 * statement (the dashboard): the report composes them, the store alone knows how notifications are counted.
 */

/** Counter columns `today, week, total, unread`; the enclosing SELECT must have `day.start` (00:00 UTC today). */
export const NOTIFICATION_COUNTERS = [
  '(SELECT count(*) FROM notifications, day WHERE created_at >= day.start) AS today',
  "(SELECT count(*) FROM notifications, day WHERE created_at >= day.start - interval '6 days') AS week",
  '(SELECT count(*) FROM notifications) AS total',
  '(SELECT count(*) FROM notifications WHERE read_at IS NULL) AS unread',
] as const;

/**
 * `SELECT d, n`: notifications per UTC day over the last `days` days (days without any have no row), for a
 * statement with `today.d` (today's UTC date) in scope. Reads the created_at index.
 */
export function notificationsPerDaySql(days: number): string {
  const back = Math.trunc(days) - 1;
  return `SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n
            FROM notifications, today
           WHERE created_at >= (today.d - ${back})::timestamp AT TIME ZONE 'UTC'
           GROUP BY 1`;
}
