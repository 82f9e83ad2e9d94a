import { QueryTypes, type Sequelize } from 'sequelize';
import { IN_INBOX, ownListWhere, type OwnListQuery } from './reads';
import type { NotificationGroupJSON } from '../../../wire';
import { intArray, selectNotifications, toNotificationJSON, type NotificationRow, type SelectExtras } from './shape';

/**
 * Grouping (issue 14): notifications of the same kind about the same thing are one line. Which rows belong
 * together is the generated column `group_key` (see the notification-groups migration: applications to one
 * course); a row without one is a group of one, keyed `n:<id>`. This is the one place that turns a row into its
 * key, and a key back into the rows it names.
 */
export const groupKeySql = (a: string) => `COALESCE(${a}.group_key, 'n:' || CAST(${a}.id AS text))`;

/** The longest group key the API accepts (`application_submitted:course:<int>` is 40 at most). */
export const GROUP_KEY_MAX = 64;
const SINGLE_KEY = /^n:([1-9]\d{0,15})$/;
const SHARED_KEY = /^[a-z_]+:[a-z_]+:[1-9]\d{0,9}$/;
/** What a group key looks like (the API refuses anything else with a 400). */
export const GROUP_KEY_RE = new RegExp(`${SINGLE_KEY.source}|${SHARED_KEY.source}`);

/** Keys as clients send them, split into single rows' ids and shared keys; malformed keys name nothing. */
export function parseGroupKeys(keys: readonly string[]): { ids: number[]; keys: string[] } {
  const out = { ids: [] as number[], keys: [] as string[] };
  for (const key of new Set(keys)) {
    const single = SINGLE_KEY.exec(key);
    if (single) out.ids.push(Number(single[1]));
    else if (SHARED_KEY.test(key)) out.keys.push(key);
  }
  return out;
}

export interface GroupRow extends NotificationRow {
  g_key: string;
  g_count: string;
  g_unread: string;
  g_actors: string[];
}

/**
 * What a line says about its group, as extra columns and joins on the shape's SELECT over a CTE `p` (id, group_key:
 * NULL for a single row): its count, unread count and three newest distinct senders. `inGroup(a)` is the condition
 * for alias `a` to be a member of `p`'s group in the list at hand; the page's shared groups alone are read, from
 * notifications_group_idx.
 */
export function groupLineSql(inGroup: (a: string) => string): SelectExtras {
  const newestSender = (a: string, not: string) =>
    `(SELECT ${a}.sender_id FROM notifications ${a} WHERE ${inGroup(a)} AND ${a}.sender_id IS NOT NULL ${not}
       ORDER BY ${a}.sort_key DESC LIMIT 1)`;
  return {
    columns: [
      `${groupKeySql('n')} AS g_key`,
      'CASE WHEN p.group_key IS NULL THEN 1 ELSE agg.members END AS g_count',
      'CASE WHEN p.group_key IS NULL THEN CAST(n.read_at IS NULL AS integer) ELSE agg.unread END AS g_unread',
      `CASE WHEN p.group_key IS NULL THEN ARRAY_REMOVE(ARRAY[s.name], NULL)
            ELSE ARRAY(SELECT u.name FROM unnest(ARRAY[act.s1, act.s2, act.s3]) WITH ORDINALITY AS t(uid, i)
                        JOIN users u ON u.id = t.uid ORDER BY t.i) END AS g_actors`,
    ],
    joins: [
      `LEFT JOIN LATERAL (
         SELECT count(*) AS members, count(*) FILTER (WHERE gm.read_at IS NULL) AS unread FROM notifications gm
          WHERE p.group_key IS NOT NULL AND ${inGroup('gm')}) agg ON TRUE`,
      // The three newest distinct senders: each the newest member whose sender the previous ones are not.
      `LEFT JOIN LATERAL (SELECT a1.s AS s1, a2.s AS s2, a3.s AS s3
           FROM (SELECT ${newestSender('x', '')} AS s WHERE p.group_key IS NOT NULL) a1
           LEFT JOIN LATERAL (SELECT ${newestSender('y', 'AND y.sender_id <> a1.s')} AS s) a2 ON TRUE
           LEFT JOIN LATERAL (SELECT ${newestSender('z', 'AND z.sender_id <> a1.s AND z.sender_id <> a2.s')} AS s) a3 ON TRUE
       ) act ON TRUE`,
    ],
  };
}

export const toGroupJSON = (r: GroupRow): NotificationGroupJSON => ({
  group_key: r.g_key,
  count: Number(r.g_count),
  unread_count: Number(r.g_unread),
  actors: r.g_actors,
  latest: toNotificationJSON(r),
});

/**
 * One page of a user's groups, newest group first (by its newest member's sort key), keyset-paged on that key,
 * in one statement. The plan never walks a big group's members row by row:
 * - `keys`: the user's distinct shared keys, a loose index scan of notifications_group_idx (one probe per key; a
 *   user has as many as the courses they get applications for);
 * - `grouped`: each shared group's newest member in the list (one index probe each), kept when below the cursor;
 * - `singles`: the list's ungrouped rows in sort order (notifications_single_*_idx), at most a page of them;
 * - the page's shared groups alone get their counts and their three newest distinct senders, from the same index.
 * A group's newest member is chosen over the whole list, never below the cursor, so each group has one place in
 * the order and pages neither repeat nor skip one.
 */
