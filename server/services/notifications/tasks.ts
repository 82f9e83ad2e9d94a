import { parseCronItems, type ParsedCronItem, type Task, type TaskList } from 'graphile-worker';
import { WAKE_TASK } from './store';
import { SEND_TASK, type SendService } from './sends';
import type { NotificationService } from './index';

/** Deletes the tombstones of deletions older than the retention (store/replay.ts). */
export const PRUNE_TOMBSTONES_TASK = 'notifications:prune-tombstones';
/** How long a deletion is told to a tab that resumes (STATE_REPLAY_RETENTION_DAYS). */
export const DEFAULT_TOMBSTONE_RETENTION_DAYS = 7;

/** The notifications' recurring jobs: the tombstone prune, hourly (one run for the whole cluster, by its identifier). */
export const notificationCron: ParsedCronItem[] = parseCronItems([
  { task: PRUNE_TOMBSTONES_TASK, match: '17 * * * *', identifier: PRUNE_TOMBSTONES_TASK, options: { backfillPeriod: 0 } },
]);

/** The most times a recorded send's job re-queues itself after an error before it is left failed. */
const SEND_RETRIES = 20;

/**
 * The notifications' own durable jobs: the snooze wake-up and a recorded send's chunks. Enqueued by the statement
 * that needs them (keyed, so a duplicate is a no-op), run by whichever process's runner is free, so a restart in
 * between loses nothing. Both are idempotent: a stale wake-up changes nothing, a send resumes from its cursor.
 * And the hourly tombstone prune (`notificationCron`), idempotent too.
 */
export function notificationTasks(deps: { notifications: NotificationService; sends: SendService; tombstoneRetentionDays?: number }): TaskList {
  const wake: Task = async (payload) => {
    const id = Number((payload as { id?: unknown } | null)?.id);
    if (!Number.isSafeInteger(id) || id <= 0) return; // malformed: nothing to retry
    await deps.notifications.inbox.wake(id);
  };
  const send: Task = async (payload, helpers) => {
    const { batchId, retry = 0 } = (payload ?? {}) as { batchId?: unknown; retry?: number };
    if (typeof batchId !== 'string') return; // malformed: nothing to retry
    try {
      await deps.sends.run(batchId);
    } catch (err) {
      // graphile-worker would wait exp(attempts) seconds (20 s by the third failure, minutes later) while the
      // sender watches a stalled progress bar; a database blip deserves a prompt retry. The follow-up takes the
      // send's key (this job, locked, gives it up) and resumes from the last committed chunk.
      if (retry >= SEND_RETRIES) throw err;
      helpers.logger.error(`send ${batchId} failed, retrying: ${String(err)}`);
      await helpers.addJob(SEND_TASK, { batchId, retry: retry + 1 }, {
        jobKey: `${SEND_TASK}:${batchId}`,
        runAt: new Date(Date.now() + Math.min(1_000 * 2 ** retry, 30_000)),
      });
    }
  };
  const prune: Task = async () => {
    await deps.notifications.pruneTombstones(deps.tombstoneRetentionDays ?? DEFAULT_TOMBSTONE_RETENTION_DAYS);
  };
  return { [WAKE_TASK]: wake, [SEND_TASK]: send, [PRUNE_TOMBSTONES_TASK]: prune };
}
