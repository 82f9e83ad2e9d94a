import type { NotificationType, Role } from '../../../models';
import type { NotificationJSON, NotificationWithRecipient } from '../../../wire';
import { searchVectorSql } from './fulltext';

/** A notification row as the shape's SELECT returns it (snake_case straight from SQL). */
export interface NotificationRow {
  id: string | number;
  recipient_id: number;
  type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown>;
  read_at: Date | null;
  created_at: Date;
  done_at: Date | null;
  snoozed_until: Date | null;
  /** The lists' keyset (see the inbox-states migration): the id, or the key it took when it woke. */
  sort_key: string | number;
  sender_id: number | null;
  sender_name: string | null;
  sender_email: string | null;
  application_id: number | null;
  course_id: number | null;
  course_title: string | null;
}

export interface RecipientRow extends NotificationRow {
  recipient_name: string;
  recipient_email: string;
  recipient_role: Role;
}

export function toNotificationJSON(r: NotificationRow): NotificationJSON {
  return {
    id: Number(r.id),
    type: r.type,
    title: r.title,
    message: r.message,
    data: r.data ?? {},
    is_read: r.read_at !== null,
    read_at: r.read_at ? new Date(r.read_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
    done_at: r.done_at ? new Date(r.done_at).toISOString() : null,
    snoozed_until: r.snoozed_until ? new Date(r.snoozed_until).toISOString() : null,
    sender: r.sender_id ? { id: r.sender_id, name: r.sender_name ?? '', email: r.sender_email ?? '' } : null,
    application_id: r.application_id,
    course_id: r.course_id,
    course_title: r.course_title,
  };
}

export function toNotificationWithRecipient(r: RecipientRow): NotificationWithRecipient {
  return {
    ...toNotificationJSON(r),
    recipient: { id: r.recipient_id, name: r.recipient_name, email: r.recipient_email, role: r.recipient_role },
  };
}

const COLUMNS = [
  'n.id',
  'n.recipient_id',
  'n.type',
  'n.title',
  'n.message',
  'n.data',
  'n.read_at',
  'n.created_at',
  'n.done_at',
  'n.snoozed_until',
  'n.sort_key',
  'n.sender_id',
  's.name AS sender_name',
  's.email AS sender_email',
  'n.application_id',
  'n.course_id',
  'c.title AS course_title',
];
const JOINS = ['LEFT JOIN users s ON s.id = n.sender_id', 'LEFT JOIN courses c ON c.id = n.course_id'];

/** What a reader adds to the shape: more columns, more joins. The shape's own text is never edited. */
export interface SelectExtras {
  columns?: readonly string[];
  joins?: readonly string[];
}

/** The recipient's columns and join, for the moderation shape. */
export const WITH_RECIPIENT: SelectExtras = {
  columns: ['r.name AS recipient_name', 'r.email AS recipient_email', 'r.role AS recipient_role'],
  joins: ['JOIN users r ON r.id = n.recipient_id'],
};

/**
 * Whether row `alias` is silent: written read because its recipient has the type's in_app channel off. Its read_at
 * is then the inserting statement's now(), which is exactly its created_at; a row read afterwards (another tab, the
 * API) has a later read_at. Silent rows are never pushed live; rows read after they were written still are (as
 * read), so a tab that keeps a list misses none of them: the live path and `?since=` replay agree.
 */
export const isSilentSql = (alias: string) => `(${alias}.read_at IS NOT NULL AND ${alias}.read_at = ${alias}.created_at)`;

/** The shape plus a `silent` column (see isSilentSql): for the live pushes. */
export const WITH_SILENT: SelectExtras = { columns: [`${isSilentSql('n')} AS silent`] };

/** `SELECT <shape columns> FROM notifications n <joins>`: callers append WHERE/ORDER/LIMIT. */
export function selectNotifications(...extras: SelectExtras[]): string {
  const columns = [...extras.flatMap((e) => e.columns ?? []), ...COLUMNS];
  const joins = [...JOINS, ...extras.flatMap((e) => e.joins ?? [])];
  return `SELECT ${columns.join(', ')} FROM notifications n ${joins.join(' ')}`;
}

/** notifications.title (and broadcasts.title) is varchar(200). */
export const TITLE_MAX = 200;

/**
 * The one title rule, in SQL so that a title built inside a statement (a notice quoting a course title that may
 * itself be 200 long) and a title sent as a value are clipped alike: at most TITLE_MAX characters (code points,
 * as char_length and left count them, so a surrogate pair is never split), the last one an ellipsis when cut.
 * `expr` is trusted SQL of type text (a column expression or a cast replacement), never input.
 */
export function clippedTitle(expr: string): string {
  return `(SELECT CASE WHEN char_length(x) <= ${TITLE_MAX} THEN x ELSE left(x, ${TITLE_MAX - 1}) || '…' END FROM (SELECT ${expr} AS x) AS clip)`;
}

/** SQL expressions (trusted, over the `from` clause) for each column of new notification rows. */
export interface RowExpressions {
  recipientId: string;
  senderId: string;
  type: string;
  /** Text; clipped by `clippedTitle`. */
  title: string;
  message: string;
  /** jsonb */
  data: string;
  applicationId?: string;
  courseId?: string;
  batchId?: string;
  /**
   * timestamptz or NULL. Default: read at once when the recipient has the type's in_app channel off (silent: kept
   * in the inbox, no badge, no live alert), looked up per row; a fan-out passes its own from a join instead.
   */
  readAt?: string;
}

/** Read at once when the recipient's effective in_app preference for the type is off (NULL when unknown). */
export function silentReadAt(recipientExpr: string, typeExpr: string): string {
  return `(SELECT now() FROM effective_notification_preferences ep
            WHERE ep.user_id = ${recipientExpr} AND ep.type = ${typeExpr} AND NOT ep.in_app)`;
}

/**
 * The one INSERT into notifications: `INSERT ... SELECT <expressions> <from> RETURNING id, recipient_id, type`.
 * A single notice has no `from`; a fan-out selects from its audience; a domain statement (apply, decide) uses it
 * as a CTE over its own rows, so the notice commits with the change that caused it, in the same statement, and
 * its email jobs with it (`noticeJobsSql` over that CTE).
 */
export function insertNotificationsSql(e: RowExpressions, from = ''): string {
  const vector = searchVectorSql({ title: e.title, message: e.message, senderId: e.senderId, courseId: e.courseId ?? 'NULL' });
  return `INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, application_id, course_id, batch_id, read_at, search_vector)
     SELECT ${e.recipientId}, ${e.senderId}, ${e.type}, ${clippedTitle(e.title)}, ${e.message}, ${e.data},
            ${e.applicationId ?? 'NULL'}, ${e.courseId ?? 'NULL'}, ${e.batchId ?? 'NULL'},
            ${e.readAt ?? silentReadAt(e.recipientId, e.type)}, ${vector}
       ${from}
     RETURNING id, recipient_id, type`;
}

export { intArray } from '../../../db/sql';

/**
 * A send's rows, one per recipient of the CTE `aud` (`id`, `in_app`), with the content of the replacements
 * `:senderId`, `:type`, `:title`, `:message`, `:data`, `:courseId`; written already read when the recipient has the
 * type's in_app off (a silent row). The inline fan-out and every chunk of a recorded send write exactly this.
 */
export function insertSendRowsSql(batchIdExpr: string, conflict = ''): string {
  return insertNotificationsSql(
    {
      recipientId: 'a.id',
      senderId: 'CAST(:senderId AS integer)',
      type: ':type',
      title: 'CAST(:title AS text)',
      message: 'CAST(:message AS text)',
      data: 'CAST(:data AS jsonb)',
      courseId: 'CAST(:courseId AS integer)',
      batchId: batchIdExpr,
      readAt: 'CASE WHEN a.in_app IS FALSE THEN now() END',
    },
    `FROM aud a${conflict ? ` ${conflict}` : ''}`,
  );
}
