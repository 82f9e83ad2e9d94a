import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import type { ApplicationStatus, User } from '../../models';
import { Conflict, Forbidden, NotFound } from '../../errors';
import type { ApplicationJSON } from '../../wire';
import type { EventPublisher } from '../events';
import { insertNotificationsSql, type NotificationStore } from '../notifications/store';
import { offsetOf, offsetPage, type Page, type PageRequest } from '../paging';

/** A row of selectApplications() (exported for the realtime layer's one-row read). */
export interface ApplicationRow {
  id: number;
  status: ApplicationStatus;
  motivation: string;
  reason: string | null;
  created_at: Date;
  decided_at: Date | null;
  candidate_id: number;
  candidate_name: string;
  candidate_email: string;
  course_id: number;
  course_title: string;
  instructor_id: number;
}

/** `SELECT <application columns, then any extra> FROM applications a JOIN users u JOIN courses c`. */
export function selectApplications(...extraColumns: string[]): string {
  const columns = [
    'a.id, a.status, a.motivation, a.reason, a.created_at, a.decided_at',
    'a.candidate_id, u.name AS candidate_name, u.email AS candidate_email',
    'a.course_id, c.title AS course_title, c.instructor_id',
    ...extraColumns,
  ];
  return `SELECT ${columns.join(', ')}
    FROM applications a
    JOIN users u ON u.id = a.candidate_id
    JOIN courses c ON c.id = a.course_id`;
}

export function toApplicationJSON(r: ApplicationRow): ApplicationJSON {
  return {
    id: r.id,
    status: r.status,
    motivation: r.motivation,
    reason: r.reason,
    created_at: new Date(r.created_at).toISOString(),
    decided_at: r.decided_at ? new Date(r.decided_at).toISOString() : null,
    candidate: { id: r.candidate_id, name: r.candidate_name, email: r.candidate_email },
    course: { id: r.course_id, title: r.course_title, instructor_id: r.instructor_id },
  };
}

export interface ApplicationFilter {
  status?: ApplicationStatus;
  courseId?: number;
  limit?: number;
  offset?: number;
}

/** Pending first (they need a decision), then newest. */
const APPLICATION_ORDER = "ORDER BY (a.status = 'pending') DESC, a.created_at DESC, a.id DESC";

/**
 * Course applications: a candidate applies, the course's instructor (or an admin) decides. Each step writes
 * its notification in the same transaction, so there is never a decision without its notice or the reverse.
 */
export class ApplicationService {
  readonly #db: Sequelize;
  readonly #events: EventPublisher;
  /** Only for `noticeJobsSql`: the notice's email and push jobs are enqueued in the same statement. */
  readonly #store: NotificationStore;

  /**
   * Applying and deciding each write their notice inside their one statement, with the notification store's
   * INSERT (`insertNotificationsSql`: same row shape and title clip as every other notice), and publish its
   * `notification.created` themselves.
   */
  constructor(deps: { sequelize: Sequelize; events: EventPublisher; store: NotificationStore }) {
    this.#db = deps.sequelize;
    this.#events = deps.events;
    this.#store = deps.store;
  }

