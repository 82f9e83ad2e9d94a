import type { OwnListQuery } from './reads';

/**
 * The per-group counters (the notification-group-counters migration): `notification_group_counts` holds, for each
 * (recipient, shared group) with members in the inbox, `inbox` (members neither done nor snoozed) and `unread`
 * (those of them unread), kept exact by statement-level triggers on notifications. The lists that show a group's
 * whole inbox share read a line's counts from it in one index probe, instead of counting up to every member.
 */

/** The lists whose group counts the counters hold: the inbox unfiltered. */
export type CountedStatus = 'all' | 'unread' | 'read';

/**
 * Which counted list `q` is, or undefined when its counts must be counted live: Done and Snoozed (not counted),
 * and any filter or search (a group's members in the list are then some of its inbox members, not all).
 */
export function countedStatus(q: Omit<OwnListQuery, 'before' | 'limit'>): CountedStatus | undefined {
  if (q.status !== 'all' && q.status !== 'unread' && q.status !== 'read') return undefined;
  const filtered =
    !!q.types?.length || !!q.excludeTypes?.length || !!q.q || q.courseId !== undefined || q.groupKey !== undefined ||
    q.from !== undefined || q.to !== undefined || q.until !== undefined;
  return filtered ? undefined : q.status;
}

/** What one counter row `gc` says for a list: whether the group is in it, its members there, the unread ones. */
export function counted(status: CountedStatus, gc: string): { has: string; members: string; unread: string } {
  switch (status) {
    case 'all':
      return { has: `${gc}.inbox > 0`, members: `${gc}.inbox`, unread: `${gc}.unread` };
    case 'unread':
      return { has: `${gc}.unread > 0`, members: `${gc}.unread`, unread: `${gc}.unread` };
    case 'read':
      return { has: `${gc}.inbox > ${gc}.unread`, members: `${gc}.inbox - ${gc}.unread`, unread: '0' };
  }
}

/** The counter row of the group `keyExpr` of the recipient `recipientExpr`, as alias `gc` (NULLs when none). */
export const groupCountsJoin = (gc: string, recipientExpr: string, keyExpr: string) =>
  `LEFT JOIN notification_group_counts ${gc} ON ${gc}.recipient_id = ${recipientExpr} AND ${gc}.group_key = ${keyExpr}`;

/**
 * A user's unread count as the sum of their groups' counters and a count of their unread ungrouped rows (an
 * index-only scan of notifications_single_unread_idx): for a user whose unread rows are mostly a few big groups
 * this reads a few counter rows instead of every unread index entry. Equal to counting `read_at IS NULL` because
 * an unread row is always in the inbox (done and snooze mark read; unread ends both: see states.ts), and the
 * counters' `unread` counts a group's inbox members with read_at NULL.
 */
export const totalUnreadSql = (userExpr: string) =>
  `((SELECT COALESCE(sum(tc.unread), 0) FROM notification_group_counts tc WHERE tc.recipient_id = ${userExpr})
    + (SELECT count(*) FROM notifications tu WHERE tu.recipient_id = ${userExpr} AND tu.group_key IS NULL AND tu.read_at IS NULL))`;
