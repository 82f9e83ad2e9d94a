import { randomUUID } from 'node:crypto';
import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import type { NotificationType, Role } from '../../models';
import { BadRequest, NotFound } from '../../errors';
import type { EventPublisher } from '../events';
import { NOTIFICATION_SELECT, toNotificationJSON, type NotificationJSON, type NotificationRow } from './serialize';

export { toNotificationJSON, type NotificationJSON, type NotificationRow } from './serialize';

/** One notification for one recipient, as domain triggers create it. */
export interface NewNotification {
  recipientId: number;
  senderId?: number | null;
  type: NotificationType;
  title: string;
  message?: string;
  data?: Record<string, unknown>;
  applicationId?: number | null;
  courseId?: number | null;
}

/** Who a fan-out reaches. Each kind is a SELECT of user ids, so the fan-out stays one statement. */
export type Audience =
  | { kind: 'course'; courseId: number }
  | { kind: 'user'; userId: number }
  | { kind: 'role'; role: Role }
  | { kind: 'all' };

export interface FanOutContent {
  type: NotificationType;
  title: string;
  message: string;
  data?: Record<string, unknown>;
  senderId: number | null;
  courseId?: number | null;
}

/** What a fan-out did. `batchId` is also the id of its broadcast row. */
export interface FanOutResult {
  recipients: number;
  batchId: string;
  /** True when an earlier send with the same idempotency key answered instead: nothing was sent this time. */
  replayed: boolean;
}

/** A fan-out as its sender sees it afterwards (the "recently sent" list). */
export interface BroadcastJSON {
  id: string;
  type: NotificationType;
  title: string;
  recipients: number;
  created_at: string;
  sender: { id: number; name: string } | null;
}

interface BroadcastRow {
  id: string;
  type: NotificationType;
  title: string;
  recipients: number;
  created_at: Date;
  sender_id: number | null;
  sender_name: string | null;
}

const IDEMPOTENCY_CONSTRAINT = 'broadcasts_sender_idempotency_key';

export interface ListOptions {
  status: 'all' | 'unread' | 'read';
  type?: NotificationType;
  limit: number;
  cursor?: string;
}

export interface NotificationPage {
  results: NotificationJSON[];
  next_cursor: string | null;
  unread_count: number;
}

/** What the bell shows: the badge and the latest few. Pages, htmx answers and socket pushes all render it. */
export interface BellView {
  unreadCount: number;
  latest: NotificationJSON[];
}

/** How many notifications the bell's dropdown lists. */
export const BELL_SIZE = 5;

/** Active users only: a deactivated account receives nothing. */
function audienceSql(a: Audience): { sql: string; params: Record<string, unknown> } {
  switch (a.kind) {
    case 'course':
      return {
        sql: `SELECT e.student_id FROM enrollments e JOIN users u ON u.id = e.student_id AND u.is_active
               WHERE e.course_id = :audienceCourseId`,
        params: { audienceCourseId: a.courseId },
      };
    case 'user':
      return { sql: 'SELECT id FROM users WHERE id = :audienceUserId AND is_active', params: { audienceUserId: a.userId } };
    case 'role':
      return { sql: 'SELECT id FROM users WHERE role = :audienceRole AND is_active', params: { audienceRole: a.role } };
    case 'all':
      return { sql: 'SELECT id FROM users WHERE is_active', params: {} };
  }
}

/** notifications.title is varchar(200); a trigger's title quotes a course title that may itself be 200 long. */
const TITLE_MAX = 200;
function clip(text: string, max: number): string {
  const chars = Array.from(text); // code points, as PostgreSQL counts them: never split a surrogate pair
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function isIdempotencyConflict(err: unknown): boolean {
  return err instanceof UniqueConstraintError && (err.parent as { constraint?: string }).constraint === IDEMPOTENCY_CONSTRAINT;
}

const CURSOR_RE = /^n(\d{1,18})$/;

/** Keyset cursors are opaque to clients; inside they are the last id seen. */
export function encodeCursor(id: number): string {
  return Buffer.from(`n${id}`).toString('base64url');
}
export function decodeCursor(cursor: string): number {
  const m = CURSOR_RE.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m || cursor.length > 40) throw new BadRequest('The cursor is invalid.', { field: 'cursor' });
  return Number(m[1]);
}

