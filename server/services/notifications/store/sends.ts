import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationType } from '../../../models';
import { enqueueJobSql } from '../../../jobs/sql';
import { effectivePreferencesJoin } from '../../preferences/sql';
import { fixedAudienceSql, type Audience } from './audience';
import { batchJobsSql, type NotificationJobTiming } from './jobs';
import { broadcastContentSql, insertSendRowsSql } from './shape';
import { SEND_STATUSES, type SendStatus } from '../../../wire/sends';

/** The queued job that writes a recorded send in chunks; keyed `notifications:send:<id>`, one per send. */
export const SEND_TASK = 'notifications:send';

export { SEND_STATUSES, type SendStatus };

/** A send as its broadcast row records it (inline sends are rows too: finished by their one statement). */
export interface SendRecord {
  id: string;
  senderId: number | null;
  courseId: number | null;
  type: NotificationType;
  title: string;
  status: SendStatus;
  /** The audience's size; null until the job counted it (after its first chunk went out). */
  total: number | null;
  /** Rows written so far. */
  recipients: number;
  /** The last recipient id a committed chunk covered. */
  cursor: number;
  /** The last recipient id whose chunk was published. */
  pushedTo: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Recorded and written by the job (above SEND_INLINE_MAX); false for an inline send's row. */
  recorded: boolean;
}

/** What one chunk did: the recipient id range it covered, (after, upTo], and how many rows it wrote there. */
export interface ChunkResult {
  after: number;
  upTo: number;
  inserted: number;
  /** The send's state after the chunk (finished when the chunk found fewer recipients than it asked for). */
  send: SendRecord;
}

interface Row {
  id: string;
  sender_id: number | null;
  course_id: number | null;
  type: NotificationType;
  title: string;
  status: SendStatus;
  total: number | null;
  recipients: number;
  cursor: number;
  pushed_to: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  recorded: boolean;
}

/** The columns a SendRecord reads, qualified by `t` where a statement joins another relation. */
function columns(t = ''): string {
  const q = t ? `${t}.` : '';
  return `${['id', 'sender_id', 'course_id', 'type', 'title', 'status', 'total', 'recipients', 'cursor', 'pushed_to', 'created_at', 'started_at', 'finished_at']
    .map((c) => q + c)
    .join(', ')}, ${q}audience_max_id IS NOT NULL AS recorded`;
}
const COLUMNS = columns();

