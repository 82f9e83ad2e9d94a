import type { TaskList } from '../../jobs';
import { batchJobSql, idsJobSql } from '../claim';
import { claimAndSend, type EmailJobPayload, type EmailSelection, type EmailTaskDeps } from './select';

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

export type EscalatePayload = EmailJobPayload;

const ESCALATION: EmailSelection = { mode: 'unread', unreadOnly: true };

/** Due EMAIL_UNREAD_DELAY_SECONDS (a trusted expression) from the statement's time. */
const dueAfter = (delaySecondsExpr: string) => `now() + make_interval(secs => ${delaySecondsExpr})`;

/** The enqueue for the fan-out statement: `SELECT ${escalationEnqueueSql(':batchId', ':delay')} ...`. */
export function escalationEnqueueSql(batchIdExpr: string, delaySecondsExpr: string): string {
  return batchJobSql(ESCALATE_TASK, batchIdExpr, dueAfter(delaySecondsExpr));
}

/**
 * The enqueue for single notifications written by a statement: `idsExpr` is a `bigint[]` expression over the
 * rows it inserted (e.g. `(SELECT array_agg(id) FROM notice)`). No key: the statement itself runs once.
 */
export function escalationEnqueueForIdsSql(idsExpr: string, delaySecondsExpr: string): string {
  return idsJobSql(ESCALATE_TASK, idsExpr, dueAfter(delaySecondsExpr));
}

export function escalationTasks(deps: EmailTaskDeps): TaskList {
  return { [ESCALATE_TASK]: claimAndSend(ESCALATE_TASK, ESCALATION, deps) };
}