/**
 * Creates, reads and marks notifications. Every change publishes an event after its transaction commits;
 * the realtime layer turns those into pushes. Nothing here knows about HTTP or sockets.
 */
export class NotificationService {
  readonly #db: Sequelize;
  readonly #events: EventPublisher;

  constructor(deps: { sequelize: Sequelize; events: EventPublisher }) {
    this.#db = deps.sequelize;
    this.#events = deps.events;
  }

  /**
   * Inserts one notification inside the caller's transaction (so it commits or rolls back with the change
   * that caused it) and announces it once that transaction commits.
   */
  async create(n: NewNotification, transaction: Transaction): Promise<number> {
    const [rows] = (await this.#db.query(
      `INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, application_id, course_id)
       VALUES (:recipientId, :senderId, :type, :title, :message, CAST(:data AS jsonb), :applicationId, :courseId)
       RETURNING id`,
      {
        transaction,
        replacements: {
          recipientId: n.recipientId,
          senderId: n.senderId ?? null,
          type: n.type,
          title: clip(n.title, TITLE_MAX),
          message: n.message ?? '',
          data: JSON.stringify(n.data ?? {}),
          applicationId: n.applicationId ?? null,
          courseId: n.courseId ?? null,
        },
      },
    )) as [Array<{ id: string }>, unknown];
    const id = Number(rows[0].id);
    transaction.afterCommit(() => this.#events.publish({ type: 'notification.created', recipientId: n.recipientId, id }));
    return id;
  }

