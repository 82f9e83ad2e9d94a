import type { Sequelize } from 'sequelize';
import type { SqlSource } from '../../services/deliveries';
import { channelNotifications } from '../../services/notifications/store/channel-reads';
import type { PushSubscriptions, PushTarget } from '../../services/push-subscriptions';
import { noVisibleTab } from './decide';
import { pushMessage, type PushMessage } from './message';
import type { OriginHolds, PushOutcome, PushSend, PushSender } from './sender';

/** A delivery row a job holds (server/services/deliveries' ClaimedDelivery). */
export interface ClaimedPush {
  id: number;
  notificationId: number;
  recipientId: number;
}

/** Trusted SQL yielding `notification_id` and `recipient_id`: who should get a push now (see README). */
export type PushSource = SqlSource;

/**
 * The part of server/services/deliveries' DeliveryService the push jobs use: one row per (notification, 'push'),
 * claimed before sending, so a retried or duplicated job never sends what was recorded as sent.
 */
export interface PushDeliveries {
  claim(channel: 'push', source: PushSource): Promise<ClaimedPush[]>;
  markSent(rows: Array<{ id: number; providerMessageId: string | null }>): Promise<number>;
  markFailed(rows: Array<{ id: number; error: string }>): Promise<number>;
  markSkipped(rows: Array<{ id: number; error: string }>): Promise<number>;
  /** The source's pending rows that no job holds become cancelled (they must no longer go out). */
  cancel(channel: 'push', source: PushSource, reason: string): Promise<number>;
  /** With `until`, the row stays pending but nobody claims it before then (a push service's Retry-After). */
  release(rows: Array<{ id: number; error: string; until?: Date }>): Promise<number>;
}

export interface PushChunkDeps {
  sequelize: Sequelize;
  deliveries: PushDeliveries;
  subscriptions: Pick<PushSubscriptions, 'targets'>;
  sender: Pick<PushSender, 'sendAll'>;
  /** How long to leave a row alone when its push service was busy but said nothing of when to come back. */
  retryDelayMs?: number;
}

/**
 * Sends a claimed chunk: every recipient's devices in one `sendAll`, so the chunk is grouped by push service
 * origin across recipients. Records one outcome per delivery: sent when a device accepted it, skipped with no
 * device (or a visible tab, when `skipVisible`), held (pending, not claimable before the Retry-After) when a push
 * service was busy, failed when every device refused or was gone. Returns when the earliest hold ends.
 */
export async function pushChunk(
  deps: PushChunkDeps,
  claimed: ClaimedPush[],
  holds: OriginHolds,
  opts: { skipVisible: boolean },
): Promise<{ sent: number; heldUntil?: number }> {
  if (claimed.length === 0) return { sent: 0 };
  // Visibility is read here, at send time and once per chunk: a tab shown since the job was queued still counts.
  const notes = await channelNotifications<{ tab_visible: boolean }>(deps.sequelize, claimed.map((c) => c.notificationId), {
    columns: [`NOT ${noVisibleTab('n.recipient_id')} AS tab_visible`],
  });
  const byId = new Map(notes.map((n) => [Number(n.id), n]));
  const devices = new Map<number, PushTarget[]>();
  for (const t of await deps.subscriptions.targets([...new Set(claimed.map((c) => c.recipientId))])) {
    let list = devices.get(t.user_id);
    if (!list) devices.set(t.user_id, (list = []));
    list.push(t);
  }

  const skipped: Array<{ id: number; error: string }> = [];
  const sends: PushSend[] = [];
  const owners: number[] = []; // index into `claimed` of each send
  const messages = new Map<number, PushMessage>();
  claimed.forEach((d, i) => {
    const n = byId.get(d.notificationId);
    const targets = devices.get(d.recipientId) ?? [];
    if (!n) return void skipped.push({ id: d.id, error: 'notification deleted' });
    if (opts.skipVisible && n.tab_visible) return void skipped.push({ id: d.id, error: 'shown in a visible tab' });
    if (targets.length === 0) return void skipped.push({ id: d.id, error: 'no device with alerts on' });
    let message = messages.get(d.notificationId);
    if (!message) {
      message = pushMessage({ id: Number(n.id), type: n.type, title: n.title, message: n.message, applicationId: n.application_id });
      messages.set(d.notificationId, message);
    }
    for (const target of targets) {
      sends.push({ message, target });
      owners.push(i);
    }
  });
  const outcomes = await deps.sender.sendAll(sends, holds);
  const perDelivery = new Map<number, PushOutcome[]>();
  outcomes.forEach((o, k) => {
    let list = perDelivery.get(owners[k]);
    if (!list) perDelivery.set(owners[k], (list = []));
    list.push(o);
  });

  const sent: Array<{ id: number; providerMessageId: null }> = [];
  const failed: Array<{ id: number; error: string }> = [];
  const held: Array<{ id: number; error: string; until: Date }> = [];
  const now = Date.now();
  for (const [i, results] of perDelivery) {
    const { id } = claimed[i];
    if (results.some((o) => o.status === 'sent')) {
      sent.push({ id, providerMessageId: null });
      continue;
    }
    const retries = results.flatMap((o) => (o.status === 'retry' ? [o.afterMs ?? deps.retryDelayMs ?? 30_000] : []));
    if (retries.length > 0) {
      held.push({ id, error: 'push service busy or unreachable', until: new Date(now + Math.max(...retries, 1_000)) });
      continue;
    }
    const gone = results.filter((o) => o.status === 'gone' || o.status === 'expired').length;
    const reasons = [...results.flatMap((o) => (o.status === 'failed' ? [o.reason] : [])), ...(gone ? [`${gone} device(s) gone`] : [])];
    failed.push({ id, error: reasons.join('; ') || 'no device accepted it' });
  }
  await deps.deliveries.markSent(sent);
  await deps.deliveries.markFailed(failed);
  await deps.deliveries.markSkipped(skipped);
  await deps.deliveries.release(held);
  const heldUntil = held.length ? Math.min(...held.map((h) => h.until.getTime())) : undefined;
  return { sent: sent.length, heldUntil };
}
