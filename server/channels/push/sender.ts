import type https from 'node:https';
import webPush, { WebPushError } from 'web-push';
import type { Logger } from '../../logger';
import { assertSendable, guardedAgents, type OutboundPolicy } from '../../outbound';
import type { PushSubscriptions, PushTarget, VapidKeys } from '../../services/push-subscriptions';
import type { PushMessage } from './message';
import { byOrigin, eachLimited } from './pool';

/** What became of one send to many devices. Ids are subscription ids. */
export interface SendReport {
  /** Accepted by their push service (201). */
  sent: number[];
  /** 404 or 410: the subscription is gone for good and was deleted. */
  gone: number[];
  /** Past their expirationTime: not tried. */
  expired: number[];
  /** Refused for good (413, another 4xx, a forbidden address): retrying would not help. */
  failed: Array<{ id: number; status?: number; reason: string }>;
  /** 429, 5xx or a network error: worth trying again, not before `retryAfterMs` when a push service said so. */
  retry: { ids: number[]; retryAfterMs?: number };
}

export interface PushSenderDeps {
  subscriptions: Pick<PushSubscriptions, 'forget' | 'succeeded'>;
  vapid: Pick<VapidKeys, 'get'>;
  policy: OutboundPolicy;
  logger: Logger;
  /** Defaults to the private-network guarded agent; tests pass one that also trusts their certificate. */
  agent?: https.Agent;
  /** Requests in flight to one push service, and push services served at once. */
  perOrigin?: number;
  origins?: number;
  timeoutMs?: number;
}

/**
 * Sends one push to many devices, encrypted (aes128gcm, RFC 8291) and signed (VAPID, RFC 8292), and keeps the
 * subscriptions clean: a device its push service calls gone is deleted at once. Devices are grouped by push
 * service so a slow or throttling one (Mozilla's, Apple's) holds up only its own; a 429 or 503 stops the rest
 * of that group, which is returned for retry with the push service's Retry-After.
 */
export class PushSender {
  readonly #deps: PushSenderDeps;
  readonly #agent: https.Agent;

  constructor(deps: PushSenderDeps) {
    this.#deps = deps;
    this.#agent = deps.agent ?? guardedAgents(deps.policy).https;
  }

  async send(message: PushMessage, targets: readonly PushTarget[]): Promise<SendReport> {
    const report: SendReport = { sent: [], gone: [], expired: [], failed: [], retry: { ids: [] } };
    const now = Date.now();
    const live = targets.filter((t) => {
      const expired = t.expiration_time !== null && new Date(t.expiration_time).getTime() <= now;
      if (expired) report.expired.push(t.id);
      return !expired;
    });
    const vapidDetails = await this.#deps.vapid.get();
    const body = JSON.stringify(message.payload);
    const { perOrigin = 16, origins = 8, timeoutMs = 10_000 } = this.#deps;

    await eachLimited(byOrigin(live, (t) => t.endpoint), origins, async (group) => {
      let heldUntil: number | undefined; // set once this push service throttled us
      await eachLimited(group, perOrigin, async (target) => {
        if (heldUntil !== undefined) return retryLater(report, target.id, heldUntil - Date.now());
        try {
          assertSendable(new URL(target.endpoint), this.#deps.policy);
          await webPush.sendNotification({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, body, {
            TTL: message.ttl,
            urgency: message.urgency,
            topic: message.topic,
            vapidDetails,
            contentEncoding: 'aes128gcm',
            agent: this.#agent,
            timeout: timeoutMs,
          });
          report.sent.push(target.id);
        } catch (err) {
          const throttled = this.#failure(report, target, err, Buffer.byteLength(body));
          if (throttled !== undefined) heldUntil = Math.max(heldUntil ?? 0, Date.now() + throttled);
        }
      });
    });

    await this.#deps.subscriptions.forget(report.gone);
    await this.#deps.subscriptions.succeeded(report.sent);
    return report;
  }

  /** Files one failed send; returns how long to leave its push service alone when it asked for that. */
  #failure(report: SendReport, target: PushTarget, err: unknown, size: number): number | undefined {
    const { logger } = this.#deps;
    if (!(err instanceof WebPushError)) {
      if ((err as { code?: string }).code === 'EFORBIDDENTARGET') {
        report.failed.push({ id: target.id, reason: (err as Error).message });
        return undefined;
      }
      retryLater(report, target.id, undefined);
      logger.warn({ err, subscriptionId: target.id }, 'push service unreachable; will retry');
      return undefined;
    }
    const status = err.statusCode;
    if (status === 404 || status === 410) {
      report.gone.push(target.id);
      return undefined;
    }
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(err.headers['retry-after']);
      retryLater(report, target.id, after);
      logger.warn({ status, subscriptionId: target.id, retryAfterMs: after }, 'push service busy; will retry');
      return status === 429 || status === 503 ? (after ?? 0) : undefined;
    }
    if (status === 413) {
      // Payloads are clipped well under the limit: reaching it means the clipping is wrong.
      logger.error({ status, subscriptionId: target.id, payloadBytes: size }, 'push payload too large: a bug in the payload clipping');
    } else {
      logger.warn({ status, subscriptionId: target.id, body: err.body?.slice(0, 200) }, 'push refused');
    }
    report.failed.push({ id: target.id, status, reason: `push service answered ${status}` });
    return undefined;
  }
}

function retryLater(report: SendReport, id: number, afterMs: number | undefined) {
  report.retry.ids.push(id);
  if (afterMs !== undefined) report.retry.retryAfterMs = Math.max(report.retry.retryAfterMs ?? 0, Math.max(afterMs, 0));
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(at - Date.now(), 0);
}
