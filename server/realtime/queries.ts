import { QueryTypes, type Sequelize } from 'sequelize';
import { APPLICATION_SELECT, toApplicationJSON, type ApplicationJSON, type ApplicationRow } from '../services/applications';
import { NOTIFICATION_SELECT, toNotificationJSON, type NotificationJSON, type NotificationRow } from '../services/notifications/serialize';

/**
 * The few reads the realtime layer needs that are about delivery rather than the domain: set-based, so the cost
 * of a push or a resync does not grow with the number of connected users in round trips.
 */
export class RealtimeQueries {
  readonly #db: Sequelize;

  constructor(sequelize: Sequelize) {
    this.#db = sequelize;
  }

  /**
   * The (id, recipient, recipient's unread count) rows of one fan-out batch, limited to recipients connected to
   * this process: one statement (the count is an index-only scan of notifications_unread_idx per recipient).
   */
  async batchRows(batchId: string, userIds: number[]): Promise<Array<{ id: number; recipientId: number; unread: number }>> {
    if (userIds.length === 0) return [];
    const rows = await this.#db.query<{ id: string; recipient_id: number; unread: string }>(
      `SELECT b.id, b.recipient_id,
              (SELECT count(*) FROM notifications u WHERE u.recipient_id = b.recipient_id AND u.read_at IS NULL) AS unread
         FROM notifications b
        WHERE b.batch_id = CAST(:batchId AS uuid) AND b.recipient_id = ANY(CAST(:ids AS integer[]))`,
      { replacements: { batchId, ids: intArray(userIds) }, type: QueryTypes.SELECT },
    );
    const out = new Array<{ id: number; recipientId: number; unread: number }>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = { id: Number(r.id), recipientId: r.recipient_id, unread: Number(r.unread) };
    }
    return out;
  }

  /** The content every row of a fan-out batch shares (one row of it; only id and recipient differ). */
  async batchContent(batchId: string): Promise<NotificationJSON | undefined> {
    const [row] = await this.#db.query<NotificationRow>(
      `${NOTIFICATION_SELECT} WHERE n.batch_id = CAST(:batchId AS uuid) LIMIT 1`,
      { replacements: { batchId }, type: QueryTypes.SELECT },
    );
    return row ? toNotificationJSON(row) : undefined;
  }

  /**
   * Each user's unread count and highest notification id, in one statement (both subqueries are index scans).
   * The snapshot sends the count; the id is where a later resync replays from.
   */
  async states(userIds: number[]): Promise<Map<number, { unread: number; maxId: number }>> {
    const out = new Map<number, { unread: number; maxId: number }>();
    if (userIds.length === 0) return out;
    const rows = await this.#db.query<{ uid: number; unread: string; max_id: string | null }>(
      `SELECT u.uid,
              (SELECT count(*) FROM notifications n WHERE n.recipient_id = u.uid AND n.read_at IS NULL) AS unread,
              (SELECT max(n.id) FROM notifications n WHERE n.recipient_id = u.uid) AS max_id
         FROM unnest(CAST(:ids AS integer[])) AS u(uid)`,
      { replacements: { ids: intArray(userIds) }, type: QueryTypes.SELECT },
    );
    for (const r of rows) out.set(r.uid, { unread: Number(r.unread), maxId: Number(r.max_id ?? 0) });
    return out;
  }

  /** The latest `limit` notifications of each user, in one statement (an index scan per user via LATERAL). */
  async latestFor(userIds: number[], limit = 5): Promise<Map<number, NotificationJSON[]>> {
    const out = new Map<number, NotificationJSON[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return out;
    const rows = await this.#db.query<NotificationRow>(
      `SELECT l.* FROM unnest(CAST(:ids AS integer[])) AS u(uid)
         CROSS JOIN LATERAL (${NOTIFICATION_SELECT} WHERE n.recipient_id = u.uid ORDER BY n.id DESC LIMIT :limit) l`,
      { replacements: { ids: intArray(userIds), limit }, type: QueryTypes.SELECT },
    );
    for (const r of rows) out.get(r.recipient_id)?.push(toNotificationJSON(r));
    for (const list of out.values()) list.sort((a, b) => b.id - a.id);
    return out;
  }

  /**
   * One application (joined to its course and candidate, no actor scope: delivery decides who hears of it) with
   * its course's enrolled and pending counts: everything an `application.changed` push renders, in one statement.
   */
  async application(id: number): Promise<ApplicationWithCounts | undefined> {
    const [row] = await this.#db.query<ApplicationRow & { enrolled_count: string; pending_count: string }>(
      `${APPLICATION_SELECT.replace(
        'SELECT',
        `SELECT (SELECT count(*) FROM enrollments e WHERE e.course_id = a.course_id) AS enrolled_count,
                (SELECT count(*) FROM applications p WHERE p.course_id = a.course_id AND p.status = 'pending') AS pending_count,`,
      )} WHERE a.id = :id`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    if (!row) return undefined;
    return { application: toApplicationJSON(row), enrolledCount: Number(row.enrolled_count), pendingCount: Number(row.pending_count) };
  }

  /** Which of these session ids still exist and have not expired. */
  async liveSessions(sessionIds: string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const rows = await this.#db.query<{ sid: string }>(
      'SELECT sid FROM session WHERE sid IN (:sids) AND expire > now()',
      { replacements: { sids: sessionIds }, type: QueryTypes.SELECT },
    );
    return new Set(rows.map((r) => r.sid));
  }

  /** Records this process's open socket count (see migrations/*-realtime-presence). */
  async reportPresence(instanceId: string, sockets: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO realtime_presence (instance_id, sockets, updated_at) VALUES (:instanceId, :sockets, now())
       ON CONFLICT (instance_id) DO UPDATE SET sockets = EXCLUDED.sockets, updated_at = now()`,
      { replacements: { instanceId, sockets } },
    );
  }

  async removePresence(instanceId: string): Promise<void> {
    await this.#db.query('DELETE FROM realtime_presence WHERE instance_id = :instanceId', { replacements: { instanceId } });
  }

  /** Open sockets of every other live process (rows not refreshed within `staleMs` belong to dead processes). */
  async otherSockets(instanceId: string, staleMs: number): Promise<number> {
    const [row] = await this.#db.query<{ n: string | null }>(
      `SELECT sum(sockets) AS n FROM realtime_presence
        WHERE instance_id <> :instanceId AND updated_at > now() - make_interval(secs => :secs)`,
      { replacements: { instanceId, secs: staleMs / 1000 }, type: QueryTypes.SELECT },
    );
    return Number(row?.n ?? 0);
  }
}

/** An application as the review row shows it, with its course's counts as "My courses" shows them. */
export interface ApplicationWithCounts {
  application: ApplicationJSON;
  enrolledCount: number;
  pendingCount: number;
}

/** Postgres array literal from trusted integers: one bind parameter instead of one per id. */
function intArray(ids: number[]): string {
  return `{${ids.map((n) => Math.trunc(n)).join(',')}}`;
}
