import { QueryTypes, type Sequelize } from 'sequelize';

/**
 * State positions and tombstones (migration notification-state-replay): what a tab that resumes with `?since=P`
 * must be told about rows it had. Every statement that changes a state takes ONE position from the id sequence
 * (the sequence sort_key takes its numbers from, so positions of states and of notifications interleave in one
 * delivery order) and writes it on every row it changed (`state_pos`), or, for a delete, on one tombstone per row.
 */

/**
 * A CTE body that takes the statement's one position: `WITH pos AS (${POSITION_CTE}) ...`, then `(SELECT p FROM
 * pos)` wherever it is needed. A CTE that calls a volatile function is evaluated once, however often it is read.
 */
export const POSITION_CTE = "SELECT nextval(pg_get_serial_sequence('notifications', 'id')) AS p";

/**
 * A DELETE of the rows `where` selects (alias `n`) that leaves a tombstone per row at the statement's position, in
 * the same statement (so no deletion is ever without its tombstone). Answers each row's id, recipient, shared
 * group key and the position.
 */
export function deleteWithTombstonesSql(where: string): string {
  return `WITH pos AS (${POSITION_CTE}),
     gone AS (DELETE FROM notifications n WHERE ${where} RETURNING n.id, n.recipient_id, n.group_key, n.sort_key),
     tomb AS (INSERT INTO notification_tombstones (recipient_id, position, notification_id, sort_key, group_key)
              SELECT g.recipient_id, pos.p, g.id, g.sort_key, g.group_key FROM gone g CROSS JOIN pos)
     SELECT g.id, g.recipient_id, g.group_key, pos.p AS position FROM gone g CROSS JOIN pos`;
}

/** A row's state now, as a replay announces it: `read` is "in the inbox, read" (what undone also leaves). */
export type ReplayedState = 'read' | 'unread' | 'done' | 'snoozed' | 'deleted';

/** One row a resuming tab had whose state changed since: its state now, and the position of that change. */
export interface StateEntry {
  id: number;
  position: number;
  state: ReplayedState;
  /** Its shared group (groups.ts), whose line the tab is then sent again; null for a row of its own. */
  groupKey: string | null;
}

/** The state a row is in now, in the words of the live frames (done and snoozed rows are always read). */
const STATE_NOW = `CASE WHEN n.done_at IS NOT NULL THEN 'done' WHEN n.snoozed_until IS NOT NULL THEN 'snoozed'
                        WHEN n.read_at IS NULL THEN 'unread' ELSE 'read' END`;

/** What a tab resuming from a position missed of the states (see statesSince). */
export interface StatesSince {
  entries: StateEntry[];
  /**
   * The highest state position after it among all the user's rows, newer ones included (0: none): once the replay
   * sent the newer rows whole, as they are now, their changes are covered too, so the resume point may pass them.
   */
  latest: number;
}

/**
 * The user's rows a tab resuming from `after` had (position, i.e. sort key, <= after) whose latest state change is
 * after it, and the deletions of such rows (tombstones), in delivery order (position, then id), at most `limit`.
 * Rows newer than `after` are not here: the replay sends them whole, as they are now. One statement of index range
 * scans (notifications_state_pos_idx, the tombstones' primary key).
 */
export async function statesSince(db: Sequelize, userId: number, after: number, limit: number): Promise<StatesSince> {
  type Row = { id: number; position: number; state: ReplayedState; group_key: string | null };
  const [row] = await db.query<{ entries: Row[]; latest: string | null }>(
    `SELECT (SELECT COALESCE(json_agg(e ORDER BY e.position, e.id), '[]') FROM (
              (SELECT n.id, n.state_pos AS position, ${STATE_NOW} AS state, n.group_key FROM notifications n
                WHERE n.recipient_id = :userId AND n.state_pos > :after AND n.sort_key <= :after
                ORDER BY n.state_pos, n.id LIMIT :limit)
              UNION ALL
              (SELECT t.notification_id, t.position, 'deleted', t.group_key FROM notification_tombstones t
                WHERE t.recipient_id = :userId AND t.position > :after AND t.sort_key <= :after
                ORDER BY t.position, t.notification_id LIMIT :limit)
              ORDER BY position, id LIMIT :limit) e) AS entries,
            GREATEST((SELECT max(n.state_pos) FROM notifications n WHERE n.recipient_id = :userId AND n.state_pos > :after),
                     (SELECT max(t.position) FROM notification_tombstones t WHERE t.recipient_id = :userId AND t.position > :after)) AS latest`,
    { replacements: { userId, after, limit }, type: QueryTypes.SELECT },
  );
  return {
    entries: row.entries.map((e) => ({ id: Number(e.id), position: Number(e.position), state: e.state, groupKey: e.group_key })),
    latest: Number(row.latest ?? 0),
  };
}

/**
 * The newest position taken so far (a notification's id, a state change's position: one sequence). A page reads it
 * before its list, so a later change has a larger position and is replayed when the page's socket connects, and
 * an earlier one is in the list already.
 */
export async function currentPosition(db: Sequelize): Promise<number> {
  const [row] = await db.query<{ p: string | null }>(
    "SELECT pg_sequence_last_value(CAST(pg_get_serial_sequence('notifications', 'id') AS regclass)) AS p",
    { type: QueryTypes.SELECT },
  );
  return Number(row.p ?? 0);
}

/** Deletes tombstones older than `days` days; answers how many. A tab away longer is not told of those deletions. */
export async function pruneTombstones(db: Sequelize, days: number): Promise<number> {
  const [row] = await db.query<{ n: string }>(
    `WITH gone AS (DELETE FROM notification_tombstones WHERE deleted_at < now() - make_interval(days => :days) RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    { replacements: { days }, type: QueryTypes.SELECT },
  );
  return Number(row.n);
}