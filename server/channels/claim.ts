import type { JobHelpers } from '../jobs';
import type { SqlSource } from '../services/deliveries';
import type { NotificationJob } from '../services/notifications/store/channel-reads';

export type { NotificationJob };

/**
 * What the per-notification jobs of the durable channels (email immediate and escalation, push) share: the job
 * their statement enqueues, and its body, the claim loop and its keyed follow-ups. What to pick, how to send and
 * what no longer goes out stay each channel's own (email/select.ts, push/source.ts).
 */

/** What one claimed chunk came to: how many went out, and when the earliest row a busy service held may go again. */
export interface ChunkOutcome {
  sent: number;
  heldUntil?: number;
}

/** One channel's claim loop: its decisions, as functions of the job. `Claimed`: a leased delivery row. */
export interface ClaimLoop<Claimed extends { id: number }> {
  /** The task, which its follow-ups run again. */
  task: string;
  /** How the job's log line begins: `<label> sent N`. */
  label: string;
  /** Leases the next chunk of the source's rows (DeliveryService.claim on the channel). */
  claim(source: SqlSource): Promise<Claimed[]>;
  /** The next chunk to claim: wanted now, outside quiet hours, not yet handled. */
  source(job: NotificationJob): SqlSource;
  /** Sends a claimed chunk and records each outcome; a transient failure may throw (the job then retries). */
  send(claimed: Claimed[]): Promise<ChunkOutcome>;
  /**
   * After the loop: the job's rows that must no longer go out (read since, turned off, no device). A row of theirs
   * released by a transient failure waits, pending, for a run whose source no longer picks it, and would stay
   * pending for good; it is recorded as cancelled instead.
   */
  cancelUnwanted?(job: NotificationJob): Promise<unknown>;
  /** The earliest end of the quiet hours that held some of the job's recipients back. */
  quietEnd?(job: NotificationJob): Promise<Date | null>;
  /** The last lease another job still holds on the job's rows: if that job died, nothing else would pick them up. */
  leaseEnd?(job: NotificationJob): Promise<Date | null>;
}

/** How the follow-ups of one job are keyed: by its batch, or by its ids. */
export function jobKeyOf(job: NotificationJob): string {
  return job.batchId ?? (job.notificationIds ?? []).join(',');
}

/**
 * A job body: claim a chunk, send it, until nothing is left; then the keyed follow-ups (duplicates collapse): just
 * after the earliest hold of a busy service (its rows' lease ends then), at the earliest end of quiet hours, and
 * just after the last lease another job holds, unless the hold's run already comes after it.
 */
export async function runClaimLoop<Claimed extends { id: number }>(
  loop: ClaimLoop<Claimed>,
  job: NotificationJob,
  helpers: Pick<JobHelpers, 'addJob' | 'logger'>,
): Promise<void> {
  let sent = 0;
  let heldUntil: number | undefined;
  for (;;) {
    const claimed = await loop.claim(loop.source(job));
    if (claimed.length === 0) break;
    const outcome = await loop.send(claimed);
    sent += outcome.sent;
    if (outcome.heldUntil !== undefined) heldUntil = Math.min(heldUntil ?? Infinity, outcome.heldUntil);
  }
  await loop.cancelUnwanted?.(job);
  const { task } = loop;
  const key = jobKeyOf(job);
  const retryAt = heldUntil === undefined ? undefined : new Date(heldUntil + 1_000);
  if (retryAt) await helpers.addJob(task, job, { runAt: retryAt, jobKey: `${task}:retry:${key}` });
  const wakeAt = (await loop.quietEnd?.(job)) ?? null;
  if (wakeAt) await helpers.addJob(task, job, { runAt: wakeAt, jobKey: `${task}:quiet:${key}` });
  const leaseEnd = (await loop.leaseEnd?.(job)) ?? null;
  if (leaseEnd && (!retryAt || leaseEnd.getTime() >= retryAt.getTime())) {
    await helpers.addJob(task, job, { runAt: new Date(leaseEnd.getTime() + 1000), jobKey: `${task}:lease:${key}` });
  }
  helpers.logger.info(
    `${loop.label} sent ${sent}${retryAt ? `, busy services again at ${retryAt.toISOString()}` : ''}` +
      `${wakeAt ? `, rest after quiet hours at ${wakeAt.toISOString()}` : ''}`,
  );
}