export async function ownGroups(
  db: Sequelize,
  userId: number,
  q: OwnListQuery,
): Promise<{ groups: Array<{ group: NotificationGroupJSON; sortKey: number }>; unread: number | null }> {
  const replacements: Record<string, unknown> = { userId, limit: q.limit };
  const member = (a: string) => ownListWhere(q, a, replacements).join(' AND ');
  // Every member of a group has the group's type (the key is made from it), so the type filters choose groups
  // by their key's type once, and the members' conditions leave them out: the planner then reads each group's
  // members from the index alone, instead of misjudging a type filter it cannot see is all or nothing.
  const shared = (a: string) => ownListWhere({ ...q, types: undefined, excludeTypes: undefined }, a, replacements).join(' AND ');
  const keyTypes = ['TRUE'];
  if (q.types?.length) keyTypes.push('keys.t IN (:types)');
  if (q.excludeTypes?.length) keyTypes.push('keys.t NOT IN (:excludeTypes)');
  const below = (a: string) => (q.before === undefined ? 'TRUE' : `${a}.sort_key < :before`);
  if (q.before !== undefined) replacements.before = q.before;
  // The members of the page's group `p.group_key`, in the list, on alias `a`.
  const line = groupLineSql((a) => `${shared(a)} AND ${a}.group_key = p.group_key`);
  const sql = `
    WITH RECURSIVE keys(k, t) AS (
      (SELECT g.group_key, g.type FROM notifications g WHERE g.recipient_id = :userId AND g.group_key IS NOT NULL
        ORDER BY g.group_key LIMIT 1)
      UNION ALL
      SELECT nx.group_key, nx.type FROM keys CROSS JOIN LATERAL (
        SELECT g.group_key, g.type FROM notifications g WHERE g.recipient_id = :userId AND g.group_key > keys.k
         ORDER BY g.group_key LIMIT 1) nx
    ),
    grouped AS (
      SELECT h.id, h.sort_key, keys.k AS group_key
        FROM keys CROSS JOIN LATERAL (
          SELECT m.id, m.sort_key FROM notifications m WHERE ${shared('m')} AND m.group_key = keys.k
           ORDER BY m.sort_key DESC LIMIT 1) h
       WHERE ${keyTypes.join(' AND ')}
    ),
    singles AS (
      SELECT m.id, m.sort_key, CAST(NULL AS text) AS group_key FROM notifications m
       WHERE ${member('m')} AND m.group_key IS NULL AND ${below('m')}
       ORDER BY m.sort_key DESC LIMIT :limit
    ),
    page AS (
      (SELECT * FROM grouped g WHERE ${below('g')} UNION ALL SELECT * FROM singles) ORDER BY sort_key DESC LIMIT :limit
    )
    ${selectNotifications({
      columns: [...line.columns!, '(SELECT count(*) FROM notifications u WHERE u.recipient_id = :userId AND u.read_at IS NULL) AS total_unread'],
      joins: ['JOIN page p ON p.id = n.id', ...line.joins!],
    })}
    WHERE n.recipient_id = :userId
    ORDER BY p.sort_key DESC`;
  const rows = await db.query<GroupRow & { total_unread: string }>(sql, { replacements, type: QueryTypes.SELECT });
  return {
    groups: rows.map((r) => ({ sortKey: Number(r.sort_key), group: toGroupJSON(r) })),
    // No row, nothing to carry the count: the caller asks for it.
    unread: rows.length > 0 ? Number(rows[0].total_unread) : null,
  };
}

/**
 * The lines of the groups these notifications (any users') joined, as each recipient's All list shows them, for
 * the live `group_updated` frame: one statement for a whole batch. Keyed by notification id; a row without a
 * shared key, or whose group has only itself in the inbox, has no entry (its own frame says it all).
 */
export async function groupsFor(db: Sequelize, ids: number[]): Promise<Map<number, NotificationGroupJSON>> {
  const out = new Map<number, NotificationGroupJSON>();
  if (ids.length === 0) return out;
  const line = groupLineSql((a) => `${a}.recipient_id = p.recipient_id AND ${IN_INBOX(a)} AND ${a}.group_key = p.group_key`);
  const rows = await db.query<GroupRow & { for_ids: string[] }>(
    `WITH t AS (
       SELECT recipient_id, group_key, array_agg(id) AS ids FROM notifications
        WHERE id = ANY(CAST(:ids AS bigint[])) AND group_key IS NOT NULL GROUP BY recipient_id, group_key
     ),
     p AS (
       SELECT h.id, t.recipient_id, t.group_key, t.ids FROM t CROSS JOIN LATERAL (
         SELECT m.id FROM notifications m WHERE m.recipient_id = t.recipient_id AND ${IN_INBOX('m')} AND m.group_key = t.group_key
          ORDER BY m.sort_key DESC LIMIT 1) h
     )
     ${selectNotifications({ columns: [...line.columns!, 'p.ids AS for_ids'], joins: ['JOIN p ON p.id = n.id', ...line.joins!] })}`,
    { replacements: { ids: intArray(ids) }, type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    const group = toGroupJSON(r);
    if (group.count > 1) for (const id of r.for_ids) out.set(Number(id), group);
  }
  return out;
}
