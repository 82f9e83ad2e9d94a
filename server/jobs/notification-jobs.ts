import { enqueueJobSql } from './sql';

/**
 * The jobs a notification's own statement enqueues for the durable channels, and the contract between the two
 * sides: the store writes them (inside the INSERT that makes them necessary, so no notification commits without
 * its job) and the channels run them (server/channels/email, server/channels/push). The task names and payloads
 * live here, below both, so the store never imports a channel: what a job is for is the channel's own, what it is
 * called and carries is this file's.
 */

/** Email escalation (`email: "unread"`): due EMAIL_UNREAD_DELAY_SECONDS after the notification. */
export const ESCALATE_TASK = 'email:escalate';
/** Email at once (`email: "immediate"`). */
export const IMMEDIATE_TASK = 'email:immediate';
/** Web Push. */
export const PUSH_TASK = 'push:send';
/**
 * The email digest (`email: "digest"`): enqueued by the hourly cron and by the admin's "send now"
 * (server/services/digests), run by server/channels/email/digest.ts.
 */
export const DIGEST_TASK = 'email:digest';
/** graphile-worker runs the jobs of one named queue serially: two digest runs never split one user's email. */
export const DIGEST_QUEUE = 'email:digest';

/**
 * For the fan-out statement: one job for the whole batch, keyed by it, so a duplicate enqueue is a no-op (it keeps
 * the first one's due time). `runAt`: a `timestamptz` expression when it is not due at once.
 */
export function batchJobSql(task: string, batchIdExpr: string, runAt?: string): string {
  return enqueueJobSql(task, {
    payload: `json_build_object('batchId', ${batchIdExpr})`,
    runAt,
    jobKey: `'${task}:' || ${batchIdExpr}`,
    jobKeyMode: 'preserve_run_at',
  });
}

/**
 * For single notifications written by a statement: `idsExpr` is a `bigint[]` expression over the rows it inserted
 * (e.g. `(SELECT array_agg(id) FROM notice)`). No key: the statement itself runs once.
 */
export function idsJobSql(task: string, idsExpr: string, runAt?: string): string {
  return enqueueJobSql(task, { payload: `json_build_object('notificationIds', ${idsExpr})`, runAt });
}

/** Due `delaySecondsExpr` (a trusted expression: EMAIL_UNREAD_DELAY_SECONDS) from the statement's time. */
const dueAfter = (delaySecondsExpr: string) => `now() + make_interval(secs => ${delaySecondsExpr})`;

/** The escalation of a fan-out batch: `SELECT ${escalationEnqueueSql(':batchId', ':delay')} ...`. */
export const escalationEnqueueSql = (batchIdExpr: string, delaySecondsExpr: string) =>
  batchJobSql(ESCALATE_TASK, batchIdExpr, dueAfter(delaySecondsExpr));
/** The escalation of single notifications a statement inserted (`idsExpr`: their `bigint[]`). */
export const escalationEnqueueForIdsSql = (idsExpr: string, delaySecondsExpr: string) =>
  idsJobSql(ESCALATE_TASK, idsExpr, dueAfter(delaySecondsExpr));
export const immediateEnqueueSql = (batchIdExpr: string) => batchJobSql(IMMEDIATE_TASK, batchIdExpr);
export const immediateEnqueueForIdsSql = (idsExpr: string) => idsJobSql(IMMEDIATE_TASK, idsExpr);
export const pushEnqueueSql = (batchIdExpr: string) => batchJobSql(PUSH_TASK, batchIdExpr);
export const pushEnqueueForIdsSql = (idsExpr: string) => idsJobSql(PUSH_TASK, idsExpr);
