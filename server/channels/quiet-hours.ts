import { QueryTypes, type Sequelize } from 'sequelize';
import { notificationRows } from '../services/notifications/store/channel-reads';

/**
 * Quiet hours and leases, as every durable channel (email, push, their retries, the digest) asks them in SQL over
 * `ep` (the recipient's effective preferences) and `d` (a delivery row): one definition, so a fix to the rule is
 * one fix.
 */

/** The recipient's local wall-clock time falls inside [start, end), which may wrap past midnight. */
export const IN_QUIET_HOURS = `(ep.quiet_start IS NOT NULL AND CASE
    WHEN ep.quiet_start < ep.quiet_end
      THEN CAST(now() AT TIME ZONE ep.timezone AS time) >= ep.quiet_start AND CAST(now() AT TIME ZONE ep.timezone AS time) < ep.quiet_end
    ELSE CAST(now() AT TIME ZONE ep.timezone AS time) >= ep.quiet_start OR CAST(now() AT TIME ZONE ep.timezone AS time) < ep.quiet_end
  END)`;

const TODAYS_QUIET_END = '(CAST(now() AT TIME ZONE ep.timezone AS date) + ep.quiet_end) AT TIME ZONE ep.timezone';

/** When the recipient's current quiet hours end: today's end, or tomorrow's when today's has passed. */
export const NEXT_QUIET_END = `CASE WHEN ${TODAYS_QUIET_END} > now() THEN ${TODAYS_QUIET_END} ELSE ${TODAYS_QUIET_END} + interval '1 day' END`;

/** The earliest end of quiet hours among the rows of `fromWhere` (a `FROM ... WHERE ...` over `ep`) held by them. */
export async function earliestQuietEnd(db: Sequelize, fromWhere: string, replacements: Record<string, unknown>): Promise<Date | null> {
  const [row] = await db.query<{ wake: Date | null }>(
    `SELECT min(${NEXT_QUIET_END}) AS wake ${fromWhere} AND ${IN_QUIET_HOURS}`,
    { type: QueryTypes.SELECT, replacements },
  );
  return row?.wake ? new Date(row.wake) : null;
}

/**
 * The latest lease still held on the pending deliveries of one channel among the notifications `where` picks
 * (over `n`): rows claimed by a job that died mid-send or by a duplicate still sending. Null when there is none.
 */
export async function lastLeaseEnd(
  db: Sequelize,
  channel: 'email' | 'push',
  where: string,
  replacements: Record<string, unknown>,
): Promise<Date | null> {
  const [row] = await db.query<{ until: Date | null }>(
    `SELECT max(d.claimed_until) AS until
       FROM ${notificationRows('n')} JOIN deliveries d ON d.notification_id = n.id
      WHERE ${where} AND d.channel = '${channel}' AND d.status = 'pending' AND d.claimed_until > now()`,
    { type: QueryTypes.SELECT, replacements },
  );
  return row?.until ? new Date(row.until) : null;
}
