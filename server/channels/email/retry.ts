import { QueryTypes, type Sequelize } from 'sequelize';
import type { JobHelpers, TaskList } from '../../jobs';
import type { ClaimSource } from '../../services/deliveries';
import { IN_QUIET_HOURS, type EmailTaskDeps } from './select';

/**
 * An admin's retry (`POST /api/admin/deliveries/{id}/retry/`): the failed row went back to pending, and this job
 * sends exactly those rows again, by delivery id. It asks nothing of how the row was first chosen: not the read
 * state (the admin asked for this email; the notification may have been read since) and not the email mode it
 * had (an immediate, an escalation or a digest row all resend the same way). Only what the recipient may still
 * refuse counts: a type whose email is now off is skipped with the reason, and quiet hours hold the send until
 * they end, as for every email.
 *
 * A digest row is resent as a one-notification email, not as the digest it came in: the row records no digest
 * (one delivery per notification, with nothing tying it to the others that went in the same message), the admin
 * retries one row and must settle only that row, and a digest rebuilt later would list a different set than the
 * one that failed. The message then carries its own link, unsubscribe and `Message-ID` (`<delivery-ID...>`).
 */
export const RETRY_TASK = 'email:deliveries';

export interface RetryPayload {
  deliveryIds: number[];
}

function idsOf(p: RetryPayload): string {
  return `{${(p.deliveryIds ?? []).map(Number).filter(Number.isSafeInteger).join(',')}}`;
}

/** The payload's pending email rows whose lease is free, outside their recipient's quiet hours. */
const CANDIDATES = `
  FROM deliveries d
  JOIN notifications n ON n.id = d.notification_id
  LEFT JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
 WHERE d.id = ANY(CAST(:deliveryIds AS bigint[])) AND d.channel = 'email' AND d.status = 'pending'`;

/**
 * The claim: `DeliveryService.claim` leases the pending row of each notification this yields (its insert finds
 * the row there and does nothing), with the same lease check as every email job, in one statement.
 */
export function retrySource(p: RetryPayload): ClaimSource {
  return {
    sql: `SELECT d.notification_id, d.recipient_id ${CANDIDATES}
            AND (d.claimed_until IS NULL OR d.claimed_until < now()) AND NOT ${IN_QUIET_HOURS}`,
    replacements: { deliveryIds: idsOf(p) },
  };
}

/** When to look again: the earliest end of quiet hours holding a row, or just after another job's lease. */
async function nextLook(db: Sequelize, p: RetryPayload): Promise<Date | null> {
  const [row] = await db.query<{ wake: Date | null }>(
    `SELECT min(CASE
                  WHEN d.claimed_until > now() THEN d.claimed_until + interval '1 second'
                  WHEN (CAST(now() AT TIME ZONE ep.timezone AS date) + ep.quiet_end) AT TIME ZONE ep.timezone > now()
                    THEN (CAST(now() AT TIME ZONE ep.timezone AS date) + ep.quiet_end) AT TIME ZONE ep.timezone
                  ELSE (CAST(now() AT TIME ZONE ep.timezone AS date) + ep.quiet_end) AT TIME ZONE ep.timezone + interval '1 day'
                END) AS wake
       ${CANDIDATES} AND (d.claimed_until > now() OR ${IN_QUIET_HOURS})`,
    { type: QueryTypes.SELECT, replacements: { deliveryIds: idsOf(p) } },
  );
  return row?.wake ? new Date(row.wake) : null;
}

/** The claimed rows whose recipient has since turned this type's email off (unsubscribed, say). */
async function refused(db: Sequelize, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `SELECT d.id FROM deliveries d
       JOIN notifications n ON n.id = d.notification_id
       JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
      WHERE d.id = ANY(CAST(:ids AS bigint[])) AND ep.email = 'off'`,
    { type: QueryTypes.SELECT, replacements: { ids: `{${ids.join(',')}}` } },
  );
  return rows.map((r) => Number(r.id));
}

export function retryTasks(deps: EmailTaskDeps): TaskList {
  return {
    [RETRY_TASK]: async (raw: unknown, helpers: JobHelpers) => {
      const payload = raw as RetryPayload;
      const claimed = await deps.deliveries.claim('email', retrySource(payload), { leaseSeconds: deps.leaseSeconds });
      const off = new Set(await refused(deps.sequelize, claimed.map((c) => c.id)));
      await deps.deliveries.markSkipped([...off].map((id) => ({ id, error: 'email turned off for this type since' })));
      // A transient failure throws: the job retries with backoff, and the released rows are claimed again then.
      const report = await deps.sender.sendEach(claimed.filter((c) => !off.has(c.id)));
      const wakeAt = await nextLook(deps.sequelize, payload);
      if (wakeAt) {
        await helpers.addJob(RETRY_TASK, payload, { runAt: wakeAt, jobKey: `${RETRY_TASK}:later:${idsOf(payload)}` });
      }
      helpers.logger.info(`${RETRY_TASK} sent ${report.sent.length}, failed ${report.failed.length}, skipped ${off.size}`);
    },
  };
}
