/**
 * The join a set-based statement (the fan-out, the escalation and digest jobs) uses to read each recipient's
 * effective preferences for a type in the same statement: defaults, the user's overrides and locks already
 * resolved by the `effective_notification_preferences` view. Columns: in_app, email ('off' | 'immediate' |
 * 'unread' | 'digest'), push, timezone, quiet_start, quiet_end, digest_hour.
 *
 * `userColumn` and `typeExpr` are SQL written in code (a column such as `r.student_id`, a replacement such as
 * `:type`), never user input.
 *
 * @example
 *   INSERT INTO notifications (recipient_id, type, ..., read_at)
 *   SELECT e.student_id, :type, ..., CASE WHEN ep.in_app THEN NULL ELSE now() END
 *     FROM enrollments e ${effectivePreferencesJoin('ep', 'e.student_id', ':type')}
 *    WHERE e.course_id = :courseId
 */
export function effectivePreferencesJoin(alias: string, userColumn: string, typeExpr: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(alias)) throw new Error(`Invalid alias: ${alias}`);
  return `JOIN effective_notification_preferences ${alias} ON ${alias}.user_id = ${userColumn} AND ${alias}.type = ${typeExpr}`;
}
