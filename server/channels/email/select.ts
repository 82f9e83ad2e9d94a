import type { Sequelize } from 'sequelize';
import type { JobHelpers } from '../../jobs';
import { freeToClaim, type DeliveryService, type SqlSource } from '../../services/deliveries';
import { jobScope, notificationRows, readAmong } from '../../services/notifications/store/channel-reads';
import { effectivePreferencesJoin } from '../../services/preferences/sql';
import type { EmailSender } from './index';
import { runClaimLoop, type NotificationJob } from '../claim';
import { earliestQuietEnd, IN_QUIET_HOURS, lastLeaseEnd } from '../quiet-hours';

export { IN_QUIET_HOURS };

/**
 * What the per-notification email jobs (immediate, escalation) share: the payload (a fan-out batch, or the ids
 * of single notifications), the one query that picks who to email now, and the follow-up after quiet hours.
 */
export type EmailJobPayload = NotificationJob;

/** Which of the payload's notifications a job is about: its own effective email mode, and whether read ones count. */
export interface EmailSelection {
  mode: 'immediate' | 'unread';
  /** Escalation mails only what is still unread at its due time; immediate mails whatever the inbox did. */
  unreadOnly: boolean;
}

function candidates(where: string, s: EmailSelection): string {
  return `
  FROM ${notificationRows('n')}
  ${effectivePreferencesJoin('ep', 'n.recipient_id', 'n.type')}
 WHERE ${where} ${s.unreadOnly ? 'AND n.read_at IS NULL' : ''} AND ep.email = '${s.mode}'
   AND ${freeToClaim('email', 'n.id')}`;
}

/** The next chunk to claim: wanted now by the selection, not in quiet hours, not yet handled. */
export function selectionSource(p: EmailJobPayload, s: EmailSelection, chunk: number): SqlSource {
  const { where, replacements } = jobScope(p);
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id ${candidates(where, s)} AND NOT ${IN_QUIET_HOURS}
          ORDER BY n.id LIMIT ${Math.max(1, Math.floor(chunk))}`,
    replacements,
  };
}

/** The earliest end of quiet hours among the candidates held back by them, or null when none are. */
export function nextQuietEnd(db: Sequelize, p: EmailJobPayload, s: EmailSelection): Promise<Date | null> {
  const { where, replacements } = jobScope(p);
  return earliestQuietEnd(db, candidates(where, s), replacements);
}

/** The latest lease still held on the payload's pending email deliveries, or null. */
export function lastEmailLeaseEnd(db: Sequelize, p: EmailJobPayload): Promise<Date | null> {
  const { where, replacements } = jobScope(p);
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
 * A job body (`runClaimLoop`): claim a chunk, send it, until nothing is left; then the keyed follow-ups after
 * quiet hours and after another job's lease. A transient failure throws out of the loop: the job retries with
 * backoff instead of spinning here.
 */
export function claimAndSend(task: string, selection: EmailSelection, deps: EmailTaskDeps) {
  const chunk = deps.chunkSize ?? 500;
  return (raw: unknown, helpers: JobHelpers) =>
    runClaimLoop(
      {
        task,
        label: task,
        claim: (source) => deps.deliveries.claim('email', source, { leaseSeconds: deps.leaseSeconds }),
        source: (job) => selectionSource(job, selection, chunk),
        send: async (claimed) => ({ sent: (await deps.sender.sendEach(claimed)).sent.length }),
        // Read since: the escalation's pending rows for it no longer go out (immediate mails whatever was read).
        cancelUnwanted: selection.unreadOnly
          ? (job) => deps.deliveries.cancel('email', readAmong(job), 'read before it was sent')
          : undefined,
        quietEnd: (job) => nextQuietEnd(deps.sequelize, job, selection),
        leaseEnd: (job) => lastEmailLeaseEnd(deps.sequelize, job),
      },
      raw as EmailJobPayload,
      helpers,
    );
}
