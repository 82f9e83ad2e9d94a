import type { JobHelpers } from 'graphile-worker';
import { PUSH_TASK } from '../../jobs/notification-jobs';
import { runClaimLoop, type NotificationJob } from '../claim';
import { pushChunk, type PushChunkDeps, type PushSource } from './chunk';
import type { OriginHolds } from './sender';

export { type ClaimedPush, type PushDeliveries, type PushSource } from './chunk';

export { PUSH_TASK };

/** One job per fan-out batch (or per single notification), never one per recipient. */
export type PushJob = NotificationJob;

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
  const { chunk = 500, unwanted } = deps;
  return {
    [PUSH_TASK]: (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>) => {
      // One job's holds: a later chunk sends nothing more to a push service that asked for a pause.
      const holds: OriginHolds = new Map();
      return runClaimLoop(
        {
          task: PUSH_TASK,
          label: 'push',
          claim: (source) => deps.deliveries.claim('push', source),
          source: (job) => deps.source(job, chunk),
          send: (claimed) => pushChunk(deps, claimed, holds, { skipVisible: true }),
          cancelUnwanted: unwanted
            ? (job) => deps.deliveries.cancel('push', unwanted(job), 'no longer wanted: read, turned off or no device')
            : undefined,
          quietEnd: deps.quietEnd,
          leaseEnd: deps.leaseEnd,
        },
        raw as PushJob,
        helpers,
      );
    },
  };
}
