import type { Sequelize } from 'sequelize';
import { freeToClaim } from '../../services/deliveries';
import { jobScope, notificationRows } from '../../services/notifications/store/channel-reads';
import { effectivePreferencesJoin } from '../../services/preferences/sql';
import { hasLiveDevice } from '../../services/push-subscriptions/sql';
import { earliestQuietEnd, IN_QUIET_HOURS, lastLeaseEnd } from '../quiet-hours';
import { PUSH_TASK, type PushJob, type PushSource } from './task';

/**
 * The job's notifications whose recipient wants them pushed, has a device, and has no push delivery that is
 * settled or held by another job. Unread only, unless the recipient has the inbox off for the type (their rows
 * are written read, and the push is then the only way they hear of it). Visibility is not decided here: a
 * recipient with a visible tab is claimed and recorded `skipped`, so a later run of the job never pushes what
 * the tab already showed.
 */
function candidates(where: string): string {
  return `
  FROM ${notificationRows('n')}
  ${effectivePreferencesJoin('ep', 'n.recipient_id', 'n.type')}
 WHERE ${where} AND ep.push AND (n.read_at IS NULL OR NOT ep.in_app) AND ${hasLiveDevice('n.recipient_id')}
   AND ${freeToClaim('push', 'n.id')}`;
}

/** The job's notifications that are no longer to be pushed at all (quiet hours only delay: they are not here). */
export function pushUnwanted(job: PushJob): PushSource {
  const { where, replacements } = jobScope(job);
  return {
    sql: `SELECT n.id AS notification_id FROM ${notificationRows('n')}
            LEFT JOIN effective_notification_preferences ep ON ep.user_id = n.recipient_id AND ep.type = n.type
           WHERE ${where} AND NOT COALESCE(ep.push AND (n.read_at IS NULL OR NOT ep.in_app) AND ${hasLiveDevice('n.recipient_id')}, FALSE)`,
    replacements,
  };
}

/** The next chunk to claim: wanted now, outside quiet hours, not yet handled. */
export function pushSource(job: PushJob, chunk: number): PushSource {
  const { where, replacements } = jobScope(job);
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id ${candidates(where)} AND NOT ${IN_QUIET_HOURS}
          ORDER BY n.id LIMIT ${Math.max(1, Math.floor(chunk))}`,
    replacements,
  };
}

/** The earliest end of quiet hours among the job's recipients they held back, or null when none are. */
export function pushQuietEnd(db: Sequelize, job: PushJob): Promise<Date | null> {
  const { where, replacements } = jobScope(job);
  return earliestQuietEnd(db, candidates(where), replacements);
}

/** The latest lease still held on the job's pending push deliveries (a job that died mid-send), or null. */
export function pushLeaseEnd(db: Sequelize, job: PushJob): Promise<Date | null> {
  const { where, replacements } = jobScope(job);
  return lastLeaseEnd(db, 'push', where, replacements);
}