  /**
   * Sends one notification to a whole audience with a single statement: a data-modifying CTE inserts the rows
   * (INSERT ... SELECT) and the same statement records the broadcast with their count, so the broadcast row
   * exists exactly when the notifications do, all or none, whatever the audience's size. The event names the
   * batch, not the recipients.
   *
   * With an `idempotencyKey` (per sender; ignored without one) a repeated send writes nothing and returns the
   * first send's result with `replayed: true`, so a retry after a lost answer never delivers a second copy.
   */
  async fanOut(audience: Audience, content: FanOutContent, opts: { idempotencyKey?: string } = {}): Promise<FanOutResult> {
    const { sql, params } = audienceSql(audience);
    const batchId = randomUUID();
    const idempotencyKey = opts.idempotencyKey ?? null;
    let rows: Array<{ recipients: number }>;
    try {
      rows = await this.#db.query<{ recipients: number }>(
        `WITH sent AS (
           INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, course_id, batch_id)
           SELECT r.id, :senderId, :type, :title, :message, CAST(:data AS jsonb), :courseId, :batchId
             FROM (${sql}) AS r(id)
             -- A key already used: skip the rows (the broadcast INSERT below then fails on the key) rather than
             -- write thousands only to roll them back.
            WHERE NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.sender_id = :senderId AND b.idempotency_key = :idempotencyKey)
           RETURNING 1)
         INSERT INTO broadcasts (id, sender_id, course_id, audience, type, title, recipients, idempotency_key)
         SELECT CAST(:batchId AS uuid), :senderId, :courseId, CAST(:audience AS jsonb), :type, :title, count(*), :idempotencyKey
           FROM sent
         RETURNING recipients`,
        {
          replacements: {
            ...params,
            senderId: content.senderId,
            type: content.type,
            title: clip(content.title, TITLE_MAX),
            message: content.message,
            data: JSON.stringify(content.data ?? {}),
            courseId: content.courseId ?? null,
            batchId,
            audience: JSON.stringify(audience),
            idempotencyKey,
          },
          type: QueryTypes.SELECT,
        },
      );
    } catch (err) {
      // The key's first send committed (before this statement began, or while it waited on the key's index
      // entry): this whole statement rolled back, and the first result is the answer.
      if (idempotencyKey === null || !isIdempotencyConflict(err)) throw err;
      const [first] = await this.#db.query<{ id: string; recipients: number }>(
        'SELECT id, recipients FROM broadcasts WHERE sender_id = :senderId AND idempotency_key = :idempotencyKey',
        { replacements: { senderId: content.senderId, idempotencyKey }, type: QueryTypes.SELECT },
      );
      if (!first) throw err;
      return { recipients: first.recipients, batchId: first.id, replayed: true };
    }
    const recipients = rows[0].recipients;
    if (recipients > 0) {
      this.#events.publish({
        type: 'notification.fanout',
        batchId,
        count: recipients,
        courseId: content.courseId ?? null,
        notificationType: content.type,
      });
    }
    return { recipients, batchId, replayed: false };
  }

  /** A course's latest broadcasts, newest first, with their senders. */
  async courseBroadcasts(courseId: number, limit = 20): Promise<BroadcastJSON[]> {
    const rows = await this.#db.query<BroadcastRow>(
      `SELECT b.id, b.type, b.title, b.recipients, b.created_at, b.sender_id, s.name AS sender_name
         FROM broadcasts b LEFT JOIN users s ON s.id = b.sender_id
        WHERE b.course_id = :courseId
        ORDER BY b.created_at DESC, b.id
        LIMIT :limit`,
      { replacements: { courseId, limit }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      title: r.title,
      recipients: r.recipients,
      created_at: new Date(r.created_at).toISOString(),
      sender: r.sender_id === null ? null : { id: r.sender_id, name: r.sender_name ?? '' },
    }));
  }

  /** How many users an audience reaches right now (the admin's confirmation step). */
  async audienceSize(audience: Audience): Promise<number> {
    const { sql, params } = audienceSql(audience);
    const [row] = await this.#db.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) AS r(id)`, {
      replacements: params,
      type: QueryTypes.SELECT,
    });
    return Number(row.n);
  }

  async list(userId: number, opts: ListOptions): Promise<NotificationPage> {
    const where = ['n.recipient_id = :userId'];
    const replacements: Record<string, unknown> = { userId, limit: opts.limit + 1 };
    if (opts.status === 'unread') where.push('n.read_at IS NULL');
    if (opts.status === 'read') where.push('n.read_at IS NOT NULL');
    if (opts.type) {
      where.push('n.type = :type');
      replacements.type = opts.type;
    }
    if (opts.cursor) {
      where.push('n.id < :before');
      replacements.before = decodeCursor(opts.cursor);
    }
    const rows = await this.#db.query<NotificationRow>(
      `${NOTIFICATION_SELECT} WHERE ${where.join(' AND ')} ORDER BY n.id DESC LIMIT :limit`,
      { replacements, type: QueryTypes.SELECT },
    );
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return {
      results: page.map(toNotificationJSON),
      next_cursor: more ? encodeCursor(Number(page[page.length - 1].id)) : null,
      unread_count: await this.unreadCount(userId),
    };
  }

  /**
   * The bell: the latest notifications and the unread count in one statement. No row means no notification at
   * all, so no unread one either.
   */
  async bell(userId: number): Promise<BellView> {
    const rows = await this.#db.query<NotificationRow & { unread: string }>(
      `SELECT l.*, (SELECT count(*) FROM notifications u WHERE u.recipient_id = :userId AND u.read_at IS NULL) AS unread
         FROM (${NOTIFICATION_SELECT} WHERE n.recipient_id = :userId ORDER BY n.id DESC LIMIT :limit) l
        ORDER BY l.id DESC`,
      { replacements: { userId, limit: BELL_SIZE }, type: QueryTypes.SELECT },
    );
    return { unreadCount: rows.length > 0 ? Number(rows[0].unread) : 0, latest: rows.map(toNotificationJSON) };
  }

  async get(userId: number, id: number): Promise<NotificationJSON> {
    const [row] = await this.#db.query<NotificationRow>(
      `${NOTIFICATION_SELECT} WHERE n.id = :id AND n.recipient_id = :userId`,
      { replacements: { id, userId }, type: QueryTypes.SELECT },
    );
    if (!row) throw new NotFound('Notification');
    return toNotificationJSON(row);
  }

  /** Rows by id, whoever their recipient: for the realtime layer, which routes each row to its recipient. */
  async byIds(ids: number[]): Promise<Array<NotificationJSON & { recipient_id: number }>> {
    if (ids.length === 0) return [];
    const rows = await this.#db.query<NotificationRow>(`${NOTIFICATION_SELECT} WHERE n.id IN (:ids) ORDER BY n.id`, {
      replacements: { ids },
      type: QueryTypes.SELECT,
    });
    return rows.map((r) => ({ ...toNotificationJSON(r), recipient_id: r.recipient_id }));
  }

  /** Everything a user missed after `sinceId`, oldest first (the socket's `?since=` replay), bounded. */
  async since(userId: number, sinceId: number, limit = 200): Promise<NotificationJSON[]> {
    const rows = await this.#db.query<NotificationRow>(
      `${NOTIFICATION_SELECT} WHERE n.recipient_id = :userId AND n.id > :sinceId ORDER BY n.id ASC LIMIT :limit`,
      { replacements: { userId, sinceId, limit }, type: QueryTypes.SELECT },
    );
    return rows.map(toNotificationJSON);
  }

  async unreadCount(userId: number): Promise<number> {
    const [row] = await this.#db.query<{ n: string }>(
      'SELECT count(*) AS n FROM notifications WHERE recipient_id = :userId AND read_at IS NULL',
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
    return Number(row.n);
  }

  /** Unread counts for many users in one statement (a fan-out's pushes need every recipient's badge). */
  async unreadCounts(userIds: number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>(userIds.map((id) => [id, 0]));
    if (userIds.length === 0) return counts;
    const rows = await this.#db.query<{ recipient_id: number; n: string }>(
      `SELECT recipient_id, count(*) AS n FROM notifications
        WHERE recipient_id = ANY(CAST(:ids AS integer[])) AND read_at IS NULL GROUP BY recipient_id`,
      { replacements: { ids: `{${userIds.join(',')}}` }, type: QueryTypes.SELECT },
    );
    for (const r of rows) counts.set(r.recipient_id, Number(r.n));
    return counts;
  }

  /** Marks one of the user's notifications read; idempotent. Another user's id is a 404. */
  async markRead(userId: number, id: number): Promise<NotificationJSON> {
    const [updated] = (await this.#db.query(
      `UPDATE notifications SET read_at = now() WHERE id = :id AND recipient_id = :userId AND read_at IS NULL RETURNING id`,
      { replacements: { id, userId } },
    )) as [Array<{ id: string }>, unknown];
    const notification = await this.get(userId, id);
    if (updated.length > 0) this.#events.publish({ type: 'notification.read', recipientId: userId, ids: [id] });
    return notification;
  }

  /** One UPDATE for all of the user's unread notifications. */
  async markAllRead(userId: number): Promise<number> {
    const [, affected] = (await this.#db.query(
      'UPDATE notifications SET read_at = now() WHERE recipient_id = :userId AND read_at IS NULL',
      { replacements: { userId }, type: QueryTypes.UPDATE },
    )) as [unknown, number];
    const n = Number(affected) || 0;
    if (n > 0) this.#events.publish({ type: 'notification.read_all', recipientId: userId });
    return n;
  }

  async remove(userId: number, id: number): Promise<void> {
    const [rows] = (await this.#db.query(
      'DELETE FROM notifications WHERE id = :id AND recipient_id = :userId RETURNING id',
      { replacements: { id, userId } },
    )) as [Array<{ id: string }>, unknown];
    if (rows.length === 0) throw new NotFound('Notification');
    this.#events.publish({ type: 'notification.deleted', recipientId: userId, ids: [id] });
  }
}
