import { QueryTypes, type Sequelize } from 'sequelize';
import { enqueueJobSql } from '../../../jobs/sql';
import { parseGroupKeys } from './groups';
import { deleteWithTombstonesSql, POSITION_CTE } from './replay';
import { intArray } from './shape';

/** What a user can do to their own notifications, one or many at once (the bulk endpoint takes the same words). */
export const STATE_ACTIONS = ['read', 'unread', 'done', 'undone', 'delete'] as const;
export type StateAction = (typeof STATE_ACTIONS)[number];

/** The job that wakes a snoozed notification; one per notification (its job key), replaced by a new snooze. */
export const WAKE_TASK = 'notifications:wake';
export const wakeJobKey = (id: number | string) => `notification-wake:${id}`;

/**
 * Each action as one UPDATE (or DELETE) over the user's rows among `ids`, touching only rows it changes, so the
 * answer (the ids changed) says exactly what the live pushes must announce. The rules, in one place:
 * - done also marks read (keeping an earlier read time) and ends a snooze;
 * - undone brings a done row back to the inbox, still read;
 * - unread ends done and snooze too (an unread row is always in the inbox, so the Unread tab is "read_at IS NULL");
 * - read_at is only ever set to now() in a later statement than the insert, never to created_at, so a row stays
 *   "silent" (isSilentSql) only if it was written so.
 * Every statement takes one position (see replay.ts) for all the rows it changes: `state_pos`, or a tombstone per
 * deleted row, so a tab that was away is told on resume.
 */
const SET_POS = 'state_pos = (SELECT p FROM pos)';
const updateSql = (set: string, changes: string) =>
  `WITH pos AS (${POSITION_CTE})
   UPDATE notifications n SET ${set}, ${SET_POS} WHERE %W AND ${changes} RETURNING n.id, n.group_key, n.state_pos AS position`;
const ACTION_SQL: Record<StateAction, string> = {
  read: updateSql('read_at = now()', 'n.read_at IS NULL'),
  unread: updateSql(
    'read_at = NULL, done_at = NULL, snoozed_until = NULL',
    '(n.read_at IS NOT NULL OR n.done_at IS NOT NULL OR n.snoozed_until IS NOT NULL)',
  ),
  done: updateSql('done_at = now(), read_at = COALESCE(n.read_at, now()), snoozed_until = NULL', 'n.done_at IS NULL'),
  undone: updateSql('done_at = NULL', 'n.done_at IS NOT NULL'),
  delete: deleteWithTombstonesSql('%W'),
};

/** Which rows of the user's an action names: `ids`, and the members of the shared groups `keys` (may be none). */
const whichRows = (keys: readonly string[]) =>
  keys.length === 0 ? 'n.id = ANY(CAST(:ids AS bigint[]))' : '(n.id = ANY(CAST(:ids AS bigint[])) OR n.group_key = ANY(CAST(:keys AS text[])))';

/**
 * The wake-up job of every row the CTE `s` (id, snoozed_until) snoozed, at its time; the job key makes a second
 * snooze move the job (mode replace), so the job exists exactly when the snooze does.
 */
const wakeJobsSql = (s: string) => `SELECT ${enqueueJobSql(WAKE_TASK, {
  payload: `json_build_object('id', ${s}.id)`,
  runAt: `${s}.snoozed_until`,
  jobKey: `'${wakeJobKey('')}' || ${s}.id`,
  jobKeyMode: 'replace',
  maxAttempts: 10,
})} AS job FROM ${s}`;

/** What one state statement changed: the ids (ascending), their shared group keys, its position (null: none). */
export interface StateChanged {
  ids: number[];
  keys: string[];
  position: number | null;
}

/** State changes of a user's own notifications. Another user's ids are never touched and never counted. */
export class NotificationStates {
  readonly #db: Sequelize;

  constructor(sequelize: Sequelize) {
    this.#db = sequelize;
  }

  /**
   * One statement; answers the ids it changed, ascending. `groupKeys` (see groups.ts) add every member of those
   * groups of the user's, whatever list it is in: a shared key reaches the user's rows through
   * notifications_group_idx, so another user's key finds only the caller's rows with that key (none or theirs).
   */
  async apply(userId: number, ids: number[], action: StateAction, groupKeys: readonly string[] = []): Promise<number[]> {
    return (await this.applyWithKeys(userId, ids, action, groupKeys)).ids;
  }

