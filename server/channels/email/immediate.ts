import type { TaskList } from '../../jobs';
import { batchJobSql, idsJobSql } from '../claim';
import { claimAndSend, type EmailSelection, type EmailTaskDeps } from './select';

/**
 * Immediate (`email: "immediate"`): queued by the statement that writes the notifications, due at once, one job
 * per fan-out batch (or per statement of single notifications). Held only by quiet hours: the read state does
 * not matter (a recipient with in_app off and email immediate gets a row already read, and still the email), so
 * a held recipient gets the email at the end of their quiet hours even if they read it in the app meanwhile.
 */
export const IMMEDIATE_TASK = 'email:immediate';

const IMMEDIATE: EmailSelection = { mode: 'immediate', unreadOnly: false };

/** For the fan-out statement; keyed by the batch, so a duplicate enqueue is a no-op. */
export function immediateEnqueueSql(batchIdExpr: string): string {
  return batchJobSql(IMMEDIATE_TASK, batchIdExpr);
}

/** For single notifications: `idsExpr` is a `bigint[]` expression over the rows the statement inserted. */
export function immediateEnqueueForIdsSql(idsExpr: string): string {
  return idsJobSql(IMMEDIATE_TASK, idsExpr);
}

export function immediateTasks(deps: EmailTaskDeps): TaskList {
  return { [IMMEDIATE_TASK]: claimAndSend(IMMEDIATE_TASK, IMMEDIATE, deps) };
}
