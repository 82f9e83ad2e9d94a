import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationType } from '../../../models';
import type { NotificationJSON, NotificationWithRecipient } from '../../../wire';
import {
  intArray,
  isSilentSql,
  selectNotifications,
  toNotificationJSON,
  toNotificationWithRecipient,
  WITH_RECIPIENT,
  WITH_SILENT,
  type NotificationRow,
  type RecipientRow,
} from './shape';
import { matchesSql, searchPageSql } from './fulltext';

/** Which of a user's lists: the inbox (All / Unread / Read: neither done nor snoozed), Done, Snoozed. */
export const LIST_STATUSES = ['all', 'unread', 'read', 'done', 'snoozed'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

/** One user's list, newest first; `before` is the keyset (the last sort key of the previous page). */
export interface OwnListQuery {
  status: ListStatus;
  /** Any of these types (none: every type). */
  types?: NotificationType[];
  /** None of these types. */
  excludeTypes?: NotificationType[];
  /** Full-text search (websearch syntax) over title, message, sender and course. */
  q?: string;
  /** Only the members of this group (its key as groups.ts makes it: `n:<id>` or a shared key): a group expanded. */
  groupKey?: string;
  /** Only notifications about this course. */
  courseId?: number;
  /** created_at >= from; created_at <= to; created_at < until (a whole day's end, excluded). */
  from?: Date;
  to?: Date;
  until?: Date;
  before?: number;
  limit: number;
}

/** Neither done nor snoozed: what All / Unread / Read and the bell show (notifications_inbox_idx). */
export const IN_INBOX = (alias: string) => `${alias}.done_at IS NULL AND ${alias}.snoozed_until IS NULL`;

// Each list's condition matches the predicate of its partial index (see the inbox-states migration). Done and
// snoozed rows are always read, so "read_at IS NULL" alone is the Unread tab (notifications_unread_idx).
export function listWhere(status: ListStatus, a: string): string {
  switch (status) {
    case 'all':
      return IN_INBOX(a);
    case 'unread':
      return `${a}.read_at IS NULL AND ${IN_INBOX(a)}`;
    case 'read':
      return `${a}.read_at IS NOT NULL AND ${IN_INBOX(a)}`;
    case 'done':
      return `${a}.done_at IS NOT NULL`;
    case 'snoozed':
      return `${a}.snoozed_until IS NOT NULL`;
  }
}

/**
 * The conditions of one user's list on alias `a` (status, types, search; not the cursor), adding their values to
 * `replacements`: the plain list and the grouped one filter rows alike.
 */
export function ownListWhere(q: Omit<OwnListQuery, 'before' | 'limit'>, a: string, replacements: Record<string, unknown>): string[] {
  const where = [`${a}.recipient_id = :userId`, listWhere(q.status, a)];
  if (q.types?.length) {
    where.push(`${a}.type IN (:types)`);
    replacements.types = q.types;
  }
  if (q.excludeTypes?.length) {
    where.push(`${a}.type NOT IN (:excludeTypes)`);
    replacements.excludeTypes = q.excludeTypes;
  }
  if (q.q) {
    where.push(matchesSql(a));
    replacements.q = q.q;
  }
  if (q.courseId !== undefined) {
    where.push(`${a}.course_id = :courseId`);
    replacements.courseId = q.courseId;
  }
  for (const [key, op] of [['from', '>='], ['to', '<='], ['until', '<']] as const) {
    const at = q[key];
    if (at === undefined) continue;
    where.push(`${a}.created_at ${op} :${key}`);
    replacements[key] = at;
  }
  if (q.groupKey !== undefined) {
    // A shared key reads notifications_group_idx (recipient, key, sort key); a single row's key is its id.
    const single = /^n:(\d+)$/.exec(q.groupKey);
    where.push(single ? `${a}.id = :groupId` : `${a}.group_key = :groupKey`);
    if (single) replacements.groupId = Number(single[1]);
    else replacements.groupKey = q.groupKey;
  }
  return where;
}

/**
 * Every read of notification rows, each in the shape of `shape.ts`. Reads for many users (the realtime layer's)
 * are one statement for the whole set, never one per user.
 */
/** One recipient's row of a fan-out batch, as the live push needs it. */
export interface BatchRow {
  id: number;
  recipientId: number;
  /** The recipient's unread count now. */
  unread: number;
  /** Read before the push went out (another tab, the API): when; null while unread. */
  readAt: string | null;
}

export class NotificationReads {
  protected readonly db: Sequelize;

  constructor(sequelize: Sequelize) {
    this.db = sequelize;
  }

  /** One list of the user's, by sort key (a woken row comes back on top); each row with its key for the cursor. */
  async own(userId: number, q: OwnListQuery): Promise<Array<{ n: NotificationJSON; sortKey: number }>> {
    const replacements: Record<string, unknown> = { userId, limit: q.limit };
    if (q.before !== undefined) replacements.before = q.before;
    const list = (a: string, search = true) => {
      const where = ownListWhere({ ...q, q: search ? q.q : undefined }, a, replacements);
      if (q.before !== undefined) where.push(`${a}.sort_key < :before`);
      return where.join(' AND ');
    };
    // A search finds its page's ids first (see searchPageSql), then reads only those rows in the shape.
    const sql = q.q
      ? `WITH ${searchPageSql((a) => list(a, false))}
         ${selectNotifications({ joins: ['JOIN page p ON p.id = n.id'] })}
         WHERE n.recipient_id = :userId ORDER BY n.sort_key DESC LIMIT :limit`
      : `${selectNotifications()} WHERE ${list('n')} ORDER BY n.sort_key DESC LIMIT :limit`;
    if (q.q) replacements.q = q.q;
    const rows = await this.db.query<NotificationRow>(sql, { replacements, type: QueryTypes.SELECT });
    return rows.map((r) => ({ n: toNotificationJSON(r), sortKey: Number(r.sort_key) }));
  }

  /** Whether the user has any notification in the group `key` (groups.ts's form), in any list: its owner's check. */
  async hasGroup(userId: number, key: string): Promise<boolean> {
    const single = /^n:(\d+)$/.exec(key);
    const rows = await this.db.query(
      `SELECT 1 FROM notifications WHERE recipient_id = :userId AND ${single ? 'id = :id' : 'group_key = :key'} LIMIT 1`,
      { replacements: { userId, key, id: single ? Number(single[1]) : null }, type: QueryTypes.SELECT },
    );
    return rows.length > 0;
  }

  /** One of the user's notifications (undefined for another user's id as for a missing one). */
  async ownOne(userId: number, id: number): Promise<NotificationJSON | undefined> {
    const [row] = await this.db.query<NotificationRow>(`${selectNotifications()} WHERE n.id = :id AND n.recipient_id = :userId`, {
      replacements: { id, userId },
      type: QueryTypes.SELECT,
    });
    return row ? toNotificationJSON(row) : undefined;
  }

  /**
   * Rows by id, whoever their recipient, oldest first, each saying whether it is silent (see isSilentSql) and with
   * its position (sort key: the id, or the key it took when it woke) for the live frame.
   */
  async byIds(ids: number[]): Promise<Array<NotificationJSON & { recipient_id: number; silent: boolean; position: number }>> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<NotificationRow & { silent: boolean }>(
      `${selectNotifications(WITH_SILENT)} WHERE n.id = ANY(CAST(:ids AS bigint[])) ORDER BY n.id`,
      { replacements: { ids: intArray(ids) }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ ...toNotificationJSON(r), recipient_id: r.recipient_id, silent: r.silent, position: Number(r.sort_key) }));
  }

  /**
   * The replay of `?since=` / Last-Event-ID: the user's inbox rows whose position (sort key) is after `after`, in
   * delivery order (oldest position first), at most `limit`. By position, not id: a row that woke while the client
   * was away keeps its old id but took a new position, so it is replayed exactly once, where the live push put it.
   * Done and snoozed rows are left out (notifications_inbox_idx, the same rows as the lists the replay feeds): a
   * snoozed one is in no list until it wakes (its wake is then replayed), a done one lives under "Done", which a
   * client reads when it opens it, like the bell and the All list that leave it out.
   */
  async since(userId: number, after: number, limit: number): Promise<Array<{ n: NotificationJSON; position: number }>> {
    const rows = await this.db.query<NotificationRow>(
      `${selectNotifications()} WHERE n.recipient_id = :userId AND ${IN_INBOX('n')} AND n.sort_key > :after
        ORDER BY n.sort_key ASC LIMIT :limit`,
      { replacements: { userId, after, limit }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ n: toNotificationJSON(r), position: Number(r.sort_key) }));
  }

  async unreadCount(userId: number): Promise<number> {
    const [row] = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM notifications WHERE recipient_id = :userId AND read_at IS NULL',
      { replacements: { userId }, type: QueryTypes.SELECT },
    );
    return Number(row.n);
  }

  /** Unread counts for many users in one statement; users without unread notifications map to 0. */
  async unreadCounts(userIds: number[]): Promise<Map<number, number>> {
    const counts = new Map<number, number>(userIds.map((id) => [id, 0]));
    if (userIds.length === 0) return counts;
    const rows = await this.db.query<{ recipient_id: number; n: string }>(
      `SELECT recipient_id, count(*) AS n FROM notifications
        WHERE recipient_id = ANY(CAST(:ids AS integer[])) AND read_at IS NULL GROUP BY recipient_id`,
      { replacements: { ids: intArray(userIds) }, type: QueryTypes.SELECT },
    );
    for (const r of rows) counts.set(r.recipient_id, Number(r.n));
    return counts;
  }

  /**
   * Each user's unread count and newest position (the highest id, or a woken row's higher sort key) in one
   * statement (index scans each). The snapshot sends the count; the position is where a later resync replays from.
   */
  async states(userIds: number[]): Promise<Map<number, { unread: number; maxPosition: number }>> {
    const out = new Map<number, { unread: number; maxPosition: number }>();
    if (userIds.length === 0) return out;
    const rows = await this.db.query<{ uid: number; unread: string; max_position: string | null }>(
      `SELECT u.uid,
              (SELECT count(*) FROM notifications n WHERE n.recipient_id = u.uid AND n.read_at IS NULL) AS unread,
              GREATEST((SELECT max(n.id) FROM notifications n WHERE n.recipient_id = u.uid),
                       (SELECT max(n.sort_key) FROM notifications n WHERE n.recipient_id = u.uid AND ${IN_INBOX('n')})) AS max_position
         FROM unnest(CAST(:ids AS integer[])) AS u(uid)`,
      { replacements: { ids: intArray(userIds) }, type: QueryTypes.SELECT },
    );
    for (const r of rows) out.set(r.uid, { unread: Number(r.unread), maxPosition: Number(r.max_position ?? 0) });
    return out;
  }

  /**
   * The newest `limit` unread notifications of each user, newest first, in one statement (an index scan of
   * notifications_unread_idx each): the bell's Unread tab in a snapshot. Unread rows are never done nor snoozed.
   */
  async unreadFor(userIds: number[], limit: number): Promise<Map<number, NotificationJSON[]>> {
    const out = new Map<number, NotificationJSON[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return out;
    const rows = await this.db.query<NotificationRow>(
      `SELECT l.* FROM unnest(CAST(:ids AS integer[])) AS u(uid)
         CROSS JOIN LATERAL (${selectNotifications()} WHERE n.recipient_id = u.uid AND n.read_at IS NULL
                             ORDER BY n.sort_key DESC LIMIT :limit) l
        ORDER BY l.recipient_id, l.sort_key DESC`,
      { replacements: { ids: intArray(userIds), limit }, type: QueryTypes.SELECT },
    );
    for (const r of rows) out.get(r.recipient_id)?.push(toNotificationJSON(r));
    return out;
  }

  /**
   * The (id, recipient, recipient's unread count, read time) rows of one fan-out batch for these recipients only:
   * one statement (the count is an index-only scan of notifications_unread_idx per recipient). Silent rows are left
   * out; a row read before its push went out is in it, with its read time (the tab still lists it, as read).
   */
  async batchRows(batchId: string, userIds: number[], range?: { after: number; upTo: number }): Promise<BatchRow[]> {
    if (userIds.length === 0) return [];
    // A recorded send's chunk: its recipients only (the unique (batch_id, recipient_id) index serves the range).
    const inRange = range ? 'AND b.recipient_id > :after AND b.recipient_id <= :upTo' : '';
    const rows = await this.db.query<{ id: string; recipient_id: number; unread: string; read_at: Date | null }>(
      `SELECT b.id, b.recipient_id, b.read_at,
              (SELECT count(*) FROM notifications u WHERE u.recipient_id = b.recipient_id AND u.read_at IS NULL) AS unread
         FROM notifications b
        WHERE b.batch_id = CAST(:batchId AS uuid) AND b.recipient_id = ANY(CAST(:ids AS integer[])) ${inRange}
          AND NOT ${isSilentSql('b')}`,
      { replacements: { batchId, ids: intArray(userIds), after: range?.after ?? 0, upTo: range?.upTo ?? 0 }, type: QueryTypes.SELECT },
    );
    const out = new Array<BatchRow>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = { id: Number(r.id), recipientId: r.recipient_id, unread: Number(r.unread), readAt: r.read_at ? new Date(r.read_at).toISOString() : null };
    }
    return out;
  }

  /**
   * The content every row of a fan-out batch shares, as a new (unread) notification: which row it is read from
   * does not matter, and its read state is each recipient's own (batchRows).
   */
  async batchContent(batchId: string): Promise<NotificationJSON | undefined> {
    const [row] = await this.db.query<NotificationRow>(
      `${selectNotifications()} WHERE n.batch_id = CAST(:batchId AS uuid) LIMIT 1`,
      { replacements: { batchId }, type: QueryTypes.SELECT },
    );
    return row ? { ...toNotificationJSON(row), is_read: false, read_at: null } : undefined;
  }

  /** Any user's notification with its recipient (moderation). */
  async withRecipient(id: number): Promise<NotificationWithRecipient | undefined> {
    const [row] = await this.db.query<RecipientRow>(`${selectNotifications(WITH_RECIPIENT)} WHERE n.id = :id`, {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    return row ? toNotificationWithRecipient(row) : undefined;
  }
}
