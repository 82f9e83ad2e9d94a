import type { Sequelize } from 'sequelize';
import type { JobHelpers } from '../../jobs';
import type { ClaimSource, DeliveryService, SqlSource } from '../../services/deliveries';
import type { EmailSender } from './index';
import { earliestQuietEnd, IN_QUIET_HOURS, lastLeaseEnd } from '../quiet-hours';

export { IN_QUIET_HOURS };

/**
 * What the per-notification email jobs (immediate, escalation) share: the payload (a fan-out batch, or the ids
 * of single notifications), the one query that picks who to email now, and the follow-up after quiet hours.
 */
export interface EmailJobPayload {
  batchId?: string;
  notificationIds?: number[];
}

/** Which of the payload's notifications a job is about: its own effective email mode, and whether read ones count. */
export interface EmailSelection {
  mode: 'immediate' | 'unread';
  /** Escalation mails only what is still unread at its due time; immediate mails whatever the inbox did. */
  unreadOnly: boolean;
}

function scope(p: EmailJobPayload): { where: string; replacements: Record<string, unknown> } {
  if (p.batchId) return { where: 'n.batch_id = CAST(:batchId AS uuid)', replacements: { batchId: p.batchId } };
  const ids = (p.notificationIds ?? []).map(Number).filter(Number.isSafeInteger);
  return { where: 'n.id = ANY(CAST(:ids AS bigint[]))', replacements: { ids: `{${ids.join(',')}}` } };
}

function candidates(where: string, s: EmailSelection): string {
  return `
  FROM notifications n
  JOIN effective_notification_preferences ep ON ep.user_id = n.recipient_id AND ep.type = n.type
 WHERE ${where} ${s.unreadOnly ? 'AND n.read_at IS NULL' : ''} AND ep.email = '${s.mode}'
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.notification_id = n.id AND d.channel = 'email'
                      AND NOT (d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())))`;
}

/** The next chunk to claim: wanted now by the selection, not in quiet hours, not yet handled. */
export function selectionSource(p: EmailJobPayload, s: EmailSelection, chunk: number): ClaimSource {
  const { where, replacements } = scope(p);
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id ${candidates(where, s)} AND NOT ${IN_QUIET_HOURS}
          ORDER BY n.id LIMIT ${Math.max(1, Math.floor(chunk))}`,
    replacements,
  };
}

/** The payload's notifications read by now: an escalation's pending rows for them must not go out. */
export function readSource(p: EmailJobPayload): SqlSource {
  const { where, replacements } = scope(p);
  return { sql: `SELECT n.id AS notification_id FROM notifications n WHERE ${where} AND n.read_at IS NOT NULL`, replacements };
}

/** The earliest end of quiet hours among the candidates held back by them, or null when none are. */
export function nextQuietEnd(db: Sequelize, p: EmailJobPayload, s: EmailSelection): Promise<Date | null> {
  const { where, replacements } = scope(p);
  return earliestQuietEnd(db, candidates(where, s), replacements);
}

/** The latest lease still held on the payload's pending email deliveries, or null. */
export function lastEmailLeaseEnd(db: Sequelize, p: EmailJobPayload): Promise<Date | null> {
  const { where, replacements } = scope(p);
  return lastLeaseEnd(db, 'email', where, replacements);
}

export interface EmailTaskDeps {
  sequelize: Sequelize;
  deliveries: DeliveryService;
  sender: EmailSender;
  chunkSize?: number;
  /** How long a claimed row is held before another job may take it over (default DEFAULT_LEASE_SECONDS). */
  leaseSeconds?: number;
}

/**
 * A job body: claim a chunk, send it, until nothing is left; then keyed follow-ups: at the earliest end of the
 * quiet hours that held someone back, and after the last lease another job still holds on the payload's rows
 * (if that job died mid-send, nothing else would ever pick its rows up). A transient failure throws out of the
 * loop: the job retries with backoff instead of spinning here.
 */
export function claimAndSend(task: string, selection: EmailSelection, deps: EmailTaskDeps) {
  const chunk = deps.chunkSize ?? 500;
  return async (raw: unknown, helpers: JobHelpers) => {
    const payload = raw as EmailJobPayload;
    let sent = 0;
    for (;;) {
      const source = selectionSource(payload, selection, chunk);
      const claimed = await deps.deliveries.claim('email', source, { leaseSeconds: deps.leaseSeconds });
      if (claimed.length === 0) break;
      sent += (await deps.sender.sendEach(claimed)).sent.length;
    }
    // A row released by a transient failure waits, pending, for this job's retry; read meanwhile, the selection no
    // longer picks it, and it would stay pending for good. Recorded as cancelled instead.
    if (selection.unreadOnly) await deps.deliveries.cancel('email', readSource(payload), 'read before it was sent');
    const key = payload.batchId ?? (payload.notificationIds ?? []).join(',');
    const wakeAt = await nextQuietEnd(deps.sequelize, payload, selection);
    if (wakeAt) await helpers.addJob(task, payload, { runAt: wakeAt, jobKey: `${task}:quiet:${key}` });
    const leaseEnd = await lastEmailLeaseEnd(deps.sequelize, payload);
    if (leaseEnd) {
      await helpers.addJob(task, payload, { runAt: new Date(leaseEnd.getTime() + 1000), jobKey: `${task}:lease:${key}` });
    }
    helpers.logger.info(`${task} sent ${sent}${wakeAt ? `, rest after quiet hours at ${wakeAt.toISOString()}` : ''}`);
  };
}
