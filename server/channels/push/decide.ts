import { PRESENCE_STALE_MS } from '../../realtime/presence';

/**
 * SQL condition, for a set-based statement, that the user in `userColumn` has no visible Herald tab on any live
 * server process (server/realtime records them in `realtime_visible` when tabs report `{"type":"visibility"}`).
 * `userColumn` is SQL written in code (`n.recipient_id`), never user input.
 *
 * @example
 *   SELECT n.id, n.recipient_id FROM ${notificationRows('n')}
 *    WHERE n.batch_id = :batchId AND ${noVisibleTab('n.recipient_id')}
 */
export function noVisibleTab(userColumn: string): string {
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(userColumn)) throw new Error(`Invalid column: ${userColumn}`);
  return `NOT EXISTS (
    SELECT 1 FROM realtime_visible v JOIN realtime_presence p ON p.instance_id = v.instance_id
     WHERE v.user_id = ${userColumn} AND p.updated_at > now() - make_interval(secs => ${PRESENCE_STALE_MS / 1000}))`;
}
