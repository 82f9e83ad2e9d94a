import type { Sequelize } from 'sequelize';
import { enqueueJobSql } from '../../jobs';
import { earliestQuietEnd, IN_QUIET_HOURS, lastLeaseEnd } from '../quiet-hours';
import { PUSH_TASK, type PushJob, type PushSource } from './task';

/** For the fan-out statement: one job for the whole batch, keyed by it, so a duplicate enqueue is a no-op. */
export function pushEnqueueSql(batchIdExpr: string): string {
  return enqueueJobSql(PUSH_TASK, {
    payload: `json_build_object('batchId', ${batchIdExpr})`,
    jobKey: `'${PUSH_TASK}:' || ${batchIdExpr}`,
    jobKeyMode: 'preserve_run_at',
  });
}

/** For single notifications: `idsExpr` is a `bigint[]` expression over the rows the statement inserted. */
export function pushEnqueueForIdsSql(idsExpr: string): string {
  return enqueueJobSql(PUSH_TASK, { payload: `json_build_object('notificationIds', ${idsExpr})` });
}

/** SQL condition: the user in `userColumn` has a device that has not expired (the enqueue and the pick agree). */
export function hasLiveDevice(userColumn: string): string {
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(userColumn)) throw new Error(`Invalid column: ${userColumn}`);
  return `EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = ${userColumn}
                    AND (s.expiration_time IS NULL OR s.expiration_time > now()))`;
}

function scope(job: PushJob): { where: string; replacements: Record<string, unknown> } {
  if (job.batchId) return { where: 'n.batch_id = CAST(:batchId AS uuid)', replacements: { batchId: job.batchId } };
  const ids = (job.notificationIds ?? []).map(Number).filter(Number.isSafeInteger);
  return { where: 'n.id = ANY(CAST(:ids AS bigint[]))', replacements: { ids: `{${ids.join(',')}}` } };
}

/**
 * The job's notifications whose recipient wants them pushed, has a device, and has no push delivery that is
 * settled or held by another job. Unread only, unless the recipient has the inbox off for the type (their rows
 * are written read, and the push is then the only way they hear of it). Visibility is not decided here: a
 * recipient with a visible tab is claimed and recorded `skipped`, so a later run of the job never pushes what
 * the tab already showed.
 */
function candidates(where: string): string {
  return `
  FROM notifications n
  JOIN effective_notification_preferences ep ON ep.user_id = n.recipient_id AND ep.type = n.type
 WHERE ${where} AND ep.push AND (n.read_at IS NULL OR NOT ep.in_app) AND ${hasLiveDevice('n.recipient_id')}
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.notification_id = n.id AND d.channel = 'push'
                      AND NOT (d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())))`;
}

/** The job's notifications that are no longer to be pushed at all (quiet hours only delay: they are not here). */
export function pushUnwanted(job: PushJob): PushSource {
  const { where, replacements } = scope(job);
  return {
    sql: `SELECT n.id AS notification_id FROM notifications n
            LEFT JOIN effective_notification_preferences ep ON ep.user_id = n.recipient_id AND ep.type = n.type
           WHERE ${where} AND NOT COALESCE(ep.push AND (n.read_at IS NULL OR NOT ep.in_app) AND ${hasLiveDevice('n.recipient_id')}, FALSE)`,
    replacements,
  };
}

/** The next chunk to claim: wanted now, outside quiet hours, not yet handled. */
export function pushSource(job: PushJob, chunk: number): PushSource {
  const { where, replacements } = scope(job);
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id ${candidates(where)} AND NOT ${IN_QUIET_HOURS}
          ORDER BY n.id LIMIT ${Math.max(1, Math.floor(chunk))}`,
    replacements,
  };
}

/** The earliest end of quiet hours among the job's recipients they held back, or null when none are. */
export function pushQuietEnd(db: Sequelize, job: PushJob): Promise<Date | null> {
  const { where, replacements } = scope(job);
  return earliestQuietEnd(db, candidates(where), replacements);
}

/** The latest lease still held on the job's pending push deliveries (a job that died mid-send), or null. */
export function pushLeaseEnd(db: Sequelize, job: PushJob): Promise<Date | null> {
  const { where, replacements } = scope(job);
  return lastLeaseEnd(db, 'push', where, replacements);
}
