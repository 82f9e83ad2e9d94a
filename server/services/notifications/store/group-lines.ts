import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationGroupJSON } from '../../../wire';
import { groupLineSql, toGroupJSON, type GroupRow } from './groups';
import { IN_INBOX } from './reads';
import { intArray, selectNotifications } from './shape';

const SHARED = /^[a-z_]+:[a-z_]+:\d+$/;

/**
 * The shared group key a notification has, as the generated column `group_key` computes it (the
 * notification-groups migration: applications to one course), for markup that must name a row's group without
 * reading it (a pushed card, rendered once for a whole batch). Kept beside the column's rule in the migration:
 * a new kind there is a new line here.
 */
export function groupKeyOf(n: { type: string; course_id: number | null }): string | null {
  return n.type === 'application_submitted' && n.course_id ? `application_submitted:course:${Number(n.course_id)}` : null;
}

/** A group's line as the All list shows it now, with its place (its newest member's sort key). */
export interface PlacedGroup {
  group: NotificationGroupJSON;
  position: number;
}

/**
 * The lines of one user's groups after a state change touched them (issue 14: read, done, snooze, unread, delete
 * move a group's counts, or take it out of the inbox): the shared groups of the rows `ids` that still exist, plus
 * `keys` (the groups of rows already deleted, which no longer say which group they were in). Each key maps to its
 * line as the All list shows it (a group of one included), or to null when none of its members is left in the
 * inbox. Two statements at most (the rows' keys, then the lines), whatever the number of groups; neither reads a
 * big group's members row by row (notifications_group_idx, like ownGroups).
 */
export async function groupLines(
  db: Sequelize,
  userId: number,
  ids: readonly number[],
  keys: readonly string[] = [],
): Promise<Map<string, PlacedGroup | null>> {
  const wanted = new Set(keys);
  if (ids.length > 0) {
    const rows = await db.query<{ group_key: string }>(
      `SELECT DISTINCT group_key FROM notifications
        WHERE recipient_id = :userId AND id = ANY(CAST(:ids AS bigint[])) AND group_key IS NOT NULL`,
      { replacements: { userId, ids: intArray([...ids]) }, type: QueryTypes.SELECT },
    );
    for (const r of rows) wanted.add(r.group_key);
  }
  for (const k of wanted) if (!SHARED.test(k)) wanted.delete(k); // a single row's `n:<id>` is no line of its own
  const out = new Map<string, PlacedGroup | null>([...wanted].map((k) => [k, null]));
  if (wanted.size === 0) return out;
  const line = groupLineSql((a) => `${a}.recipient_id = :userId AND ${IN_INBOX(a)} AND ${a}.group_key = p.group_key`);
  const rows = await db.query<GroupRow>(
    `WITH p AS (
       SELECT h.id, k.key AS group_key FROM unnest(CAST(:keys AS text[])) AS k(key) CROSS JOIN LATERAL (
         SELECT m.id FROM notifications m WHERE m.recipient_id = :userId AND ${IN_INBOX('m')} AND m.group_key = k.key
          ORDER BY m.sort_key DESC LIMIT 1) h
     )
     ${selectNotifications({ columns: line.columns, joins: ['JOIN p ON p.id = n.id', ...line.joins!] })}`,
    // Shared keys are letters, digits, _ and : (GROUP_KEY_RE, or read from the column): a plain array literal.
    { replacements: { userId, keys: `{${[...wanted].join(',')}}` }, type: QueryTypes.SELECT },
  );
  for (const r of rows) out.set(r.g_key, { group: toGroupJSON(r), position: Number(r.sort_key) });
  return out;
}
