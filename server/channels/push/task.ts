import type { JobHelpers } from 'graphile-worker';
import { pushChunk, type PushChunkDeps, type PushSource } from './chunk';
import type { OriginHolds } from './sender';

export { type ClaimedPush, type PushDeliveries, type PushSource } from './chunk';

export const PUSH_TASK = 'push:send';

/** One job per fan-out batch (or per single notification), never one per recipient. */
export interface PushJob {
  batchId?: string;
  notificationIds?: number[];
}

export interface PushTaskDeps extends PushChunkDeps {
  /** The next chunk of recipients to claim for this job (preferences, quiet hours, no visible tab). */
  source: (job: PushJob, chunk: number) => PushSource;
  chunk?: number;
  /** The earliest end of the quiet hours that held some of the job's recipients back (a follow-up job then). */
  quietEnd?: (job: PushJob) => Promise<Date | null>;
  /** The last lease another job still holds on the job's rows: if that job died, a follow-up takes them over. */
  leaseEnd?: (job: PushJob) => Promise<Date | null>;
  /**
   * The job's notifications that must no longer be pushed (read since, push turned off, no device left): a row of
   * theirs released by a busy push service waits, pending, for a run whose source no longer picks it, and would
   * stay pending for good. Recorded as cancelled instead.
   */
  unwanted?: (job: PushJob) => PushSource;
}

/**
 * The graphile-worker task: claim a chunk, push each notification to its recipient's devices, record one outcome
 * per delivery (sent when at least one device accepted it), and repeat. A busy push service holds only its own
 * rows (pending, unclaimable until its Retry-After) and is not asked again by this job, while the other push
 * services' rows go on; the task then schedules itself again for when the first hold ends (keyed, so
 * duplicates collapse) rather than hammering it.
 */
export function pushTasks(deps: PushTaskDeps) {
  const { chunk = 500 } = deps;
  return {
    [PUSH_TASK]: async (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>) => {
      const job = raw as PushJob;
      const holds: OriginHolds = new Map();
      let sent = 0;
      let heldUntil: number | undefined;
      for (;;) {
        const claimed = await deps.deliveries.claim('push', deps.source(job, chunk));
        if (claimed.length === 0) break;
        const outcome = await pushChunk(deps, claimed, holds, { skipVisible: true });
        sent += outcome.sent;
        if (outcome.heldUntil !== undefined) heldUntil = Math.min(heldUntil ?? Infinity, outcome.heldUntil);
      }
      if (deps.unwanted) await deps.deliveries.cancel('push', deps.unwanted(job), 'no longer wanted: read, turned off or no device');
      const key = job.batchId ?? (job.notificationIds ?? []).join(',');
      // Just after the hold: the held rows' lease ends then, so the next run can claim them.
      const retryAt = heldUntil === undefined ? undefined : new Date(heldUntil + 1_000);
      if (retryAt) await helpers.addJob(PUSH_TASK, job, { runAt: retryAt, jobKey: `${PUSH_TASK}:retry:${key}` });
      const wakeAt = (await deps.quietEnd?.(job)) ?? null;
      if (wakeAt) await helpers.addJob(PUSH_TASK, job, { runAt: wakeAt, jobKey: `${PUSH_TASK}:quiet:${key}` });
      // Holds and other jobs' leases both show here; the retry run above covers every lease ending before it.
      const leaseEnd = (await deps.leaseEnd?.(job)) ?? null;
      if (leaseEnd && (!retryAt || leaseEnd.getTime() >= retryAt.getTime())) {
        await helpers.addJob(PUSH_TASK, job, { runAt: new Date(leaseEnd.getTime() + 1000), jobKey: `${PUSH_TASK}:lease:${key}` });
      }
      helpers.logger.info(
        `push sent ${sent}${retryAt ? `, busy push services again at ${retryAt.toISOString()}` : ''}` +
          `${wakeAt ? `, rest after quiet hours at ${wakeAt.toISOString()}` : ''}`,
      );
    },
  };
}
