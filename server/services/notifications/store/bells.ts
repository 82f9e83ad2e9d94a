import { QueryTypes, type Sequelize } from 'sequelize';
import type { NotificationGroupJSON, NotificationJSON } from '../../../wire';
import { groupLineSql, toGroupJSON, type GroupRow } from './groups';
import { totalUnreadSql } from './group-counts';
import { IN_INBOX } from './reads';
import { intArray, selectNotifications, toNotificationJSON } from './shape';

/** What the bell reads of one user: its latest lines as the All list's first page shows them, the count, the newest unread. */
export interface BellRows {
  /** The first `limit` lines of the grouped All list (ownGroups' order and lines), each with its sort key. */
  groups: Array<{ group: NotificationGroupJSON; sortKey: number }>;
  unread: number;
  /** The newest `limit` unread notifications, newest first (the Unread tab). */
  newestUnread: NotificationJSON[];
}

/**
 * The bells of many users in one statement (a connect burst's snapshots, a fan-out's pushes to bell tabs): per
 * user, the first `limit` lines of the grouped All list, the unread count and the newest `limit` unread rows. The
 * lines are chosen as ownGroups chooses them for an unfiltered list: each shared group with members in the inbox
 * (the group counters) placed by its newest inbox member (one probe of notifications_group_idx), merged with the
 * newest ungrouped inbox rows (notifications_single_inbox_idx); counts come from the counters, the unread count
 * mostly too (totalUnreadSql). One user's bell is this statement with one id, so the two cannot drift apart.
 */
export async function bells(db: Sequelize, userIds: readonly number[], limit: number): Promise<Map<number, BellRows>> {
  const out = new Map<number, BellRows>(userIds.map((id) => [id, { groups: [], unread: 0, newestUnread: [] }]));
  if (userIds.length === 0) return out;
  const line = groupLineSql((a) => `${a}.recipient_id = p.uid AND ${IN_INBOX(a)} AND ${a}.group_key = p.group_key`, {
    status: 'all',
    recipient: 'p.uid',
  });
  const rows = await db.query<GroupRow & { is_line: boolean; total_unread: string }>(
    `WITH u AS MATERIALIZED (SELECT DISTINCT uid FROM unnest(CAST(:ids AS integer[])) AS u(uid)),
     heads AS (
       SELECT u.uid, l.id, l.sort_key, l.group_key FROM u CROSS JOIN LATERAL (
         SELECT h.id, h.sort_key, gc.group_key FROM notification_group_counts gc CROSS JOIN LATERAL (
           SELECT m.id, m.sort_key FROM notifications m
            WHERE m.recipient_id = u.uid AND ${IN_INBOX('m')} AND m.group_key = gc.group_key
            ORDER BY m.sort_key DESC LIMIT 1) h
          WHERE gc.recipient_id = u.uid AND gc.inbox > 0
         UNION ALL
         (SELECT s.id, s.sort_key, CAST(NULL AS text) FROM notifications s
           WHERE s.recipient_id = u.uid AND s.group_key IS NULL AND ${IN_INBOX('s')}
           ORDER BY s.sort_key DESC LIMIT :limit)
         ORDER BY sort_key DESC LIMIT :limit) l
     ),
     newest AS (
       SELECT u.uid, r.id, r.sort_key FROM u CROSS JOIN LATERAL (
         SELECT m.id, m.sort_key FROM notifications m WHERE m.recipient_id = u.uid AND m.read_at IS NULL
          ORDER BY m.sort_key DESC LIMIT :limit) r
     ),
     p AS (
       SELECT uid, id, sort_key, group_key, TRUE AS is_line FROM heads
       UNION ALL
       SELECT uid, id, sort_key, CAST(NULL AS text), FALSE FROM newest
     ),
     totals AS MATERIALIZED (SELECT u.uid, ${totalUnreadSql('u.uid')} AS unread FROM u)
     ${selectNotifications({
       columns: [...line.columns!, 'p.is_line', 't.unread AS total_unread'],
       joins: ['JOIN p ON p.id = n.id', 'JOIN totals t ON t.uid = p.uid', ...line.joins!],
     })}
     ORDER BY p.uid, p.is_line DESC, p.sort_key DESC`,
    { replacements: { ids: intArray([...userIds]), limit }, type: QueryTypes.SELECT },
  );
  for (const r of rows) {
    const bell = out.get(r.recipient_id);
    if (!bell) continue;
    bell.unread = Number(r.total_unread);
    if (r.is_line) bell.groups.push({ group: toGroupJSON(r), sortKey: Number(r.sort_key) });
    else bell.newestUnread.push(toNotificationJSON(r));
  }
  return out;
}
