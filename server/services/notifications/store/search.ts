import { QueryTypes, type Sequelize } from 'sequelize';
import { likePattern } from '../../../db/sql';
import type { NotificationType } from '../../../models';
import type { NotificationWithRecipient } from '../../../wire';
import { offsetOf, offsetPage, type Page, type PageRequest } from '../../paging';
import { broadcastMatchSql, matchesSql, ownMatchSql } from './fulltext';
import { IN_INBOX } from './reads';
import {
  selectNotifications,
  toNotificationWithRecipient,
  WITH_RECIPIENT,
  type RecipientRow,
} from './shape';

/** The sortable columns of the moderation table; the API accepts only these keys. */
export const NOTIFICATION_SORTS = ['created_at', 'title', 'type', 'recipient'] as const;
export type NotificationSort = (typeof NOTIFICATION_SORTS)[number];

/**
 * The states a moderator filters by. Each row is in exactly one: unread; read (in the inbox); done; snoozed.
 * Done and snoozed rows are always read (see the inbox-states migration), so "read" leaves them out.
 */
export const MODERATION_STATES = ['all', 'unread', 'read', 'done', 'snoozed'] as const;
export type ModerationState = (typeof MODERATION_STATES)[number];

/** Filters over every user's notifications. Every field is optional and they combine with AND. */
export interface NotificationFilter {
  /** A user id, or text matched (case-insensitively, as a substring) against the recipient's email or name. */
  recipient?: number | string;
  /** The same for the sender. */
  sender?: number | string;
  /** Any of these types (none or empty: every type). */
  types?: NotificationType[];
  /** None of these types. */
  excludeTypes?: NotificationType[];
  courseId?: number;
  status?: ModerationState;
  /** created_at >= from */
  from?: Date;
  /** created_at <= to */
  to?: Date;
  /** created_at < until (a whole day given as a date ends at the next midnight, which it excludes) */
  until?: Date;
  /** Full-text search (websearch syntax) over title, message, sender and course: the inbox's index. */
  q?: string;
  sort?: NotificationSort;
  order?: 'asc' | 'desc';
}

// Column expressions the table may sort by. The SQL only ever contains these strings, never input.
const SORT_COLUMNS: Record<NotificationSort, string> = {
  created_at: 'n.created_at',
  // A fan-out row's title is its broadcast's (`nb`, joined as the shape joins it: the page and the shape sort alike).
  title: 'lower(COALESCE(n.title, nb.title))',
  type: 'n.type',
  recipient: 'lower(r.name)',
};

const STATE_SQL: Record<Exclude<ModerationState, 'all'>, string> = {
  unread: 'n.read_at IS NULL',
  read: `n.read_at IS NOT NULL AND ${IN_INBOX('n')}`,
  done: 'n.done_at IS NOT NULL',
  snoozed: 'n.snoozed_until IS NOT NULL',
};

/** A person condition on the users row `alias` joined as `column`'s user: an id, or text in their email or name. */
function personWhere(
  who: number | string | undefined,
  column: string,
  alias: string,
  key: string,
  replacements: Record<string, unknown>,
): string | null {
  if (typeof who === 'number') {
    replacements[key] = who;
    return `${column} = :${key}`;
  }
  if (!who) return null;
  replacements[key] = likePattern(who);
  return `EXISTS (SELECT 1 FROM users ${alias} WHERE ${alias}.id = ${column}
                    AND (${alias}.email ILIKE :${key} ESCAPE '\\' OR ${alias}.name ILIKE :${key} ESCAPE '\\'))`;
}

function whereOf(f: NotificationFilter): { sql: string; rest: (extra: string[]) => string; replacements: Record<string, unknown> } {
  const where: string[] = [];
  const replacements: Record<string, unknown> = {};
  for (const cond of [
    personWhere(f.recipient, 'n.recipient_id', 'rf', 'recipient', replacements),
    personWhere(f.sender, 'n.sender_id', 'sf', 'sender', replacements),
  ]) {
    if (cond) where.push(cond);
  }
  if (f.types?.length) {
    where.push('n.type IN (:types)');
    replacements.types = f.types;
  }
  if (f.excludeTypes?.length) {
    where.push('n.type NOT IN (:excludeTypes)');
    replacements.excludeTypes = f.excludeTypes;
  }
  if (f.courseId !== undefined) {
    where.push('n.course_id = :courseId');
    replacements.courseId = f.courseId;
  }
  if (f.status && f.status !== 'all') where.push(STATE_SQL[f.status]);
  for (const [key, op] of [['from', '>='], ['to', '<='], ['until', '<']] as const) {
    if (f[key]) {
      where.push(`n.created_at ${op} :${key}`);
      replacements[key] = f[key];
    }
  }
  if (f.q) replacements.q = f.q;
  const sql = (extra: string[]) => {
    const all = [...where, ...extra];
    return all.length ? `WHERE ${all.join(' AND ')}` : '';
  };
  // Without the search: the search's two sources add their own match (searchSourceSql).
  return { sql: sql(f.q ? [matchesSql('n')] : []), rest: sql, replacements };
}

/**
 * The rows matching a moderation search, as a fenced FROM item (OFFSET 0 keeps it from being pulled up): single
 * notices through their own vector (the GIN index over rows with one), fan-out rows through the broadcasts that
 * match (broadcasts_search_idx), joined to their rows by batch id. Each part reads its index, never the table.
 */
function searchSourceSql(rest: (extra: string[]) => string): string {
  return `((SELECT n.* FROM notifications n ${rest([ownMatchSql('n')])})
           UNION ALL
           (SELECT n.* FROM broadcasts mb JOIN notifications n ON n.batch_id = mb.id
             ${rest([broadcastMatchSql('mb'), 'n.search_vector IS NULL'])})
           OFFSET 0)`;
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
  // The page's ids and the total come first, from narrow rows; only those ids are joined to the full shape.
  // count(*) OVER () needs every match before the first row, but PostgreSQL costs the window as if LIMIT stopped
  // early: with a search it walked notifications_created_idx backwards, testing each of the table's rows against
  // the text (600 ms on 300,000 rows for a common word). Filtering first behind a fence (OFFSET 0 keeps the
  // subquery from being pulled up) makes it read the matches from the GIN index instead. Counting narrow rows
  // keeps the window's buffer in memory (the full shape, 600 bytes a row, spilled to disk at 15,000 matches).
  // One recipient by id: the same misjudged window walked notifications_created_idx backwards over the whole table
  // for a recipient's rows (180-200 ms on 1,000,000 rows, 20,000 of them the recipient's); behind the same fence it
  // reads them through notifications_recipient_id_idx (70-90 ms) and sorts them. Without a recipient the walk is
  // what a date range or the whole table wants, so the other filters keep the unfenced form.
  const fenced = !f.q && typeof f.recipient === 'number';
  const source = f.q ? searchSourceSql(where.rest) : fenced ? `(SELECT n.* FROM notifications n ${where.sql} OFFSET 0)` : 'notifications';
  const rows = await db.query<RecipientRow & { total: string }>(
    `WITH page AS (
       SELECT n.id, count(*) OVER () AS total
         FROM ${source} n JOIN users r ON r.id = n.recipient_id ${f.sort === 'title' ? 'LEFT JOIN broadcasts nb ON nb.id = n.batch_id' : ''}
        ${f.q || fenced ? '' : where.sql} ${orderSql} LIMIT :limit OFFSET :offset)
     ${selectNotifications({ columns: ['page.total'], joins: ['JOIN page ON page.id = n.id'] }, WITH_RECIPIENT)}
     ${orderSql}`,
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
