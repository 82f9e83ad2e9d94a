import type { JobHelpers } from 'graphile-worker';
import { deliveryRetry, retryIds, type RetryPayload } from '../delivery-retry';
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
    [PUSH_RETRY_TASK]: async (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>) => {
      const payload = raw as PushRetryPayload;
      const claimed = await deps.deliveries.claim('push', pushRetrySource(payload));
      const off = new Set(await queries.refused(deps.sequelize, claimed.map((c) => c.id)));
      await deps.deliveries.markSkipped([...off].map((id) => ({ id, error: 'push turned off for this type since' })));
      const outcome = await pushChunk(deps, claimed.filter((c) => !off.has(c.id)), new Map(), { skipVisible: false });
      const wakeAt = await queries.nextLook(deps.sequelize, payload);
      if (wakeAt) {
        await helpers.addJob(PUSH_RETRY_TASK, payload, { runAt: wakeAt, jobKey: `${PUSH_RETRY_TASK}:later:${retryIds(payload)}` });
      }
      helpers.logger.info(`${PUSH_RETRY_TASK} sent ${outcome.sent}, skipped ${off.size}`);
    },
  };
}
