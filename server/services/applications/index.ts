import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from 'sequelize';
import type { ApplicationStatus, Models, User } from '../../models';
import { Conflict, Forbidden, NotFound } from '../../http/errors';
import type { EventPublisher } from '../events';
import type { NotificationService } from '../notifications';

export interface ApplicationJSON {
  id: number;
  status: ApplicationStatus;
  motivation: string;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  candidate: { id: number; name: string; email: string };
  course: { id: number; title: string; instructor_id: number };
}

interface ApplicationRow {
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

const APPLICATION_SELECT = `
  SELECT a.id, a.status, a.motivation, a.reason, a.created_at, a.decided_at,
         a.candidate_id, u.name AS candidate_name, u.email AS candidate_email,
         a.course_id, c.title AS course_title, c.instructor_id
    FROM applications a
    JOIN users u ON u.id = a.candidate_id
    JOIN courses c ON c.id = a.course_id`;

function toApplicationJSON(r: ApplicationRow): ApplicationJSON {
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

/**
 * Course applications: a candidate applies, the course's instructor (or an admin) decides. Each step writes
 * its notification in the same transaction, so there is never a decision without its notice or the reverse.
 */
export class ApplicationService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #notifications: NotificationService;
  readonly #events: EventPublisher;

  constructor(deps: { sequelize: Sequelize; models: Models; notifications: NotificationService; events: EventPublisher }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#notifications = deps.notifications;
    this.#events = deps.events;
  }

  /** Which applications an actor may see: their own, their courses', or all for an admin. */
  #scope(actor: User): { sql: string; params: Record<string, unknown> } {
    if (actor.role === 'admin') return { sql: 'TRUE', params: {} };
    if (actor.role === 'instructor') return { sql: 'c.instructor_id = :actorId', params: { actorId: actor.id } };
    return { sql: 'a.candidate_id = :actorId', params: { actorId: actor.id } };
  }

  async list(actor: User, f: ApplicationFilter = {}): Promise<{ results: ApplicationJSON[]; total: number }> {
    const scope = this.#scope(actor);
    const where = [scope.sql];
    const replacements: Record<string, unknown> = { ...scope.params, limit: f.limit ?? 100, offset: f.offset ?? 0 };
    if (f.status) {
      where.push('a.status = :status');
      replacements.status = f.status;
    }
    if (f.courseId !== undefined) {
      where.push('a.course_id = :courseId');
      replacements.courseId = f.courseId;
    }
    const rows = await this.#db.query<ApplicationRow & { total: string }>(
      `${APPLICATION_SELECT.replace('SELECT', 'SELECT count(*) OVER () AS total,')}
        WHERE ${where.join(' AND ')}
        ORDER BY (a.status = 'pending') DESC, a.created_at DESC, a.id DESC
        LIMIT :limit OFFSET :offset`,
      { replacements, type: QueryTypes.SELECT },
    );
    return { results: rows.map(toApplicationJSON), total: rows.length ? Number(rows[0].total) : 0 };
  }

  /** One application the actor may see; anything else is a 404, so ids do not leak. */
  async get(actor: User, id: number, transaction?: Transaction): Promise<ApplicationJSON> {
    const scope = this.#scope(actor);
    const [row] = await this.#db.query<ApplicationRow>(`${APPLICATION_SELECT} WHERE a.id = :id AND ${scope.sql}`, {
      replacements: { ...scope.params, id },
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) throw new NotFound('Application');
    return toApplicationJSON(row);
  }

  async apply(candidate: User, courseId: number, motivation: string): Promise<ApplicationJSON> {
    if (candidate.role !== 'candidate') throw new Forbidden('Only candidates can apply to courses.');
    const course = await this.#models.Course.findByPk(courseId);
    if (!course) throw new NotFound('Course');
    const enrolled = await this.#models.Enrollment.findOne({ where: { courseId, studentId: candidate.id } });
    if (enrolled) throw new Conflict('You are already enrolled in this course.');
    let applicationId = 0;
    try {
      await this.#db.transaction(async (transaction) => {
        const application = await this.#models.Application.create(
          { courseId, candidateId: candidate.id, motivation },
          { transaction },
        );
        applicationId = application.id;
        await this.#notifications.create(
          {
            recipientId: course.instructorId,
            senderId: candidate.id,
            type: 'application_submitted',
            title: `New application to ${course.title}`,
            message: `${candidate.name} applied to ${course.title}.`,
            applicationId,
            courseId,
            data: { application_id: applicationId, course_id: courseId, candidate_id: candidate.id },
          },
          transaction,
        );
        this.#announce(transaction, applicationId, 'pending', courseId);
      });
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new Conflict('You have already applied to this course.');
      throw err;
    }
    return this.get(candidate, applicationId);
  }

  approve(actor: User, id: number): Promise<ApplicationJSON> {
    return this.#decide(actor, id, 'approved', null);
  }

  reject(actor: User, id: number, reason: string | null): Promise<ApplicationJSON> {
    return this.#decide(actor, id, 'rejected', reason);
  }

  async #decide(actor: User, id: number, status: 'approved' | 'rejected', reason: string | null) {
    if (actor.role === 'candidate') throw new Forbidden('Only instructors and admins decide applications.');
    await this.#db.transaction(async (transaction) => {
      // Lock the row so two deciders racing on one application cannot both win.
      const application = await this.#models.Application.findByPk(id, {
        include: [{ association: 'course', required: true }],
        lock: transaction.LOCK.UPDATE,
        transaction,
      });
      const course = application?.course;
      if (!application || !course || (actor.role !== 'admin' && course.instructorId !== actor.id)) {
        throw new NotFound('Application');
      }
      if (application.status !== 'pending') {
        throw new Conflict(`This application was already ${application.status}.`, { status: application.status });
      }
      await application.update({ status, reason, decidedBy: actor.id, decidedAt: new Date() }, { transaction });
      if (status === 'approved') {
        await this.#models.Enrollment.findOrCreate({
          where: { courseId: course.id, studentId: application.candidateId },
          transaction,
        });
      }
      await this.#notifications.create(
        {
          recipientId: application.candidateId,
          senderId: actor.id,
          type: status === 'approved' ? 'application_approved' : 'application_rejected',
          title:
            status === 'approved'
              ? `Your application to ${course.title} was approved`
              : `Your application to ${course.title} was not accepted`,
          message:
            status === 'approved'
              ? `Welcome to ${course.title}! You are now enrolled.`
              : reason
                ? `Reason: ${reason}`
                : `Your application to ${course.title} was rejected.`,
          applicationId: application.id,
          courseId: course.id,
          data: { application_id: application.id, course_id: course.id, ...(reason ? { reason } : {}) },
        },
        transaction,
      );
      this.#announce(transaction, application.id, status, course.id);
    });
    return this.get(actor, id);
  }

  #announce(transaction: Transaction, applicationId: number, status: string, courseId: number) {
    transaction.afterCommit(() => this.#events.publish({ type: 'application.changed', applicationId, status, courseId }));
  }
}
