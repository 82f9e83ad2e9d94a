import { QueryTypes, type Sequelize } from 'sequelize';
import { likePattern } from '../../../db/sql';
import type { NotificationType } from '../../../models';
import { offsetOf, offsetPage, type Page, type PageRequest } from '../../paging';
import {
  selectNotifications,
  toNotificationWithRecipient,
  WITH_RECIPIENT,
  type NotificationWithRecipient,
  type RecipientRow,
} from './shape';

/** The sortable columns of the moderation table; the API accepts only these keys. */
export const NOTIFICATION_SORTS = ['created_at', 'title', 'type', 'recipient'] as const;
export type NotificationSort = (typeof NOTIFICATION_SORTS)[number];

/** Filters over every user's notifications. Every field is optional and they combine with AND. */
export interface NotificationFilter {
  /** A user id, or text matched (case-insensitively, as a substring) against the recipient's email or name. */
  recipient?: number | string;
  type?: NotificationType;
  status?: 'all' | 'unread' | 'read';
  /** created_at >= from */
  from?: Date;
  /** created_at <= to */
  to?: Date;
  /** created_at < until (a whole day given as a date ends at the next midnight, which it excludes) */
  until?: Date;
  /** Text in the title or the message. */
  q?: string;
  sort?: NotificationSort;
  order?: 'asc' | 'desc';
}

// Column expressions the table may sort by. The SQL only ever contains these strings, never input.
const SORT_COLUMNS: Record<NotificationSort, string> = {
  created_at: 'n.created_at',
  title: 'lower(n.title)',
  type: 'n.type',
  recipient: 'lower(r.name)',
};

function whereOf(f: NotificationFilter): { sql: string; replacements: Record<string, unknown> } {
  const where: string[] = [];
  const replacements: Record<string, unknown> = {};
  if (typeof f.recipient === 'number') {
    where.push('n.recipient_id = :recipientId');
    replacements.recipientId = f.recipient;
  } else if (f.recipient) {
    where.push(`(r.email ILIKE :recipientLike ESCAPE '\\' OR r.name ILIKE :recipientLike ESCAPE '\\')`);
    replacements.recipientLike = likePattern(f.recipient);
  }
  if (f.type) {
    where.push('n.type = :type');
    replacements.type = f.type;
  }
  if (f.status === 'unread') where.push('n.read_at IS NULL');
  if (f.status === 'read') where.push('n.read_at IS NOT NULL');
  for (const [key, op] of [['from', '>='], ['to', '<='], ['until', '<']] as const) {
    if (f[key]) {
      where.push(`n.created_at ${op} :${key}`);
      replacements[key] = f[key];
    }
  }
  if (f.q) {
    where.push(`(n.title ILIKE :q ESCAPE '\\' OR n.message ILIKE :q ESCAPE '\\')`);
    replacements.q = likePattern(f.q);
  }
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', replacements };
}

/** One statement: the page and the total together (see `offsetPage` for the page past the end). */
export async function searchNotifications(
  db: Sequelize,
  f: NotificationFilter,
  p: PageRequest,
): Promise<Page<NotificationWithRecipient>> {
  const where = whereOf(f);
  const dir = f.order === 'asc' ? 'ASC' : 'DESC';
  // Ties broken by id in the same direction, so a row never appears on two pages.
  const orderSql = `ORDER BY ${SORT_COLUMNS[f.sort ?? 'created_at']} ${dir}, n.id ${dir}`;
  const rows = await db.query<RecipientRow & { total: string }>(
    `${selectNotifications({ columns: ['count(*) OVER () AS total'] }, WITH_RECIPIENT)}
     ${where.sql} ${orderSql} LIMIT :limit OFFSET :offset`,
    { replacements: { ...where.replacements, limit: p.pageSize, offset: offsetOf(p) }, type: QueryTypes.SELECT },
  );
  return offsetPage(p, rows, toNotificationWithRecipient, async () => {
    const [row] = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM notifications n JOIN users r ON r.id = n.recipient_id ${where.sql}`,
      { replacements: where.replacements, type: QueryTypes.SELECT },
    );
    return Number(row.n);
  });
}
