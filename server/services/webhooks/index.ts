import { randomBytes } from 'node:crypto';
import { QueryTypes, type Sequelize } from 'sequelize';
import { NotFound } from '../../errors';
import { enqueueJobSql } from '../../jobs';
import type { User } from '../../models';
import { checkTarget, type OutboundPolicy } from '../../outbound';

/** What an endpoint can subscribe to. A fan-out is one `broadcast.sent`, never one event per recipient. */
export const WEBHOOK_EVENTS = [
  'notification.created',
  'application.submitted',
  'application.decided',
  'broadcast.sent',
  'notification.read',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The graphile-worker task that sends one delivery (server/channels/webhooks). */
export const WEBHOOK_TASK = 'webhook:deliver';
/**
 * How often graphile-worker itself runs a `webhook:deliver` job that threw (the database unreachable, a bug).
 * A receiver's failure never throws: the task records it and schedules the next try itself, jittered
 * (server/channels/webhooks/schedule.ts).
 */
export const WEBHOOK_JOB_MAX_ATTEMPTS = 5;

export interface WebhookJobOptions {
  /** `preserve_run_at` (a second enqueue of the same delivery changes nothing) or `replace` (run it now). */
  mode?: 'preserve_run_at' | 'replace';
  /** SQL (written in code): the try this job makes, 1 for the first; a job whose try was made already is a no-op. */
  attempt?: string;
  /** SQL (written in code): when it runs; default now. */
  runAt?: string;
}

/** The job for one delivery, keyed by it: enqueuing it twice is one job. `idExpr` is SQL written in code. */
export function webhookJobSql(idExpr: string, opts: WebhookJobOptions = {}): string {
  return enqueueJobSql(WEBHOOK_TASK, {
    payload: `json_build_object('deliveryId', ${idExpr}, 'attempt', ${opts.attempt ?? '1'})`,
    jobKey: `'${WEBHOOK_TASK}:' || ${idExpr}`,
    jobKeyMode: opts.mode ?? 'preserve_run_at',
    runAt: opts.runAt,
    maxAttempts: WEBHOOK_JOB_MAX_ATTEMPTS,
  });
}

export interface WebhookEndpoint {
  id: number;
  userId: number;
  courseId: number | null;
  url: string;
  events: WebhookEventType[];
  description: string;
  enabled: boolean;
  failingSince: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

/** A new endpoint: its signing secret is shown this once. */
export interface CreatedWebhookEndpoint extends WebhookEndpoint {
  secret: string;
}

export interface WebhookAttempt {
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
  createdAt: Date;
}

export interface WebhookDelivery {
  id: number;
  eventId: string;
  eventType: WebhookEventType;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped';
  attempts: WebhookAttempt[];
  createdAt: Date;
}

export interface NewEndpoint {
  url: string;
  events: WebhookEventType[];
  description: string;
  courseId?: number;
}

const COLUMNS = `id, user_id AS "userId", course_id AS "courseId", url, events, description, enabled,
  failing_since AS "failingSince", disabled_at AS "disabledAt", created_at AS "createdAt"`;

/**
 * Webhook endpoints and their delivery log. Admins' endpoints hear every event; an instructor's hears only its
 * course's. A URL is checked against the outbound policy before it is stored (and again at every send).
 */
export class WebhookService {
  readonly #db: Sequelize;
  readonly #policy: OutboundPolicy;

  constructor(deps: { sequelize: Sequelize; policy: OutboundPolicy }) {
    this.#db = deps.sequelize;
    this.#policy = deps.policy;
  }

  /** Admins register platform-wide endpoints; instructors only for a course they teach (another's is a 404). */
  async create(owner: User, input: NewEndpoint): Promise<CreatedWebhookEndpoint> {
    // Plain http only where private targets are allowed (tests, private deployments), as for push endpoints.
    const url = await checkTarget(input.url, this.#policy, this.#policy.allowPrivate ? ['https:', 'http:'] : ['https:']);
    if (input.courseId !== undefined) {
      const [own] = await this.#db.query('SELECT 1 FROM courses WHERE id = :id AND (instructor_id = :user OR :admin)', {
        type: QueryTypes.SELECT,
        replacements: { id: input.courseId, user: owner.id, admin: owner.role === 'admin' },
      });
      if (!own) throw new NotFound('Course');
    }
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const [row] = await this.#db.query<WebhookEndpoint>(
      `INSERT INTO webhook_endpoints (user_id, course_id, url, events, description, secret)
       VALUES (:user, :course, :url, CAST(:events AS text[]), :description, :secret) RETURNING ${COLUMNS}`,
      {
        type: QueryTypes.SELECT,
        replacements: {
          user: owner.id,
          course: input.courseId ?? null,
          url: url.href,
          events: `{${[...new Set(input.events)].join(',')}}`,
          description: input.description,
          secret,
        },
      },
    );
    return { ...row, secret };
  }

  /** `ownerId` limits it to that user's endpoints (instructors); without it, every endpoint (admins). */
  list(ownerId?: number): Promise<WebhookEndpoint[]> {
    return this.#db.query<WebhookEndpoint>(
      `SELECT ${COLUMNS} FROM webhook_endpoints WHERE (CAST(:owner AS integer) IS NULL OR user_id = :owner) ORDER BY id DESC LIMIT 500`,
      { type: QueryTypes.SELECT, replacements: { owner: ownerId ?? null } },
    );
  }

  async remove(id: number, ownerId?: number): Promise<void> {
    const gone = await this.#db.query(
      'DELETE FROM webhook_endpoints WHERE id = :id AND (CAST(:owner AS integer) IS NULL OR user_id = :owner) RETURNING id',
      { type: QueryTypes.SELECT, replacements: { id, owner: ownerId ?? null } },
    );
    if (gone.length === 0) throw new NotFound('Webhook endpoint');
  }

  /** The latest deliveries of an endpoint with every attempt, newest first. */
  async deliveries(endpointId: number, limit = 100): Promise<WebhookDelivery[]> {
    const rows = await this.#db.query<Omit<WebhookDelivery, 'attempts'> & { attempts: WebhookAttempt[] | null; endpoint: number }>(
      `SELECT e.id AS endpoint, d.id::int AS id, d.event_id AS "eventId", d.event_type AS "eventType", d.status,
              d.created_at AS "createdAt",
              (SELECT json_agg(json_build_object('attempt', a.attempt, 'statusCode', a.status_code, 'latencyMs', a.latency_ms,
                        'responseExcerpt', a.response_excerpt, 'error', a.error, 'createdAt', a.created_at) ORDER BY a.id)
                 FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts
         FROM webhook_endpoints e LEFT JOIN LATERAL (
              SELECT * FROM webhook_deliveries WHERE endpoint_id = e.id ORDER BY id DESC LIMIT :limit) d ON true
        WHERE e.id = :endpointId`,
      { type: QueryTypes.SELECT, replacements: { endpointId, limit } },
    );
    if (rows.length === 0) throw new NotFound('Webhook endpoint');
    return rows
      .filter((r) => r.id !== null)
      .map(({ endpoint: _e, attempts, createdAt, ...r }) => ({
        ...r,
        createdAt: new Date(createdAt),
        attempts: (attempts ?? []).map((a) => ({ ...a, createdAt: new Date(a.createdAt) })),
      }));
  }

  /**
   * "Send again": the delivery goes back to pending with a fresh job (replacing a waiting one, so the retry runs
   * now), and its endpoint is enabled again: an admin who sends again means it.
   */
  async retry(endpointId: number, deliveryId: number): Promise<void> {
    const [row] = await this.#db.query<{ id: string }>(
      `WITH d AS (
         UPDATE webhook_deliveries SET status = 'pending', updated_at = now()
          WHERE id = :deliveryId AND endpoint_id = :endpointId RETURNING id, attempts),
       e AS (
         UPDATE webhook_endpoints SET enabled = true, disabled_at = NULL, failing_since = NULL
          WHERE id = :endpointId AND NOT enabled AND EXISTS (SELECT 1 FROM d))
       SELECT d.id, ${webhookJobSql('d.id', { mode: 'replace', attempt: 'd.attempts + 1' })} AS job FROM d`,
      { type: QueryTypes.SELECT, replacements: { endpointId, deliveryId } },
    );
    if (!row) throw new NotFound('Webhook delivery');
  }
}