  /** Which applications an actor may see: their own, their courses', or all for an admin. */
  #scope(actor: User): { sql: string; params: Record<string, unknown> } {
    if (actor.role === 'admin') return { sql: 'TRUE', params: {} };
    if (actor.role === 'instructor') return { sql: 'c.instructor_id = :actorId', params: { actorId: actor.id } };
    return { sql: 'a.candidate_id = :actorId', params: { actorId: actor.id } };
  }

  #where(actor: User, f: ApplicationFilter): { sql: string; replacements: Record<string, unknown> } {
    const scope = this.#scope(actor);
    const where = [scope.sql];
    const replacements: Record<string, unknown> = { ...scope.params };
    if (f.status) {
      where.push('a.status = :status');
      replacements.status = f.status;
    }
    if (f.courseId !== undefined) {
      where.push('a.course_id = :courseId');
      replacements.courseId = f.courseId;
    }
    return { sql: where.join(' AND '), replacements };
  }

  async #rows(actor: User, f: ApplicationFilter) {
    const where = this.#where(actor, f);
    return this.#db.query<ApplicationRow & { total: string }>(
      `${selectApplications('count(*) OVER () AS total')} WHERE ${where.sql} ${APPLICATION_ORDER} LIMIT :limit OFFSET :offset`,
      { replacements: { ...where.replacements, limit: f.limit ?? 100, offset: f.offset ?? 0 }, type: QueryTypes.SELECT },
    );
  }

  async list(actor: User, f: ApplicationFilter = {}): Promise<{ results: ApplicationJSON[]; total: number }> {
    const rows = await this.#rows(actor, f);
    return { results: rows.map(toApplicationJSON), total: rows.length ? Number(rows[0].total) : 0 };
  }

  /** The applications the actor may see, offset-paged the console's way. */
  async page(actor: User, f: Omit<ApplicationFilter, 'limit' | 'offset'>, p: PageRequest): Promise<Page<ApplicationJSON>> {
    const rows = await this.#rows(actor, { ...f, limit: p.pageSize, offset: offsetOf(p) });
    return offsetPage(p, rows, toApplicationJSON, async () => {
      const where = this.#where(actor, f);
      const [row] = await this.#db.query<{ n: string }>(
        `SELECT count(*) AS n FROM applications a JOIN courses c ON c.id = a.course_id WHERE ${where.sql}`,
        { replacements: where.replacements, type: QueryTypes.SELECT },
      );
      return Number(row.n);
    });
  }

  /** One application the actor may see; anything else is a 404, so ids do not leak. */
  async get(actor: User, id: number, transaction?: Transaction): Promise<ApplicationJSON> {
    const scope = this.#scope(actor);
    const [row] = await this.#db.query<ApplicationRow>(`${selectApplications()} WHERE a.id = :id AND ${scope.sql}`, {
      replacements: { ...scope.params, id },
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) throw new NotFound('Application');
    return toApplicationJSON(row);
  }

  /**
   * One statement: the course lookup, the enrollment check, the application INSERT and the instructor's notice
   * (atomic, like any single statement). A second application hits the unique constraint: 409.
   */
  async apply(candidate: User, courseId: number, motivation: string): Promise<ApplicationJSON> {
    if (candidate.role !== 'candidate') throw new Forbidden('Only candidates can apply to courses.');
    let row: (ApplicationRow & { enrolled: boolean; notification_id: string | null }) | undefined;
    try {
      [row] = await this.#db.query<ApplicationRow & { enrolled: boolean; notification_id: string | null }>(
        `WITH course AS (
           SELECT c.id, c.title, c.instructor_id,
                  EXISTS (SELECT 1 FROM enrollments e WHERE e.course_id = c.id AND e.student_id = :candidateId) AS enrolled
             FROM courses c WHERE c.id = :courseId
         ), app AS (
           INSERT INTO applications (course_id, candidate_id, motivation)
           SELECT id, :candidateId, :motivation FROM course WHERE NOT enrolled
           RETURNING id, status, motivation, reason, created_at, decided_at
         ), notice AS (
           ${insertNotificationsSql(
             {
               recipientId: 'c.instructor_id',
               senderId: ':candidateId',
               type: "'application_submitted'",
               title: "'New application to ' || c.title",
               message: ":candidateName || ' applied to ' || c.title || '.'",
               data: "jsonb_build_object('application_id', a.id, 'course_id', c.id, 'candidate_id', CAST(:candidateId AS integer))",
               applicationId: 'a.id',
               courseId: 'c.id',
             },
             'FROM app a CROSS JOIN course c',
           )}
         ), jobs AS (${this.#store.noticeJobsSql('notice')})
         SELECT a.id, a.status, a.motivation, a.reason, a.created_at, a.decided_at,
                c.id AS course_id, c.title AS course_title, c.instructor_id, c.enrolled,
                (SELECT id FROM notice) AS notification_id, (SELECT count(*) FROM jobs) AS jobs
           FROM course c LEFT JOIN app a ON TRUE`,
        {
          replacements: { courseId, candidateId: candidate.id, motivation, candidateName: candidate.name },
          type: QueryTypes.SELECT,
        },
      );
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new Conflict('You have already applied to this course.');
      throw err;
    }
    if (!row) throw new NotFound('Course');
    if (row.enrolled) throw new Conflict('You are already enrolled in this course.');
    this.#events.publish({ type: 'notification.created', recipientId: row.instructor_id, id: Number(row.notification_id) });
    this.#events.publish({
      type: 'application.changed',
      applicationId: row.id,
      status: 'pending',
      courseId,
      instructorId: row.instructor_id,
      candidateId: candidate.id,
    });
    return toApplicationJSON({ ...row, candidate_id: candidate.id, candidate_name: candidate.name, candidate_email: candidate.email });
  }

  approve(actor: User, id: number): Promise<ApplicationJSON> {
    return this.#decide(actor, id, 'approved', null);
  }

  reject(actor: User, id: number, reason: string | null): Promise<ApplicationJSON> {
    return this.#decide(actor, id, 'rejected', reason);
  }

  /**
   * The whole decision is ONE statement (so one round trip, atomic without BEGIN/COMMIT): lock the application
   * (FOR UPDATE OF a: the course row is read, not locked, so decisions on one course do not queue behind each
   * other), update it if it is still pending and the actor may decide it, enroll on approval (ON CONFLICT DO
   * NOTHING) and insert the candidate's notice. Two deciders racing on one application: the second waits for the
   * lock, then sees the new status and gets the 409. Events go out after the statement, i.e. after commit.
   */
  async #decide(actor: User, id: number, status: 'approved' | 'rejected', reason: string | null) {
    if (actor.role === 'candidate') throw new Forbidden('Only instructors and admins decide applications.');
    const approved = status === 'approved';
    const [row] = await this.#db.query<ApplicationRow & { new_status: ApplicationStatus | null; notification_id: string | null }>(
      `WITH target AS (
         SELECT a.id, a.status, a.motivation, a.created_at, a.candidate_id, a.course_id, c.title AS course_title, c.instructor_id
           FROM applications a JOIN courses c ON c.id = a.course_id
          WHERE a.id = :id AND (CAST(:isAdmin AS boolean) OR c.instructor_id = :actorId)
            FOR UPDATE OF a
       ), decided AS (
         UPDATE applications a
            SET status = :status, reason = :reason, decided_by = :actorId, decided_at = now(), updated_at = now()
           FROM target t
          WHERE a.id = t.id AND t.status = 'pending'
         RETURNING a.id, a.status, a.reason, a.decided_at
       ), enrolled AS (
         INSERT INTO enrollments (course_id, student_id)
         SELECT t.course_id, t.candidate_id FROM target t JOIN decided d ON d.id = t.id
          WHERE CAST(:approved AS boolean)
         ON CONFLICT DO NOTHING
       ), notice AS (
         ${insertNotificationsSql(
           {
             recipientId: 't.candidate_id',
             senderId: ':actorId',
             type: ':type',
             title: ':titleHead || t.course_title || :titleTail',
             message: 'COALESCE(:message, :messageHead || t.course_title || :messageTail)',
             data: "jsonb_build_object('application_id', t.id, 'course_id', t.course_id) || CAST(:extra AS jsonb)",
             applicationId: 't.id',
             courseId: 't.course_id',
           },
           'FROM target t JOIN decided d ON d.id = t.id',
         )}
       ), jobs AS (${this.#store.noticeJobsSql('notice')})
       SELECT t.id, COALESCE(d.status, t.status) AS status, d.status AS new_status, t.motivation, d.reason,
              t.created_at, d.decided_at, t.candidate_id, u.name AS candidate_name, u.email AS candidate_email,
              t.course_id, t.course_title, t.instructor_id, (SELECT id FROM notice) AS notification_id,
              (SELECT count(*) FROM jobs) AS jobs
         FROM target t JOIN users u ON u.id = t.candidate_id LEFT JOIN decided d ON d.id = t.id`,
      {
        replacements: {
          id,
          actorId: actor.id,
          isAdmin: actor.role === 'admin',
          approved,
          status,
          reason,
          type: approved ? 'application_approved' : 'application_rejected',
          titleHead: 'Your application to ',
          titleTail: approved ? ' was approved' : ' was not accepted',
          message: !approved && reason ? `Reason: ${reason}` : null,
          messageHead: approved ? 'Welcome to ' : 'Your application to ',
          messageTail: approved ? '! You are now enrolled.' : ' was rejected.',
          extra: JSON.stringify(reason ? { reason } : {}),
        },
        type: QueryTypes.SELECT,
      },
    );
    // Another instructor's application is a 404 like a missing one, so ids do not leak.
    if (!row) throw new NotFound('Application');
    if (!row.new_status) throw new Conflict(`This application was already ${row.status}.`, { status: row.status });
    this.#events.publish({ type: 'notification.created', recipientId: row.candidate_id, id: Number(row.notification_id) });
    this.#events.publish({
      type: 'application.changed',
      applicationId: row.id,
      status,
      courseId: row.course_id,
      instructorId: row.instructor_id,
      candidateId: row.candidate_id,
    });
    return toApplicationJSON(row);
  }
}
