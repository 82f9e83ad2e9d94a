import { QueryTypes, type Sequelize } from 'sequelize';
import { enqueueJobSql, type JobHelpers, type TaskList } from '../../jobs';
import type { ClaimSource, DeliveryService } from '../../services/deliveries';
import type { EmailSender } from './index';

/**
 * Escalation (`email: "unread"`): one job per fan-out batch (or per single notification), due
 * EMAIL_UNREAD_DELAY_SECONDS after it was written. At its due time one query picks the batch's recipients whose
 * notification is still unread and whose effective email preference for its type is `unread`, outside their
 * quiet hours, with no email delivery that is sent, failed, cancelled or held by another job; the claim and that
 * choice are one statement. It sends in chunks, so a 10,000-recipient batch never holds 10,000 leases. Those in
 * quiet hours get a follow-up job at the earliest end of them; the same query then finds them (and only them,
 * if still unread).
 */
export const ESCALATE_TASK = 'email:escalate';

export interface EscalatePayload {
  batchId?: string;
  notificationIds?: number[];
}

/** The enqueue for the fan-out statement: `SELECT ${escalationEnqueueSql(':batchId', ':delay')} ...`. */
export function escalationEnqueueSql(batchIdExpr: string, delaySecondsExpr: string): string {
  return enqueueJobSql(ESCALATE_TASK, {
    payload: `json_build_object('batchId', ${batchIdExpr})`,
    runAt: `now() + make_interval(secs => ${delaySecondsExpr})`,
    jobKey: `'${ESCALATE_TASK}:' || ${batchIdExpr}`,
    jobKeyMode: 'preserve_run_at',
  });
}

/** The recipients' local wall-clock time falls inside [start, end), which may wrap past midnight. */
const IN_QUIET_HOURS = `(ep.quiet_start IS NOT NULL AND CASE
    WHEN ep.quiet_start < ep.quiet_end
      THEN CAST(now() AT TIME ZONE ep.timezone AS time) >= ep.quiet_start AND CAST(now() AT TIME ZONE ep.timezone AS time) < ep.quiet_end
    ELSE CAST(now() AT TIME ZONE ep.timezone AS time) >= ep.quiet_start OR CAST(now() AT TIME ZONE ep.timezone AS time) < ep.quiet_end
  END)`;

function scope(p: EscalatePayload): { where: string; replacements: Record<string, unknown> } {
  if (p.batchId) return { where: 'n.batch_id = CAST(:batchId AS uuid)', replacements: { batchId: p.batchId } };
  const ids = (p.notificationIds ?? []).map(Number).filter(Number.isSafeInteger);
  return { where: 'n.id = ANY(CAST(:ids AS bigint[]))', replacements: { ids: `{${ids.join(',')}}` } };
}

const CANDIDATES = (where: string) => `
  FROM notifications n
  JOIN effective_notification_preferences ep ON ep.user_id = n.recipient_id AND ep.type = n.type
 WHERE ${where} AND n.read_at IS NULL AND ep.email = 'unread'
   AND NOT EXISTS (SELECT 1 FROM deliveries d
                    WHERE d.notification_id = n.id AND d.channel = 'email'
                      AND NOT (d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())))`;

/** The next chunk to claim: still unread, wanting email when unread, not in quiet hours, not yet handled. */
export function escalationSource(p: EscalatePayload, chunk: number): ClaimSource {
  const { where, replacements } = scope(p);
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id ${CANDIDATES(where)} AND NOT ${IN_QUIET_HOURS}
          ORDER BY n.id LIMIT ${Math.max(1, Math.floor(chunk))}`,
    replacements,
  };
}

export function escalationTasks(deps: {
  sequelize: Sequelize;
  deliveries: DeliveryService;
  sender: EmailSender;
  chunkSize?: number;
}): TaskList {
  const chunk = deps.chunkSize ?? 500;
  return {
    [ESCALATE_TASK]: async (raw: unknown, helpers: JobHelpers) => {
      const payload = raw as EscalatePayload;
      let sent = 0;
      // A transient failure throws out of the loop: the job retries with backoff instead of spinning here.
      for (;;) {
        const claimed = await deps.deliveries.claim('email', escalationSource(payload, chunk));
        if (claimed.length === 0) break;
        sent += (await deps.sender.sendEach(claimed)).sent.length;
      }
      const wakeAt = await nextQuietEnd(deps.sequelize, payload);
      if (wakeAt) {
        const key = payload.batchId ?? (payload.notificationIds ?? []).join(',');
        await helpers.addJob(ESCALATE_TASK, payload, { runAt: wakeAt, jobKey: `${ESCALATE_TASK}:quiet:${key}` });
      }
      helpers.logger.info(`escalation sent ${sent}${wakeAt ? `, rest after quiet hours at ${wakeAt.toISOString()}` : ''}`);
    },
  };
}

/** The earliest end of quiet hours among the candidates held back by them, or null when none are. */
async function nextQuietEnd(db: Sequelize, p: EscalatePayload): Promise<Date | null> {
  const { where, replacements } = scope(p);
  const [row] = await db.query<{ wake: Date | null }>(
    `SELECT min(CASE WHEN t.today_end > now() THEN t.today_end ELSE t.today_end + interval '1 day' END) AS wake
       FROM (SELECT (CAST(now() AT TIME ZONE ep.timezone AS date) + ep.quiet_end) AT TIME ZONE ep.timezone AS today_end
             ${CANDIDATES(where)} AND ${IN_QUIET_HOURS}) t`,
    { type: QueryTypes.SELECT, replacements },
  );
  return row?.wake ? new Date(row.wake) : null;
}
