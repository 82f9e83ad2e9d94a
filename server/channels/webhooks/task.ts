import type { JobHelpers } from 'graphile-worker';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { Logger } from '../../logger';
import type { NotificationService } from '../../services/notifications';
import { WEBHOOK_TASK } from '../../services/webhooks';
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
 * `webhook:deliver`: one try of one delivery. Every try is logged; a 2xx settles it. Otherwise the task throws
 * and graphile-worker's backoff brings it back (see WEBHOOK_MAX_ATTEMPTS), until the last try marks it failed, or
 * the endpoint, failing for `disableAfterMs`, is disabled: its waiting deliveries are then skipped when they come up.
 */
export function webhookTasks(deps: WebhookTaskDeps) {
  const { sequelize: db, disableAfterMs = DISABLE_AFTER_MS } = deps;
  return {
    [WEBHOOK_TASK]: async (raw: unknown, helpers: Pick<JobHelpers, 'job'>) => {
      const deliveryId = Number((raw as { deliveryId?: unknown }).deliveryId);
      const [d] = await db.query<Claimed>(
        `SELECT d.id, d.event_id, d.body, d.status, d.attempts, e.id AS endpoint_id, e.user_id, e.url, e.secret, e.enabled
           FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = :deliveryId`,
        { type: QueryTypes.SELECT, replacements: { deliveryId } },
      );
      if (!d || d.status !== 'pending') return;
      if (!d.enabled) {
        await settle(db, d.id, 'skipped');
        return;
      }
      const result = await deps.sender.send({ url: d.url, secret: d.secret }, { id: d.event_id, body: d.body });
      const last = helpers.job.attempts >= helpers.job.max_attempts;
      await record(db, d, result, last);
      if (result.ok) return;
      if (await disableIfFailingTooLong(deps, d, disableAfterMs)) {
        await settle(db, d.id, 'failed');
        return;
      }
      if (last) return;
      throw new Error(`webhook ${d.url} answered ${result.statusCode ?? result.error}`);
    },
  };
}

/** The attempt row, the delivery's state and the endpoint's failing streak, in one statement. */
async function record(db: Sequelize, d: Claimed, r: AttemptResult, last: boolean): Promise<void> {
  await db.query(
    `WITH a AS (
       INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, attempt, status_code, latency_ms, response_excerpt, error)
       VALUES (:id, :endpointId, :eventId, :attempt, :statusCode, :latencyMs, :excerpt, :error)),
     e AS (
       UPDATE webhook_endpoints SET failing_since = CASE WHEN :ok THEN NULL ELSE coalesce(failing_since, now()) END
        WHERE id = :endpointId)
     UPDATE webhook_deliveries
        SET attempts = attempts + 1, updated_at = now(),
            status = CASE WHEN :ok THEN 'succeeded' WHEN :last THEN 'failed' ELSE 'pending' END
      WHERE id = :id`,
    {
      replacements: {
        id: d.id,
        endpointId: d.endpoint_id,
        eventId: d.event_id,
        attempt: d.attempts + 1,
        statusCode: r.statusCode,
        latencyMs: r.latencyMs,
        excerpt: r.responseExcerpt,
        error: r.error,
        ok: r.ok,
        last,
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
