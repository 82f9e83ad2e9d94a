import { QueryTypes, type Sequelize } from 'sequelize';
import type { JobHelpers } from 'graphile-worker';
import { IN_QUIET_HOURS } from '../email/select';
import { pushChunk, type PushChunkDeps, type PushSource } from './chunk';

/**
 * An admin's retry (`POST /api/admin/deliveries/{id}/retry/`) of a failed push: the row went back to pending, and
 * this job sends exactly that row's notification again to the recipient's live devices, by delivery id. Like
 * email's `email:deliveries`, it asks nothing of how the row was first chosen: not the read state (the admin asked
 * for this push) and not a visible tab (a tab shows new notifications, not one an admin resends). Only what the
 * recipient may still refuse counts: push turned off for the type since is skipped with the reason, quiet hours
 * hold the send until they end, and with no live device left the row is skipped.
 */
export const PUSH_RETRY_TASK = 'push:deliveries';

export interface PushRetryPayload {
  deliveryIds: number[];
}

function idsOf(p: PushRetryPayload): string {
  return `{${(p.deliveryIds ?? []).map(Number).filter(Number.isSafeInteger).join(',')}}`;
}

/** The payload's pending push rows. */
const CANDIDATES = `
  FROM deliveries d
  JOIN notifications n ON n.id = d.notification_id
  LEFT JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
 WHERE d.id = ANY(CAST(:deliveryIds AS bigint[])) AND d.channel = 'push' AND d.status = 'pending'`;

/** Those whose lease is free (not held by a busy push service's Retry-After), outside quiet hours. */
export function pushRetrySource(p: PushRetryPayload): PushSource {
  return {
    sql: `SELECT d.notification_id, d.recipient_id ${CANDIDATES}
            AND (d.claimed_until IS NULL OR d.claimed_until < now()) AND NOT ${IN_QUIET_HOURS}`,
    replacements: { deliveryIds: idsOf(p) },
  };
}

/** When to look again: just after a hold or another job's lease, or at the earliest end of quiet hours. */
async function nextLook(db: Sequelize, p: PushRetryPayload): Promise<Date | null> {
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

/** The claimed rows whose recipient has since turned this type's push off. */
async function refused(db: Sequelize, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `SELECT d.id FROM deliveries d
       JOIN notifications n ON n.id = d.notification_id
       JOIN effective_notification_preferences ep ON ep.user_id = d.recipient_id AND ep.type = n.type
      WHERE d.id = ANY(CAST(:ids AS bigint[])) AND NOT ep.push`,
    { type: QueryTypes.SELECT, replacements: { ids: `{${ids.join(',')}}` } },
  );
  return rows.map((r) => Number(r.id));
}

export function pushRetryTasks(deps: PushChunkDeps) {
  return {
    [PUSH_RETRY_TASK]: async (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>) => {
      const payload = raw as PushRetryPayload;
      const claimed = await deps.deliveries.claim('push', pushRetrySource(payload));
      const off = new Set(await refused(deps.sequelize, claimed.map((c) => c.id)));
      await deps.deliveries.markSkipped([...off].map((id) => ({ id, error: 'push turned off for this type since' })));
      const outcome = await pushChunk(deps, claimed.filter((c) => !off.has(c.id)), new Map(), { skipVisible: false });
      const wakeAt = await nextLook(deps.sequelize, payload);
      if (wakeAt) {
        await helpers.addJob(PUSH_RETRY_TASK, payload, { runAt: wakeAt, jobKey: `${PUSH_RETRY_TASK}:later:${idsOf(payload)}` });
      }
      helpers.logger.info(`${PUSH_RETRY_TASK} sent ${outcome.sent}, skipped ${off.size}`);
    },
  };
}