function toRecord(r: Row): SendRecord {
  return {
    id: r.id,
    senderId: r.sender_id,
    courseId: r.course_id,
    type: r.type,
    title: r.title,
    status: r.status,
    total: r.total,
    recipients: r.recipients,
    cursor: r.cursor,
    pushedTo: r.pushed_to,
    createdAt: new Date(r.created_at),
    startedAt: r.started_at ? new Date(r.started_at) : null,
    finishedAt: r.finished_at ? new Date(r.finished_at) : null,
    recorded: r.recorded,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The recorded (chunked) sends: the record, the chunks, the cancel. Every write is one statement, a chunk one
 * transaction; it publishes nothing (SendService does, after each commit).
 */
export class SendStore {
  readonly #db: Sequelize;
  readonly #timing: NotificationJobTiming;

  constructor(db: Sequelize, timing: NotificationJobTiming) {
    this.#db = db;
    this.#timing = timing;
  }

  /**
   * Records a send and enqueues its job in one statement (the job exists exactly when the record does). With an
   * idempotency key already used by this sender, records nothing and answers that send (`replayed`), whether it
   * went out inline or is recorded.
   */
  async record(
    audience: Audience,
    content: { type: NotificationType; title: string; message: string; data?: Record<string, unknown>; senderId: number | null; courseId?: number | null },
    batch: { batchId: string; idempotencyKey: string | null },
  ): Promise<{ send: SendRecord; replayed: boolean }> {
    const replacements = {
      batchId: batch.batchId,
      senderId: content.senderId,
      courseId: content.courseId ?? null,
      audience: JSON.stringify(audience),
      type: content.type,
      title: content.title,
      message: content.message,
      data: JSON.stringify(content.data ?? {}),
      idempotencyKey: batch.idempotencyKey,
    };
    const [row] = await this.#db.query<Row>(
      `WITH rec AS (
         INSERT INTO broadcasts (id, sender_id, course_id, audience, type, title, message, data, search_vector,
                                 recipients, idempotency_key, status, audience_max_id, audience_as_of)
         SELECT CAST(:batchId AS uuid), :senderId, :courseId, CAST(:audience AS jsonb), :type,
                ${broadcastContentSql()}, 0, :idempotencyKey, 'queued',
                (SELECT coalesce(max(id), 0) FROM users), now()
         ON CONFLICT ON CONSTRAINT broadcasts_sender_idempotency_key DO NOTHING
         RETURNING ${COLUMNS}
       ),
       job AS (SELECT ${enqueueJobSql(SEND_TASK, {
         payload: "json_build_object('batchId', rec.id)",
         jobKey: `'${SEND_TASK}:' || rec.id`,
         jobKeyMode: 'preserve_run_at',
       })} AS job FROM rec)
       SELECT rec.*, (SELECT count(*) FROM job) AS jobs FROM rec`,
      { replacements, type: QueryTypes.SELECT },
    );
    if (row) return { send: toRecord(row), replayed: false };
    const [first] = await this.#db.query<Row>(
      `SELECT ${COLUMNS} FROM broadcasts WHERE sender_id = :senderId AND idempotency_key = :idempotencyKey`,
      { replacements, type: QueryTypes.SELECT },
    );
    if (!first) throw new Error('broadcast idempotency conflict without a row');
    return { send: toRecord(first), replayed: true };
  }

  async get(id: string): Promise<SendRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM broadcasts WHERE id = :id`, {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    return row ? toRecord(row) : undefined;
  }

  /**
   * The job's first step: a queued send becomes running, with its start time. A finished or cancelled send is
   * answered as it is. The audience is not counted here: on a million users that count is a scan of users, and the
   * first chunk's frames go out before it (`count`).
   */
  async start(id: string): Promise<SendRecord | undefined> {
    const [row] = await this.#db.query<Row>(
      `UPDATE broadcasts SET status = CASE WHEN status = 'queued' THEN 'running' ELSE status END,
              started_at = coalesce(started_at, now())
        WHERE id = :id RETURNING ${COLUMNS}`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    return row ? toRecord(row) : undefined;
  }

  /**
   * The audience's size as of the record time, counted once: a resumed job keeps the first count. Undefined when
   * the send does not exist.
   */
  async count(id: string): Promise<SendRecord | undefined> {
    const [b] = await this.#db.query<Row & { audience: Audience; audience_max_id: number; audience_as_of: Date }>(
      `SELECT ${COLUMNS}, audience, audience_max_id, audience_as_of FROM broadcasts WHERE id = :id`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    if (!b) return undefined;
    if (b.total !== null) return toRecord(b);
    // Counted outside the UPDATE: a cancel waiting for this row would otherwise wait for the whole scan.
    const { sql, params } = fixedAudienceSql(b.audience, { limit: false });
    const [c] = await this.#db.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) AS r(id)`, {
      replacements: { ...params, afterId: 0, audienceMaxId: b.audience_max_id, audienceAsOf: b.audience_as_of },
      type: QueryTypes.SELECT,
    });
    const [row] = await this.#db.query<Row>(`UPDATE broadcasts SET total = coalesce(total, :total) WHERE id = :id RETURNING ${COLUMNS}`, {
      replacements: { id, total: Number(c.n) },
      type: QueryTypes.SELECT,
    });
    return row ? toRecord(row) : undefined;
  }

  /**
   * One chunk, one transaction: locks the send (a cancel waits for the chunk, and the next chunk sees it), takes the
   * next `size` recipients after the cursor, inserts the rows that do not exist yet with their channel jobs (the
   * same keyed per-batch jobs as an inline send: a job already queued for the batch takes the new rows too, and
   * the deliveries table sends each row once), and advances the cursor and the count. `pushed_to` moves to the old
   * cursor: the caller published the previous chunk before asking for this one. Undefined when the send is not
   * running (cancelled, finished, gone).
   */
  async chunk(id: string, size: number, hooks: { beforeCommit?: () => Promise<void> } = {}): Promise<ChunkResult | undefined> {
    return this.#db.transaction(async (transaction) => {
      // The rows reference the content on this row (stored once): a chunk writes only what is each recipient's.
      const [b] = await this.#db.query<{
        audience: Audience; cursor: number; audience_max_id: number; audience_as_of: Date; sender_id: number | null;
        course_id: number | null; type: NotificationType;
      }>(
        `SELECT audience, cursor, audience_max_id, audience_as_of, sender_id, course_id, type
           FROM broadcasts WHERE id = :id AND status = 'running' FOR UPDATE`,
        { replacements: { id }, type: QueryTypes.SELECT, transaction },
      );
      if (!b) return undefined;
      const { sql, params } = fixedAudienceSql(b.audience, { limit: true });
      const [row] = await this.#db.query<Row & { inserted: number; found: number }>(
        `WITH ids AS MATERIALIZED (${sql}),
         aud AS MATERIALIZED (
           SELECT r.id, ep.in_app, ep.email, ep.push FROM ids r LEFT ${effectivePreferencesJoin('ep', 'r.id', ':type')}
         ),
         sent AS (
           ${insertSendRowsSql('CAST(:id AS uuid)', 'ON CONFLICT (batch_id, recipient_id) WHERE batch_id IS NOT NULL DO NOTHING')}),
         jobs AS (${batchJobsSql('aud', 'sent', 'CAST(:id AS text)', this.#timing)}),
         counts AS (SELECT (SELECT count(*) FROM sent) AS inserted, (SELECT count(*) FROM aud) AS found,
                           (SELECT max(id) FROM aud) AS last, (SELECT count(*) FROM jobs) AS jobs)
         UPDATE broadcasts b
            SET cursor = coalesce(c.last, b.cursor), pushed_to = b.cursor, recipients = b.recipients + c.inserted,
                status = CASE WHEN c.found < :limit THEN 'finished' ELSE b.status END,
                finished_at = CASE WHEN c.found < :limit THEN now() END
           FROM counts c
          WHERE b.id = CAST(:id AS uuid)
          RETURNING ${columns('b')}, c.inserted, c.found`,
        {
          replacements: {
            ...params,
            id,
            afterId: b.cursor,
            audienceMaxId: b.audience_max_id,
            audienceAsOf: b.audience_as_of,
            limit: size,
            senderId: b.sender_id,
            courseId: b.course_id,
            type: b.type,
          },
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      await hooks.beforeCommit?.();
      return { after: b.cursor, upTo: row.cursor, inserted: Number(row.inserted), send: toRecord(row) };
    });
  }

  /** Records that the frames of every chunk up to `upTo` were published (the last chunk's, after it). */
  async markPushed(id: string, upTo: number): Promise<void> {
    await this.#db.query('UPDATE broadcasts SET pushed_to = greatest(pushed_to, :upTo) WHERE id = :id', { replacements: { id, upTo } });
  }

  /**
   * Stops a queued or running send: no chunk commits after this statement (it waits for a chunk in flight, whose
   * lock it needs, and every later chunk sees the status). Undefined when the send does not exist.
   */
  async cancel(id: string): Promise<SendRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.#db.query<Row>(
      `UPDATE broadcasts SET status = CASE WHEN status IN ('queued', 'running') THEN 'cancelled' ELSE status END,
              finished_at = CASE WHEN status IN ('queued', 'running') THEN now() ELSE finished_at END
        WHERE id = :id RETURNING ${COLUMNS}`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    return row ? toRecord(row) : undefined;
  }
}
