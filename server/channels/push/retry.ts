import { deliveryRetry, type RetryPayload } from '../delivery-retry';
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

export type PushRetryPayload = RetryPayload;

const queries = deliveryRetry('push', 'NOT ep.push');

/** Pending push rows whose lease is free (not held by a busy push service's Retry-After), outside quiet hours. */
export const pushRetrySource = (p: PushRetryPayload): PushSource => queries.source(p);

export function pushRetryTasks(deps: PushChunkDeps) {
  return {
    [PUSH_RETRY_TASK]: queries.task({
      task: PUSH_RETRY_TASK,
      sequelize: deps.sequelize,
      claim: (source) => deps.deliveries.claim('push', source),
      markSkipped: (rows) => deps.deliveries.markSkipped(rows),
      // Not the job's holds: an admin's retry asks each push service afresh.
      send: (claimed) => pushChunk(deps, claimed, new Map(), { skipVisible: false }),
    }),
  };
}
