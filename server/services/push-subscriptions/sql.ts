/**
 * SQL condition: the user in `userColumn` has a device that has not expired. The fan-out's enqueue (a push job only
 * when someone has a device) and the push channel's pick use this one condition, so they agree.
 */
export function hasLiveDevice(userColumn: string): string {
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(userColumn)) throw new Error(`Invalid column: ${userColumn}`);
  return `EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = ${userColumn}
                    AND (s.expiration_time IS NULL OR s.expiration_time > now()))`;
}
