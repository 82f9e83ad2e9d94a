import { QueryTypes, type Sequelize } from 'sequelize';
import type { Logger } from '../../logger';
import type { NotificationService } from '../../services/notifications';
import { WEBHOOK_TASK, webhookJobSql } from '../../services/webhooks';
import { RETRY_WINDOWS, retryDelayMs, type RetryWindow } from './schedule';
import type { AttemptResult, WebhookSender } from './sender';

/** An endpoint that has failed every delivery for this long is disabled and its owner told. */
export const DISABLE_AFTER_MS = 24 * 60 * 60 * 1000;

export interface WebhookTaskDeps {
  sequelize: Sequelize;
  sender: Pick<WebhookSender, 'send'>;
  /** Where the owner of a disabled endpoint hears of it. */
  notifications: Pick<NotificationService, 'create'>;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Tests shorten it. */
  disableAfterMs?: number;
  /** When failed tries come again (default `RETRY_WINDOWS`); tests scale it down. */
  retryWindows?: readonly RetryWindow[];
  /** Draws the place in each window, in [0, 1) (default Math.random). */
  random?: () => number;
}

interface Claimed {
  id: number;
  event_id: string;
  body: string;
  status: string;
  attempts: number;
  endpoint_id: number;
  user_id: number;
  url: string;
  secret: string;
  enabled: boolean;
}

/**
 * `webhook:deliver`: one try of one delivery. Every try is logged; a 2xx settles it. A failure never throws (that
 * would bring graphile-worker's fixed backoff in): the same statement that logs it queues the next try at a time
 * drawn from the schedule's window, until the last try marks it failed, or the endpoint, failing for
 * `disableAfterMs`, is disabled: its waiting deliveries are then skipped when they come up.
 */
export function webhookTasks(deps: WebhookTaskDeps) {
  const { sequelize: db, disableAfterMs = DISABLE_AFTER_MS, retryWindows = RETRY_WINDOWS, random = Math.random } = deps;
  return {
    [WEBHOOK_TASK]: async (raw: unknown) => {
      const payload = raw as { deliveryId?: unknown; attempt?: unknown };
      const deliveryId = Number(payload.deliveryId);
      const [d] = await db.query<Claimed>(
        `SELECT d.id, d.event_id, d.body, d.status, d.attempts, e.id AS endpoint_id, e.user_id, e.url, e.secret, e.enabled
           FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = :deliveryId`,
        { type: QueryTypes.SELECT, replacements: { deliveryId } },
      );
      if (!d || d.status !== 'pending') return;
      // This try was made already: the job is a copy run again after its worker died between logging the try
      // and completing the job. (Jobs queued before tries were numbered carry no attempt.)
      if (typeof payload.attempt === 'number' && d.attempts >= payload.attempt) return;
      if (!d.enabled) {
        await settle(db, d.id, 'skipped');
        return;
      }
      const result = await deps.sender.send({ url: d.url, secret: d.secret }, { id: d.event_id, body: d.body });
      const retryInMs = result.ok ? null : retryDelayMs(d.attempts + 1, retryWindows, random);
      await record(db, d, result, retryInMs);
      if (result.ok) return;
      // The next try, if any, is queued already; a disabled endpoint's delivery is failed now and that job skips it.
      if (await disableIfFailingTooLong(deps, d, disableAfterMs)) await settle(db, d.id, 'failed');
      else if (retryInMs === null) deps.logger.info({ deliveryId: d.id, url: d.url }, 'webhook delivery failed its last try');
    },
  };
}

/**
 * The attempt row, the delivery's state, the endpoint's failing streak and the next try's job (when `retryInMs` is
 * given), in one statement: a logged failure always has its retry queued. The running job still holds the
 * delivery's job key, so add_job queues a new job rather than touching it.
 */
async function record(db: Sequelize, d: Claimed, r: AttemptResult, retryInMs: number | null): Promise<void> {
  const next = webhookJobSql(':id', { attempt: ':attempt + 1', runAt: 'now() + make_interval(secs => :retrySecs)' });
  await db.query(
    `WITH a AS (
       INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, status_code, latency_ms, response_excerpt, error)
       VALUES (:id, :endpointId, :eventId, :attempt, :statusCode, :latencyMs, :excerpt, :error)),
     e AS (
       UPDATE webhook_endpoints SET failing_since = CASE WHEN :ok THEN NULL ELSE coalesce(failing_since, now()) END
        WHERE id = :endpointId),
     d AS (
       UPDATE webhook_deliveries
          SET attempts = attempts + 1, updated_at = now(),
              status = CASE WHEN :ok THEN 'succeeded' WHEN :last THEN 'failed' ELSE 'pending' END
        WHERE id = :id),
     job AS (SELECT ${next} AS id WHERE :retry)
     SELECT (SELECT count(*) FROM job) AS jobs`,
    {
      type: QueryTypes.SELECT,
      replacements: {
        id: Number(d.id), // bigint arrives as a string; the job payload wants the number enqueue gives it
        endpointId: d.endpoint_id,
        eventId: d.event_id,
        attempt: d.attempts + 1,
        statusCode: r.statusCode,
        latencyMs: r.latencyMs,
        excerpt: r.responseExcerpt,
        error: r.error,
        ok: r.ok,
        last: !r.ok && retryInMs === null,
        retry: retryInMs !== null,
        retrySecs: (retryInMs ?? 0) / 1000,
      },
    },
  );
}

function settle(db: Sequelize, id: number, status: 'skipped' | 'failed') {
  return db.query(`UPDATE webhook_deliveries SET status = :status, updated_at = now() WHERE id = :id AND status = 'pending'`, {
    replacements: { id, status },
  });
}

/**
 * Disables the endpoint once its failing streak is old enough; the one process whose UPDATE flips it tells the
 * owner, in Herald, in the same transaction.
 */
async function disableIfFailingTooLong(deps: WebhookTaskDeps, d: Claimed, afterMs: number): Promise<boolean> {
  return deps.sequelize.transaction(async (transaction) => {
    const [flipped] = await deps.sequelize.query<{ id: number }>(
      `UPDATE webhook_endpoints SET enabled = false, disabled_at = now()
        WHERE id = :id AND enabled AND failing_since <= now() - make_interval(secs => :secs) RETURNING id`,
      { type: QueryTypes.SELECT, replacements: { id: d.endpoint_id, secs: afterMs / 1000 }, transaction },
    );
    if (!flipped) return false;
    await deps.notifications.create(
      {
        recipientId: d.user_id,
        type: 'message',
        title: 'A webhook endpoint was disabled',
        message: `${d.url} has failed every delivery for a day, so it was disabled: it receives nothing until an admin sends one of its deliveries again.`,
        data: { webhook_endpoint_id: d.endpoint_id },
      },
      transaction,
    );
    deps.logger.warn({ endpointId: d.endpoint_id, url: d.url }, 'webhook endpoint disabled after a day of failures');
    return true;
  });
}
