import type https from 'node:https';
import webPush, { WebPushError } from 'web-push';
import type { Logger } from '../../logger';
import { assertSendable, guardedAgents, type OutboundPolicy } from '../../outbound';
import type { PushSubscriptions, PushTarget, VapidKeys } from '../../services/push-subscriptions';
import type { PushMessage } from './message';
import { byOrigin, eachLimited } from '../pool';
import { VapidHeaders } from './vapid-header';

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

/** One push to one device. */
export interface PushSend {
  message: PushMessage;
  target: PushTarget;
}

/** What became of one `PushSend`. `retry.afterMs` is the push service's Retry-After, when it gave one. */
export type PushOutcome =
  | { status: 'sent' | 'gone' | 'expired' }
  | { status: 'failed'; code?: number; reason: string }
  | { status: 'retry'; afterMs?: number };

/**
 * Push services that throttled us (429 or 503), by origin, and the Retry-After they gave. A job passes the same
 * map to each of its chunks, so a later chunk sends nothing more to a push service that asked for a pause.
 */
export type OriginHolds = Map<string, { until?: number }>;

/**
 * Sends pushes, encrypted (aes128gcm, RFC 8291) and signed (VAPID, RFC 8292), and keeps the subscriptions
 * clean: a device its push service calls gone is deleted at once. Sends are grouped by push service across
 * recipients, so a slow or throttling one (Mozilla's, Apple's) holds up only its own; a 429 or 503 holds the
 * rest of that push service's sends, returned for retry with its Retry-After, while the others go on.
 */
export class PushSender {
  readonly #deps: PushSenderDeps;
  readonly #agent: https.Agent;
  readonly #vapidHeaders = new VapidHeaders();

  constructor(deps: PushSenderDeps) {
    this.#deps = deps;
    this.#agent = deps.agent ?? guardedAgents(deps.policy).https;
  }

  /** One message to many devices (one recipient's, say). */
  async send(message: PushMessage, targets: readonly PushTarget[]): Promise<SendReport> {
    const outcomes = await this.sendAll(targets.map((target) => ({ message, target })));
    const report: SendReport = { sent: [], gone: [], expired: [], failed: [], retry: { ids: [] } };
    outcomes.forEach((o, i) => {
      const id = targets[i].id;
      if (o.status === 'failed') report.failed.push({ id, ...(o.code !== undefined && { status: o.code }), reason: o.reason });
      else if (o.status === 'retry') retryLater(report, id, o.afterMs);
      else report[o.status].push(id);
    });
    return report;
  }

  /**
   * Many pushes (a chunk of a fan-out, to many recipients): grouped by push service origin, at most `origins`
   * push services served at once and `perOrigin` requests in flight to each. Outcomes come back in order.
   */
  async sendAll(sends: readonly PushSend[], holds: OriginHolds = new Map()): Promise<PushOutcome[]> {
    const outcomes: PushOutcome[] = new Array(sends.length);
    const now = Date.now();
    const live: number[] = [];
    sends.forEach(({ target }, i) => {
      const expired = target.expiration_time !== null && new Date(target.expiration_time).getTime() <= now;
      if (expired) outcomes[i] = { status: 'expired' };
      else live.push(i);
    });
    const vapidDetails = await this.#deps.vapid.get();
    const { perOrigin = 16, origins = 8, timeoutMs = 10_000 } = this.#deps;

    await eachLimited(byOrigin(live, (i) => sends[i].target.endpoint), origins, async (group) => {
      const origin = new URL(sends[group[0]].target.endpoint).origin;
      await eachLimited(group, perOrigin, async (i) => {
        const { message, target } = sends[i];
        const held = holds.get(origin);
        if (held) return void (outcomes[i] = { status: 'retry', afterMs: held.until === undefined ? undefined : Math.max(held.until - Date.now(), 0) });
        const body = JSON.stringify(message.payload);
        try {
          assertSendable(new URL(target.endpoint), this.#deps.policy);
          // No `vapidDetails`: the header is signed once per origin (web-push would sign each push anew).
          await webPush.sendNotification({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, body, {
            TTL: message.ttl,
            urgency: message.urgency,
            topic: message.topic,
            headers: { Authorization: this.#vapidHeaders.get(origin, vapidDetails) },
            contentEncoding: 'aes128gcm',
            agent: this.#agent,
            timeout: timeoutMs,
          });
          outcomes[i] = { status: 'sent' };
        } catch (err) {
          const { outcome, throttled } = this.#failure(target, err, Buffer.byteLength(body));
          outcomes[i] = outcome;
          if (throttled) {
            const until = outcome.status === 'retry' && outcome.afterMs !== undefined ? Date.now() + outcome.afterMs : undefined;
            const before = holds.get(origin)?.until;
            holds.set(origin, { until: until === undefined ? before : Math.max(before ?? 0, until) });
          }
        }
      });
    });

    const ids = (status: PushOutcome['status']) => [...new Set(sends.filter((_, i) => outcomes[i].status === status).map((s) => s.target.id))];
    await this.#deps.subscriptions.forget(ids('gone'));
    await this.#deps.subscriptions.succeeded(ids('sent'));
    return outcomes;
  }

  /** Files one failed send; `throttled` when its push service asked to be left alone (429, 503). */
  #failure(target: PushTarget, err: unknown, size: number): { outcome: PushOutcome; throttled?: boolean } {
    const { logger } = this.#deps;
    if (!(err instanceof WebPushError)) {
      if ((err as { code?: string }).code === 'EFORBIDDENTARGET') return { outcome: { status: 'failed', reason: (err as Error).message } };
      logger.warn({ err, subscriptionId: target.id }, 'push service unreachable; will retry');
      return { outcome: { status: 'retry' } };
    }
    const status = err.statusCode;
    if (status === 404 || status === 410) return { outcome: { status: 'gone' } };
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(err.headers['retry-after']);
      logger.warn({ status, subscriptionId: target.id, retryAfterMs: after }, 'push service busy; will retry');
      return { outcome: { status: 'retry', afterMs: after }, throttled: status === 429 || status === 503 };
    }
    if (status === 413) {
      // Payloads are clipped well under the limit: reaching it means the clipping is wrong.
      logger.error({ status, subscriptionId: target.id, payloadBytes: size }, 'push payload too large: a bug in the payload clipping');
    } else {
      logger.warn({ status, subscriptionId: target.id, body: err.body?.slice(0, 200) }, 'push refused');
    }
    return { outcome: { status: 'failed', code: status, reason: `push service answered ${status}` } };
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
