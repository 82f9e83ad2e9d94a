import {
  escalationEnqueueForIdsSql,
  escalationEnqueueSql,
  immediateEnqueueForIdsSql,
  immediateEnqueueSql,
  pushEnqueueForIdsSql,
  pushEnqueueSql,
} from '../../../jobs/notification-jobs';
import { effectivePreferencesJoin } from '../../preferences/sql';
import { hasLiveDevice } from '../../push-subscriptions/sql';

/** When the durable channels' jobs written with the notifications fall due. */
export interface NotificationJobTiming {
  /** EMAIL_UNREAD_DELAY_SECONDS: an `email: "unread"` escalation runs this long after the notification. */
  unreadDelaySeconds: number;
}

export const DEFAULT_JOB_TIMING: NotificationJobTiming = { unreadDelaySeconds: 600 };

function delayLiteral(t: NotificationJobTiming): string {
  const s = t.unreadDelaySeconds;
  if (!Number.isInteger(s) || s < 0) throw new Error(`unreadDelaySeconds must be a whole number >= 0, got ${s}`);
  return String(s);
}

/**
 * A CTE body enqueuing the email jobs for the single notifications that the statement's CTE `cte` inserted
 * (`RETURNING id, recipient_id, type`): at most one escalation job and one immediate job for the statement, and
 * only when one of its recipients asked for that email (a notice nobody wants by email costs no job); likewise one
 * push job when a recipient has push on and a device. The main
 * query must reference it (`(SELECT count(*) FROM jobs)`), or PostgreSQL never evaluates it.
 */
export function noticeJobsSql(cte: string, timing: NotificationJobTiming): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(cte)) throw new Error(`Invalid CTE name: ${cte}`);
  return `SELECT x.job FROM (
      SELECT array_agg(c.id) FILTER (WHERE ep.email = 'unread') AS unread_ids,
             array_agg(c.id) FILTER (WHERE ep.email = 'immediate') AS immediate_ids,
             array_agg(c.id) FILTER (WHERE ep.push AND ${hasLiveDevice('c.recipient_id')}) AS push_ids
        FROM ${cte} c
        ${effectivePreferencesJoin('ep', 'c.recipient_id', 'c.type')}
    ) a CROSS JOIN LATERAL (
      SELECT ${escalationEnqueueForIdsSql('a.unread_ids', delayLiteral(timing))} AS job WHERE a.unread_ids IS NOT NULL
      UNION ALL
      SELECT ${immediateEnqueueForIdsSql('a.immediate_ids')} WHERE a.immediate_ids IS NOT NULL
      UNION ALL
      SELECT ${pushEnqueueForIdsSql('a.push_ids')} WHERE a.push_ids IS NOT NULL
    ) x`;
}

/**
 * A CTE body enqueuing a fan-out batch's durable jobs: one email escalation, one immediate email and one push
 * job for the whole batch, keyed by it, each only when some recipient wants it (push: on, with a device).
 * `audience` is a CTE with the recipients' `id` and effective `email` and `push` columns, `sent` the INSERT's
 * CTE (no rows written: no job).
 */
export function batchJobsSql(audience: string, sent: string, batchIdExpr: string, timing: NotificationJobTiming): string {
  for (const name of [audience, sent]) if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Invalid CTE name: ${name}`);
  return `SELECT ${escalationEnqueueSql(batchIdExpr, delayLiteral(timing))} AS job
       WHERE EXISTS (SELECT 1 FROM ${sent}) AND EXISTS (SELECT 1 FROM ${audience} WHERE email = 'unread')
     UNION ALL
     SELECT ${immediateEnqueueSql(batchIdExpr)}
       WHERE EXISTS (SELECT 1 FROM ${sent}) AND EXISTS (SELECT 1 FROM ${audience} WHERE email = 'immediate')
     UNION ALL
     SELECT ${pushEnqueueSql(batchIdExpr)}
       WHERE EXISTS (SELECT 1 FROM ${sent}) AND EXISTS (SELECT 1 FROM ${audience} a WHERE a.push AND ${hasLiveDevice('a.id')})`;
}
