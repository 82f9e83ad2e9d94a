import type { JobHelpers } from 'graphile-worker';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { PushSubscriptions, PushTarget } from '../../services/push-subscriptions';
import { pushMessage, type PushableNotification } from './message';
import { noVisibleTab } from './decide';
import { eachLimited } from './pool';
import type { PushSender } from './sender';

export const PUSH_TASK = 'push:send';

/** One job per fan-out batch (or per single notification), never one per recipient. */
export interface PushJob {
  batchId?: string;
  notificationIds?: number[];
}

/** A delivery row a job holds (server/services/deliveries' ClaimedDelivery). */
export interface ClaimedPush {
  id: number;
  notificationId: number;
  recipientId: number;
}

/** Trusted SQL yielding `notification_id` and `recipient_id`: who should get a push now (see README). */
export type PushSource = { sql: string; replacements?: Record<string, unknown> };

/**
 * The part of server/services/deliveries' DeliveryService this task uses: one row per (notification, 'push'),
 * claimed before sending, so a retried or duplicated job never sends what was recorded as sent.
 */
export interface PushDeliveries {
  claim(channel: 'push', source: PushSource): Promise<ClaimedPush[]>;
  markSent(rows: Array<{ id: number; providerMessageId: string | null }>): Promise<number>;
  markFailed(rows: Array<{ id: number; error: string }>): Promise<number>;
  markSkipped(rows: Array<{ id: number; error: string }>): Promise<number>;
  release(rows: Array<{ id: number; error: string }>): Promise<number>;
}

export interface PushTaskDeps {
  sequelize: Sequelize;
  deliveries: PushDeliveries;
  subscriptions: Pick<PushSubscriptions, 'targets'>;
  sender: Pick<PushSender, 'send'>;
  /** The next chunk of recipients to claim for this job (preferences, quiet hours, no visible tab). */
  source: (job: PushJob, chunk: number) => PushSource;
  chunk?: number;
  /** Recipients sent to at once; each send is that recipient's devices. */
  concurrency?: number;
  /** When no push service said when to come back. */
  retryDelayMs?: number;
  /** The earliest end of the quiet hours that held some of the job's recipients back (a follow-up job then). */
  quietEnd?: (job: PushJob) => Promise<Date | null>;
  /** The last lease another job still holds on the job's rows: if that job died, a follow-up takes them over. */
  leaseEnd?: (job: PushJob) => Promise<Date | null>;
}

/**
 * The graphile-worker task: claim a chunk, push each notification to its recipient's devices, record one outcome
 * per delivery (sent when at least one device accepted it), and repeat. A push service that was busy leaves its
 * rows pending; the task then schedules itself again after the Retry-After it was given (keyed, so duplicates
 * collapse) rather than hammering it.
 */
export function pushTasks(deps: PushTaskDeps) {
  const { chunk = 500, concurrency = 32, retryDelayMs = 30_000 } = deps;
  return {
    [PUSH_TASK]: async (raw: unknown, helpers: Pick<JobHelpers, 'addJob' | 'logger'>) => {
      const job = raw as PushJob;
      let sent = 0;
      let retryAfterMs: number | undefined;
      for (;;) {
        const claimed = await deps.deliveries.claim('push', deps.source(job, chunk));
        if (claimed.length === 0) break;
        const outcome = await sendClaimed(deps, claimed, concurrency);
        sent += outcome.sent;
        if (outcome.retryAfterMs !== undefined) {
          retryAfterMs = outcome.retryAfterMs; // released rows would be claimed again at once: come back later
          break;
        }
      }
      const key = job.batchId ?? (job.notificationIds ?? []).join(',');
      if (retryAfterMs !== undefined) {
        const runAt = new Date(Date.now() + Math.max(retryAfterMs, 1_000));
        await helpers.addJob(PUSH_TASK, job, { runAt, jobKey: `${PUSH_TASK}:retry:${key}` });
      }
      const wakeAt = (await deps.quietEnd?.(job)) ?? null;
      if (wakeAt) await helpers.addJob(PUSH_TASK, job, { runAt: wakeAt, jobKey: `${PUSH_TASK}:quiet:${key}` });
      const leaseEnd = (await deps.leaseEnd?.(job)) ?? null;
      if (leaseEnd) {
        await helpers.addJob(PUSH_TASK, job, { runAt: new Date(leaseEnd.getTime() + 1000), jobKey: `${PUSH_TASK}:lease:${key}` });
      }
      helpers.logger.info(
        `push sent ${sent}${retryAfterMs !== undefined ? `, retry in ${Math.round(retryAfterMs / 1000)} s` : ''}` +
          `${wakeAt ? `, rest after quiet hours at ${wakeAt.toISOString()}` : ''}`,
      );
    },
  };
}

async function sendClaimed(deps: PushTaskDeps, claimed: ClaimedPush[], concurrency: number) {
  // Visibility is read here, at send time and once per chunk: a tab shown since the job was queued still counts.
  const notes = await deps.sequelize.query<PushableNotification & { application_id: number | null; tab_visible: boolean }>(
    `SELECT n.id, n.type, n.title, n.message, n.application_id, NOT ${noVisibleTab('n.recipient_id')} AS tab_visible
       FROM notifications n WHERE n.id = ANY(CAST(:ids AS bigint[]))`,
    { replacements: { ids: `{${claimed.map((c) => c.notificationId).join(',')}}` }, type: QueryTypes.SELECT },
  );
  const byId = new Map(notes.map((n) => [Number(n.id), { ...n, id: Number(n.id), applicationId: n.application_id }]));
  const devices = new Map<number, PushTarget[]>();
  for (const t of await deps.subscriptions.targets([...new Set(claimed.map((c) => c.recipientId))])) {
    devices.set(t.user_id, [...(devices.get(t.user_id) ?? []), t]);
  }

  const sent: Array<{ id: number; providerMessageId: null }> = [];
  const failed: Array<{ id: number; error: string }> = [];
  const skipped: Array<{ id: number; error: string }> = [];
  const released: Array<{ id: number; error: string }> = [];
  let retryAfterMs: number | undefined;
  await eachLimited(claimed, concurrency, async (d) => {
    const n = byId.get(d.notificationId);
    const targets = devices.get(d.recipientId) ?? [];
    if (!n) return void skipped.push({ id: d.id, error: 'notification deleted' });
    if (n.tab_visible) return void skipped.push({ id: d.id, error: 'shown in a visible tab' });
    if (targets.length === 0) return void skipped.push({ id: d.id, error: 'no device with alerts on' });
    const report = await deps.sender.send(pushMessage(n), targets);
    if (report.sent.length > 0) return void sent.push({ id: d.id, providerMessageId: null });
    if (report.retry.ids.length > 0) {
      released.push({ id: d.id, error: 'push service busy or unreachable' });
      retryAfterMs = Math.max(retryAfterMs ?? 0, report.retry.retryAfterMs ?? deps.retryDelayMs ?? 30_000);
      return;
    }
    const reasons = [...report.failed.map((f) => f.reason), ...(report.gone.length ? [`${report.gone.length} device(s) gone`] : [])];
    failed.push({ id: d.id, error: reasons.join('; ') || 'no device accepted it' });
  });
  await deps.deliveries.markSent(sent);
  await deps.deliveries.markFailed(failed);
  await deps.deliveries.markSkipped(skipped);
  await deps.deliveries.release(released);
  return { sent: sent.length, retryAfterMs };
}
