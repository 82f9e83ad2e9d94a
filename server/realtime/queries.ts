import { QueryTypes, type Sequelize } from 'sequelize';
import { selectApplications, toApplicationJSON, type ApplicationRow } from '../services/applications';
import { NotificationStore, type BatchRow } from '../services/notifications';
import type { ApplicationJSON, NotificationJSON } from '../wire';

/**
 * The few reads the realtime layer needs that are about delivery rather than the domain: set-based, so the cost
 * of a push or a resync does not grow with the number of connected users in round trips.
 */
export class RealtimeQueries {
  readonly #db: Sequelize;
  readonly #store: NotificationStore;

  constructor(sequelize: Sequelize) {
    this.#db = sequelize;
    // The store holds no state beyond the Sequelize instance, so this one reads exactly as the services' does.
    this.#store = new NotificationStore(sequelize);
  }

  // Notification reads are the store's; delivery keeps calling them here, set-based as before.

  batchRows(batchId: string, userIds: number[], range?: { after: number; upTo: number }): Promise<BatchRow[]> {
    return this.#store.batchRows(batchId, userIds, range);
  }

  batchContent(batchId: string): Promise<NotificationJSON | undefined> {
    return this.#store.batchContent(batchId);
  }

  states(userIds: number[]): Promise<Map<number, { unread: number; maxPosition: number }>> {
    return this.#store.states(userIds);
  }

  /**
   * One application (joined to its course and candidate, no actor scope: delivery decides who hears of it) with
   * its course's enrolled and pending counts: everything an `application.changed` push renders, in one statement.
   */
  async application(id: number): Promise<ApplicationWithCounts | undefined> {
    const [row] = await this.#db.query<ApplicationRow & { enrolled_count: string; pending_count: string; candidate_enrolled: boolean }>(
      `${selectApplications(
        '(SELECT count(*) FROM enrollments e WHERE e.course_id = a.course_id) AS enrolled_count',
        "(SELECT count(*) FROM applications p WHERE p.course_id = a.course_id AND p.status = 'pending') AS pending_count",
        'EXISTS (SELECT 1 FROM enrollments e WHERE e.course_id = a.course_id AND e.student_id = a.candidate_id) AS candidate_enrolled',
      )} WHERE a.id = :id`,
      { replacements: { id }, type: QueryTypes.SELECT },
    );
    if (!row) return undefined;
    return {
      application: toApplicationJSON(row),
      enrolledCount: Number(row.enrolled_count),
      pendingCount: Number(row.pending_count),
      candidateEnrolled: row.candidate_enrolled,
    };
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
    await this.#db.query('DELETE FROM realtime_visible WHERE instance_id = :instanceId', { replacements: { instanceId } });
  }

  /**
   * Records whether the user has a visible tab on this process (see migrations/*-push-subscriptions). Written only
   * when that changes; rows of a dead process stop counting once its presence row goes stale.
   */
  async setVisible(instanceId: string, userId: number, visible: boolean): Promise<void> {
    await this.#db.query(
      visible
        ? 'INSERT INTO realtime_visible (user_id, instance_id) VALUES (:userId, :instanceId) ON CONFLICT DO NOTHING'
        : 'DELETE FROM realtime_visible WHERE user_id = :userId AND instance_id = :instanceId',
      { replacements: { instanceId, userId } },
    );
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

/** An application as the review row shows it, with its course's counts and the candidate's standing. */
export interface ApplicationWithCounts {
  application: ApplicationJSON;
  enrolledCount: number;
  pendingCount: number;
  /** The candidate is enrolled in the course (an approval enrolls): their apply panel and card say so. */
  candidateEnrolled: boolean;
}
