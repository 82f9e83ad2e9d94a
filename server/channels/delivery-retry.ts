import { QueryTypes, type Sequelize } from 'sequelize';
import type { JobHelpers } from '../jobs';
import type { SqlSource } from '../services/deliveries';
import { notificationRows } from '../services/notifications/store/channel-reads';
import { IN_QUIET_HOURS, NEXT_QUIET_END } from './quiet-hours';

/**
 * An admin's retry of failed deliveries, by delivery id, shared by the channels that resend (`email:deliveries`,
 * `push:deliveries`): the rows went back to pending, and the channel's job sends exactly those again, whatever
 * first chose them; only what the recipient may still refuse counts (the type's channel turned off since, quiet
 * hours).
 */
export interface RetryPayload {
  deliveryIds: number[];
}

/** The payload's ids as a PostgreSQL array literal, non-integers dropped. */
export function retryIds(p: RetryPayload): string {
  return `{${(p.deliveryIds ?? []).map(Number).filter(Number.isSafeInteger).join(',')}}`;
}

/** What a channel's retry job does with the rows: its claim, its send (a transient failure may throw). */
export interface RetrySpec<Claimed extends { id: number }> {
  task: string;
  sequelize: Sequelize;
  claim(source: SqlSource): Promise<Claimed[]>;
  markSkipped(rows: Array<{ id: number; error: string }>): Promise<number>;
  /** How many went out, and (when the channel counts them) how many failed for good. */
  send(claimed: Claimed[]): Promise<{ sent: number; failed?: number }>;
}

/** One channel's retry queries; `refusedWhen` is the SQL over `ep` (effective preferences) that means "turned off". */
export function deliveryRetry(channel: 'email' | 'push', refusedWhen: string) {
  const candidates = `
    FROM deliveries d
    JOIN ${notificationRows('n')} ON n.id = d.notification_id
    LEFT JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
   WHERE d.id = ANY(CAST(:deliveryIds AS bigint[])) AND d.channel = '${channel}' AND d.status = 'pending'`;

  /** The claim source: pending rows whose lease is free, outside their recipient's quiet hours. */
  function source(p: RetryPayload): { sql: string; replacements: Record<string, unknown> } {
    return {
      sql: `SELECT d.notification_id, d.recipient_id ${candidates}
              AND (d.claimed_until IS NULL OR d.claimed_until < now()) AND NOT ${IN_QUIET_HOURS}`,
      replacements: { deliveryIds: retryIds(p) },
    };
  }

  /** When to look again: just after another job's lease (or a hold), or at the earliest end of quiet hours. */
  async function nextLook(db: Sequelize, p: RetryPayload): Promise<Date | null> {
    const [row] = await db.query<{ wake: Date | null }>(
      `SELECT min(CASE WHEN d.claimed_until > now() THEN d.claimed_until + interval '1 second' ELSE ${NEXT_QUIET_END} END) AS wake
         ${candidates} AND (d.claimed_until > now() OR ${IN_QUIET_HOURS})`,
      { type: QueryTypes.SELECT, replacements: { deliveryIds: retryIds(p) } },
    );
    return row?.wake ? new Date(row.wake) : null;
  }

  /** The claimed rows whose recipient has since turned this type's channel off (unsubscribed, say). */
  async function refused(db: Sequelize, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await db.query<{ id: string }>(
      `SELECT d.id FROM deliveries d
         JOIN ${notificationRows('n')} ON n.id = d.notification_id
         JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
        WHERE d.id = ANY(CAST(:ids AS bigint[])) AND ${refusedWhen}`,
      { type: QueryTypes.SELECT, replacements: { ids: `{${ids.join(',')}}` } },
    );
    return rows.map((r) => Number(r.id));
  }

  /**
   * The job body: claim the payload's rows, skip (with the reason) those the recipient turned off since, send the
   * rest, and look again later for the rows a lease or quiet hours held back (keyed, so duplicates collapse).
   */
  function task<Claimed extends { id: number }>(spec: RetrySpec<Claimed>) {
    return async (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>): Promise<void> => {
      const payload = raw as RetryPayload;
      const claimed = await spec.claim(source(payload));
      const off = new Set(await refused(spec.sequelize, claimed.map((c) => c.id)));
      await spec.markSkipped([...off].map((id) => ({ id, error: `${channel} turned off for this type since` })));
      // A transient failure throws: the job retries with backoff, and the released rows are claimed again then.
      const outcome = await spec.send(claimed.filter((c) => !off.has(c.id)));
      const wakeAt = await nextLook(spec.sequelize, payload);
      if (wakeAt) {
        await helpers.addJob(spec.task, payload, { runAt: wakeAt, jobKey: `${spec.task}:later:${retryIds(payload)}` });
      }
      const failed = outcome.failed === undefined ? '' : `, failed ${outcome.failed}`;
      helpers.logger.info(`${spec.task} sent ${outcome.sent}${failed}, skipped ${off.size}`);
    };
  }

  return { source, nextLook, refused, task };
}
