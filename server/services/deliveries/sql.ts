/**
 * SQL conditions over the deliveries record, for the channels' set-based statements. `notificationIdExpr` is SQL
 * written in code (`n.id`), never input.
 */

const CHANNELS = new Set(['email', 'push']);

/**
 * The notification is still free to claim on `channel`: no delivery there yet, or a pending one whose lease is
 * free. A sent, failed, skipped or cancelled row, or one another job holds, keeps it out of every pick.
 */
export function freeToClaim(channel: 'email' | 'push', notificationIdExpr: string): string {
  if (!CHANNELS.has(channel)) throw new Error(`Invalid channel: ${channel}`);
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(notificationIdExpr)) throw new Error(`Invalid column: ${notificationIdExpr}`);
  return `NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.notification_id = ${notificationIdExpr} AND d.channel = '${channel}'
                      AND NOT (d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())))`;
}