  /**
   * `apply`, also answering the shared group keys of the rows it changed (a deleted row can no longer say which
   * group it was in, and the live pushes re-render those groups' lines) and the statement's position.
   */
  async applyWithKeys(userId: number, ids: number[], action: StateAction, groupKeys: readonly string[] = []): Promise<StateChanged> {
    const named = parseGroupKeys(groupKeys);
    const allIds = [...new Set([...ids, ...named.ids])];
    if (allIds.length === 0 && named.keys.length === 0) return { ids: [], keys: [], position: null };
    const sql = ACTION_SQL[action].replace('%W', `n.recipient_id = :userId AND ${whichRows(named.keys)}`);
    const rows = await this.#db.query<{ id: string; group_key: string | null; position: string }>(sql, {
      // Shared keys match SHARED_KEY (letters, digits, _ and :), so they make a plain array literal.
      replacements: { userId, ids: intArray(allIds), keys: `{${named.keys.join(',')}}` },
      type: QueryTypes.SELECT,
    });
    const keys = new Set<string>();
    for (const r of rows) if (r.group_key) keys.add(r.group_key);
    return { ids: rows.map((r) => Number(r.id)).sort((a, b) => a - b), keys: [...keys], position: rows.length > 0 ? Number(rows[0].position) : null };
  }

  /**
   * Snoozes the user's rows among `ids` and every member in the inbox of the groups `groupKeys` (a group line's
   * snooze) until `until`, each with its own wake-up job (same key rule as `snooze`), in one statement. Answers
   * the ids it snoozed and the statement's position. Rows done or already gone are left alone: a snoozed group
   * comes back as it was in the inbox.
   */
  async snoozeMany(userId: number, ids: number[], groupKeys: readonly string[], until: Date): Promise<{ ids: number[]; position: number | null }> {
    const named = parseGroupKeys(groupKeys);
    const allIds = [...new Set([...ids, ...named.ids])];
    if (allIds.length === 0 && named.keys.length === 0) return { ids: [], position: null };
    const rows = await this.#db.query<{ id: string; position: string }>(
      `WITH pos AS (${POSITION_CTE}),
       s AS (
         UPDATE notifications n SET snoozed_until = :until, read_at = COALESCE(n.read_at, now()), ${SET_POS}
          WHERE n.recipient_id = :userId AND ${whichRows(named.keys)} AND n.done_at IS NULL
         RETURNING n.id, n.snoozed_until, n.state_pos
       ),
       job AS (${wakeJobsSql('s')})
       SELECT s.id, s.state_pos AS position, (SELECT count(*) FROM job) AS jobs FROM s`,
      { replacements: { userId, until, ids: intArray(allIds), keys: `{${named.keys.join(',')}}` }, type: QueryTypes.SELECT },
    );
    return { ids: rows.map((r) => Number(r.id)).sort((a, b) => a - b), position: rows.length > 0 ? Number(rows[0].position) : null };
  }

  /**
   * Snoozes one of the user's notifications until `until` and, in the same statement, enqueues (or moves, same
   * job key) its wake-up job: the job exists exactly when the snooze does. Answers the change's position, or null
   * when the id is not theirs.
   */
  async snooze(userId: number, id: number, until: Date): Promise<number | null> {
    const rows = await this.#db.query<{ position: string }>(
      `WITH pos AS (${POSITION_CTE}),
       s AS (
         UPDATE notifications n SET snoozed_until = :until, read_at = COALESCE(n.read_at, now()), done_at = NULL, ${SET_POS}
          WHERE n.id = :id AND n.recipient_id = :userId
         RETURNING n.id, n.snoozed_until, n.state_pos
       ),
       job AS (${wakeJobsSql('s')})
       SELECT s.state_pos AS position, (SELECT count(*) FROM job) AS jobs FROM s`,
      { replacements: { userId, id, until }, type: QueryTypes.SELECT },
    );
    return rows.length > 0 ? Number(rows[0].position) : null;
  }

  /**
   * Wakes a snoozed row whose time has come: unread again and on top of every list (a new sort key, above every
   * id handed out so far; its state position is that same number, so a replay sends it whole, as new, and never
   * as a state of a row the tab had). Answers its recipient, or null when there is nothing to wake (woken, done, marked
   * unread, deleted or snoozed again for later meanwhile): a repeated or stale job changes nothing.
   */
  async wake(id: number): Promise<number | null> {
    const [row] = await this.#db.query<{ recipient_id: number }>(
      `WITH pos AS (${POSITION_CTE})
       UPDATE notifications SET snoozed_until = NULL, read_at = NULL, surfaced_key = (SELECT p FROM pos), ${SET_POS}
        WHERE id = :id AND snoozed_until IS NOT NULL AND snoozed_until <= now()
        RETURNING recipient_id`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    return row ? row.recipient_id : null;
  }
}
