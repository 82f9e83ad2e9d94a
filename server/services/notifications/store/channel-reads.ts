import { QueryTypes, type Sequelize } from 'sequelize';
import { intArray, selectNotifications, type NotificationRow, type SelectExtras } from './shape';

export type { NotificationRow, SelectExtras };

/**
 * The notification rows as the durable channels (email, push, webhooks) and the deliveries record read them. A
 * channel still decides in its own SQL whom to reach and when (preferences, quiet hours, leases); it names the rows
 * only through `notificationRows`, and uses there only the row's own columns, which stay on it whatever becomes of
 * the content: id, recipient_id, type, batch_id, read_at, created_at. What a message says (title, message, course,
 * sender) it reads through the functions below. A change of the table layout (issue 17 moves the content to a row
 * a send shares) is then a change of the store alone.
 */

/** A SELECT of `notification_id` (and `recipient_id`, to claim) with its replacements: the claim's source. */
export interface RowSource {
  sql: string;
  replacements: Record<string, unknown>;
}

/** What a per-notification job is about (email immediate and escalation, push): one fan-out batch, or single rows. */
export interface NotificationJob {
  batchId?: string;
  notificationIds?: number[];
}

const ALIAS = /^[a-z_][a-z0-9_]*$/;

/**
 * The rows as a FROM (or JOIN) item named `alias`: `FROM ${notificationRows('n')} JOIN ...`. Its row columns only
 * (see above): content is read with `channelNotifications` or the webhook payloads.
 */
export function notificationRows(alias = 'n'): string {
  if (!ALIAS.test(alias)) throw new Error(`Invalid alias: ${alias}`);
  return `notifications ${alias}`;
}

/** The job's rows, as a condition over `n` with its replacements: the batch's, or those ids (non-integers dropped). */
export function jobScope(job: NotificationJob): { where: string; replacements: Record<string, unknown> } {
  if (job.batchId) return { where: 'n.batch_id = CAST(:batchId AS uuid)', replacements: { batchId: job.batchId } };
  const ids = (job.notificationIds ?? []).map(Number).filter(Number.isSafeInteger);
  return { where: 'n.id = ANY(CAST(:ids AS bigint[]))', replacements: { ids: intArray(ids) } };
}

/** These notifications and their recipients (`notification_id`, `recipient_id`): a claim by notification id. */
export function recipientsOf(ids: readonly number[]): RowSource {
  return {
    sql: `SELECT n.id AS notification_id, n.recipient_id FROM ${notificationRows('n')} WHERE n.id = ANY(CAST(:claimIds AS bigint[]))`,
    replacements: { claimIds: intArray(ids.map(Number).filter(Number.isSafeInteger)) },
  };
}

/** The job's rows read by now (`notification_id`): what an escalation must no longer send. */
export function readAmong(job: NotificationJob): RowSource {
  const { where, replacements } = jobScope(job);
  return { sql: `SELECT n.id AS notification_id FROM ${notificationRows('n')} WHERE ${where} AND n.read_at IS NOT NULL`, replacements };
}

/**
 * Rows by id in the shape every reader sees (shape.ts: content, course title, sender), oldest first, with a
 * channel's `extras` over `n` (its recipient's address, whether a tab shows it). A deleted id is simply absent.
 */
export async function channelNotifications<Extra extends object = object>(
  db: Sequelize,
  ids: readonly number[],
  extras: SelectExtras = {},
): Promise<Array<NotificationRow & Extra>> {
  if (ids.length === 0) return [];
  return db.query<NotificationRow & Extra>(`${selectNotifications(extras)} WHERE n.id = ANY(CAST(:ids AS bigint[])) ORDER BY n.id`, {
    replacements: { ids: intArray([...ids]) },
    type: QueryTypes.SELECT,
  });
}

/** A timestamptz as the same ISO 8601 UTC form as a webhook body's `timestamp`, whatever the session's time zone. */
const isoUtc = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The `broadcast.sent` webhook payload of the fan-out `:batchId`: one row `(data json, course_id)` with its
 * content and how many it reached, never a row per recipient; no row for a batch with no rows.
 */
export const BROADCAST_EVENT_SQL = `SELECT json_build_object('batch_id', CAST(:batchId AS text), 'course_id', min(n.course_id),
                 'type', min(n.type), 'title', min(n.title), 'message', min(n.message),
                 'sender_id', min(n.sender_id), 'recipients', count(*), 'created_at', ${isoUtc('min(n.created_at)')}) AS data,
               min(n.course_id) AS course_id
          FROM ${notificationRows('n')} WHERE n.batch_id = CAST(:batchId AS uuid) HAVING count(*) > 0`;

/** The `notification.created` webhook payload of the row `:id`: one row `(data json, course_id)`, none once deleted. */
export const NOTIFICATION_EVENT_SQL = `SELECT json_build_object('id', n.id, 'recipient_id', n.recipient_id, 'type', n.type, 'title', n.title,
                 'message', n.message, 'course_id', n.course_id, 'application_id', n.application_id,
                 'created_at', ${isoUtc('n.created_at')}) AS data, n.course_id
          FROM ${notificationRows('n')} WHERE n.id = :id`;
