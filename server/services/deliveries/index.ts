import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { BadRequest, Conflict, NotFound } from '../../errors';
import { enqueueJobSql, type EnqueueSql } from '../../jobs';
import { recipientsOf } from '../notifications/store/channel-reads';
import { decodeCursor, keysetPage } from '../paging';

export { freeToClaim } from './sql';

export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'skipped', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const DELIVERY_CHANNELS = ['email', 'push', 'webhook'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

/** A delivery as the admin API shows it. */
export interface Delivery {
  id: number;
  notification_id: number;
  recipient_id: number;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

/** A row a job may now send: it holds the lease until it records an outcome or the lease runs out. */
export interface ClaimedDelivery {
  id: number;
  notificationId: number;
  recipientId: number;
  attempts: number;
}

/** A SELECT of `notification_id` (and `recipient_id` to claim) with its replacements. */
export interface SqlSource {
  sql: string;
  replacements?: Record<string, unknown>;
}

/**
 * Where the notifications to claim come from: their ids, or a query (trusted SQL written in code, with its own
 * replacements) yielding `notification_id` and `recipient_id` columns, so the choice of recipients and the claim
 * are one statement.
 */
export type ClaimSource = number[] | SqlSource;

export interface DeliveryListOptions {
  channel?: string;
  status?: string;
  recipient?: number;
  limit?: number;
  cursor?: string;
}

/** The job that sends a retried delivery again: a task name and its enqueue expressions over the row `r`. */
export interface RetryJob {
  task: string;
  spec: EnqueueSql;
}

/** How long a claim holds before another job may take the row over (a job that died mid-send). */
export const DEFAULT_LEASE_SECONDS = 120;

/**
 * Records what each channel sent. The flow of a sending job: `claim` (insert the rows it is about to send, or
 * lease pending ones: a row already sent, failed, cancelled or leased by another job is never returned), send,
 * then `markSent` / `markFailed` (permanent) / `release` (transient: stays pending for the job's retry).
 * Every operation is one statement over a set of rows.
 */
export class DeliveryService {
  readonly #db: Sequelize;

  constructor(deps: { sequelize: Sequelize }) {
    this.#db = deps.sequelize;
  }

  /**
   * Inserts pending rows for the source's notifications (ON CONFLICT DO NOTHING) and leases them, plus any
   * existing pending row whose lease is free. Two jobs claiming the same notification concurrently: the unique
   * index makes one insert wait and skip, and the lease check makes one update skip, so one of them gets it.
   */
  async claim(channel: DeliveryChannel, source: ClaimSource, opts: { leaseSeconds?: number; transaction?: Transaction } = {}) {
    const { sql, replacements } = Array.isArray(source) ? recipientsOf(source) : source;
    const rows = await this.#db.query<{ id: string; notification_id: string; recipient_id: number; attempts: number }>(
      `WITH src AS (${sql}),
       ins AS (
         INSERT INTO deliveries (notification_id, recipient_id, channel, attempts, claimed_until)
         SELECT notification_id, recipient_id, :channel, 1, now() + make_interval(secs => :lease) FROM src
         ON CONFLICT (notification_id, channel) DO NOTHING
         RETURNING id, notification_id, recipient_id, attempts
       ),
       leased AS (
         UPDATE deliveries d
            SET attempts = d.attempts + 1, claimed_until = now() + make_interval(secs => :lease), updated_at = now()
          WHERE d.channel = :channel AND d.status = 'pending'
            AND (d.claimed_until IS NULL OR d.claimed_until < now())
            AND d.notification_id IN (SELECT notification_id FROM src)
         RETURNING d.id, d.notification_id, d.recipient_id, d.attempts
       )
       SELECT * FROM ins UNION ALL SELECT * FROM leased ORDER BY id`,
      {
        type: QueryTypes.SELECT,
        transaction: opts.transaction,
        replacements: { ...replacements, channel, lease: opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS },
      },
    );
    return rows.map<ClaimedDelivery>((r) => ({
      id: Number(r.id),
      notificationId: Number(r.notification_id),
      recipientId: r.recipient_id,
      attempts: r.attempts,
    }));
  }

  /** Records accepted sends. Only a pending row becomes sent, so a late duplicate cannot rewrite history. */
  async markSent(sent: Array<{ id: number; providerMessageId: string | null }>): Promise<number> {
    if (sent.length === 0) return 0;
    return this.#update(
      `UPDATE deliveries d SET status = 'sent', sent_at = now(), updated_at = now(), claimed_until = NULL,
              provider_message_id = s.pid, last_error = NULL
         FROM unnest(CAST(:ids AS bigint[]), CAST(:pids AS text[])) AS s(id, pid)
        WHERE d.id = s.id AND d.status = 'pending'`,
      { ids: sent.map((s) => s.id), pids: sent.map((s) => s.providerMessageId) },
    );
  }

  /** Permanent failures (a 5xx for that recipient): kept failed with the reason until an admin retries. */
  async markFailed(failed: Array<{ id: number; error: string }>): Promise<number> {
    return this.#setOutcome('failed', failed);
  }

  /** Nothing to send (no address, preference changed since): recorded so nobody wonders where it went. */
  async markSkipped(skipped: Array<{ id: number; error: string }>): Promise<number> {
    return this.#setOutcome('skipped', skipped);
  }

  /**
   * Transient failures: the rows stay pending, for the job's own retry to claim again: at once, or not before
   * `until` (a push service's Retry-After: until then no job claims them).
   */
  async release(released: Array<{ id: number; error: string; until?: Date }>): Promise<number> {
    if (released.length === 0) return 0;
    return this.#update(
      `UPDATE deliveries d SET claimed_until = s.until, last_error = s.err, updated_at = now()
         FROM unnest(CAST(:ids AS bigint[]), CAST(:errs AS text[]), CAST(:untils AS timestamptz[])) AS s(id, err, until)
        WHERE d.id = s.id AND d.status = 'pending'`,
      {
        ids: released.map((s) => s.id),
        errs: released.map((s) => clip(s.error)),
        untils: released.map((s) => s.until?.toISOString() ?? null),
      },
    );
  }

  /**
   * What must no longer go out: the source's pending rows on this channel that no job holds (released after a
   * transient failure, waiting for the job's retry) become cancelled, with the reason. A row leased by a job
   * mid-send is left to that job. `source` selects `notification_id`.
   */
  async cancel(channel: DeliveryChannel, source: SqlSource, reason: string): Promise<number> {
    return this.#update(
      `UPDATE deliveries d SET status = 'cancelled', claimed_until = NULL, last_error = :reason, updated_at = now()
        WHERE d.channel = :channel AND d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())
          AND d.notification_id IN (SELECT notification_id FROM (${source.sql}) AS src)`,
      { ...source.replacements, channel, reason },
    );
  }

  /** The admin list: newest first, keyset-paginated on id, filtered by channel, status and recipient. */
  async list(opts: DeliveryListOptions = {}): Promise<{ results: Delivery[]; next_cursor: string | null }> {
    if (opts.status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(opts.status)) {
      throw new BadRequest(`Unknown status: ${opts.status}.`, { field: 'status' });
    }
    if (opts.channel !== undefined && !(DELIVERY_CHANNELS as readonly string[]).includes(opts.channel)) {
      throw new BadRequest(`Unknown channel: ${opts.channel}.`, { field: 'channel' });
    }
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
    const where: string[] = [];
    const replacements: Record<string, unknown> = { limit: limit + 1 };
    if (opts.channel) (where.push('channel = :channel'), (replacements.channel = opts.channel));
    if (opts.status) (where.push('status = :status'), (replacements.status = opts.status));
    if (opts.recipient !== undefined) (where.push('recipient_id = :recipient'), (replacements.recipient = opts.recipient));
    if (opts.cursor) (where.push('id < :before'), (replacements.before = decodeCursor(opts.cursor)));
    const rows = await this.#db.query<Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT :limit`,
      { type: QueryTypes.SELECT, replacements },
    );
    const page = keysetPage(rows.map(toDelivery), limit, (d) => d.id);
    return { results: page.results, next_cursor: page.nextCursor };
  }

  async get(id: number): Promise<Delivery> {
    const rows = await this.#db.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM deliveries WHERE id = :id`, {
      type: QueryTypes.SELECT,
      replacements: { id },
    });
    if (rows.length === 0) throw new NotFound('Delivery');
    return toDelivery(rows[0]);
  }

  /**
   * An admin's retry: a failed row goes back to pending (free, attempts kept) for the channel's job to claim.
   * `job` enqueues the channel's sending job in the same statement; its SQL expressions may read the retried
   * row as `r` (`r.id`, `r.notification_id`, `r.recipient_id`). Anything but a failed row is a 409: a sent one
   * must not go out twice.
   */
  async retry(id: number, job: RetryJob): Promise<Delivery> {
    // The reset and its enqueue are one statement: a pending row never waits for a job that was lost.
    const sql = `WITH r AS (UPDATE deliveries SET status = 'pending', claimed_until = NULL, updated_at = now()
                             WHERE id = :id AND status = 'failed' RETURNING ${COLUMNS}),
                      job AS (SELECT ${enqueueJobSql(job.task, job.spec)} AS job_id FROM r)
                 SELECT r.*, (SELECT job_id FROM job) AS job_id FROM r`;
    const rows = await this.#db.query<Record<string, unknown>>(sql, { type: QueryTypes.SELECT, replacements: { id } });
    if (rows.length > 0) return toDelivery(rows[0]);
    const current = await this.get(id);
    throw new Conflict(`Only a failed delivery can be retried; this one is ${current.status}.`, { status: current.status });
  }

  async #setOutcome(status: 'failed' | 'skipped', rows: Array<{ id: number; error: string }>) {
    if (rows.length === 0) return 0;
    return this.#update(
      `UPDATE deliveries d SET status = :status, last_error = s.err, claimed_until = NULL, updated_at = now()
         FROM unnest(CAST(:ids AS bigint[]), CAST(:errs AS text[])) AS s(id, err)
        WHERE d.id = s.id AND d.status = 'pending'`,
      { status, ids: rows.map((r) => r.id), errs: rows.map((r) => clip(r.error)) },
    );
  }

  async #update(sql: string, replacements: Record<string, unknown>): Promise<number> {
    const [, affected] = (await this.#db.query(sql, {
      type: QueryTypes.UPDATE,
      replacements: arraysAsLiterals(replacements),
    })) as [unknown, number];
    return Number(affected) || 0;
  }
}

const COLUMNS = `id, notification_id, recipient_id, channel, status, attempts, last_error, provider_message_id,
  created_at, updated_at, sent_at`;

function toDelivery(r: Record<string, unknown>): Delivery {
  const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());
  return {
    id: Number(r.id),
    notification_id: Number(r.notification_id),
    recipient_id: Number(r.recipient_id),
    channel: String(r.channel),
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    last_error: (r.last_error as string | null) ?? null,
    provider_message_id: (r.provider_message_id as string | null) ?? null,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    sent_at: iso(r.sent_at),
  };
}

/**
 * Sequelize expands a JS array replacement into a comma list; a PostgreSQL array literal string keeps it one
 * value for CAST(... AS bigint[]/text[]).
 */
function arraysAsLiterals(replacements: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(replacements)) out[k] = Array.isArray(v) ? pgArray(v) : v;
  return out;
}

function pgArray(values: unknown[]): string {
  const items = values.map((v) => (v == null ? 'NULL' : `"${String(v).replace(/["\\]/g, (c) => `\\${c}`)}"`));
  return `{${items.join(',')}}`;
}

function clip(s: string, max = 1000): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
