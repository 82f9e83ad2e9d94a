import { QueryTypes, type Sequelize } from 'sequelize';
import { likePattern } from '../../db/sql';
import type { Models, NotificationType, User } from '../../models';
import { NotFound } from '../../errors';
import type { BroadcastJSON, CourseJSON } from '../../wire';
import type { FanOutResult, NotificationService } from '../notifications';

interface CourseRow {
  id: number;
  title: string;
  description: string;
  instructor_id: number;
  instructor_name: string;
  enrolled_count: string;
  pending_count: string;
  my_application_id: number | null;
  my_application_status: string | null;
  is_enrolled: boolean;
}

function toCourseJSON(r: CourseRow): CourseJSON {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    instructor: { id: r.instructor_id, name: r.instructor_name },
    enrolled_count: Number(r.enrolled_count),
    pending_count: Number(r.pending_count),
    my_application: r.my_application_id ? { id: r.my_application_id, status: r.my_application_status! } : null,
    is_enrolled: r.is_enrolled,
  };
}

const COURSE_SELECT = `
  SELECT c.id, c.title, c.description, c.instructor_id, i.name AS instructor_name,
         (SELECT count(*) FROM enrollments e WHERE e.course_id = c.id) AS enrolled_count,
         (SELECT count(*) FROM applications a WHERE a.course_id = c.id AND a.status = 'pending') AS pending_count,
         ma.id AS my_application_id, ma.status AS my_application_status,
         EXISTS (SELECT 1 FROM enrollments e WHERE e.course_id = c.id AND e.student_id = :viewerId) AS is_enrolled
    FROM courses c
    JOIN users i ON i.id = c.instructor_id
    LEFT JOIN applications ma ON ma.course_id = c.id AND ma.candidate_id = :viewerId`;

export interface NotifyStudentsInput {
  type: NotificationType;
  title: string;
  message: string;
  data?: Record<string, unknown>;
  /** The client's key for this send: the same key again answers with the first result and sends nothing. */
  idempotencyKey?: string;
}

/** The catalogue, enrollments and the instructor's broadcast to a course. */
export class CourseService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #notifications: NotificationService;

  constructor(deps: { sequelize: Sequelize; models: Models; notifications: NotificationService }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#notifications = deps.notifications;
  }

  async list(viewerId: number | null, opts: { q?: string; instructorId?: number } = {}): Promise<CourseJSON[]> {
    const where: string[] = [];
    const replacements: Record<string, unknown> = { viewerId: viewerId ?? 0 };
    if (opts.q) {
      where.push("c.title ILIKE :q ESCAPE '\\'");
      replacements.q = likePattern(opts.q);
    }
    if (opts.instructorId !== undefined) {
      where.push('c.instructor_id = :instructorId');
      replacements.instructorId = opts.instructorId;
    }
    const rows = await this.#db.query<CourseRow>(
      `${COURSE_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.title, c.id`,
      { replacements, type: QueryTypes.SELECT },
    );
    return rows.map(toCourseJSON);
  }

  async get(viewerId: number | null, id: number): Promise<CourseJSON> {
    const [row] = await this.#db.query<CourseRow>(`${COURSE_SELECT} WHERE c.id = :id`, {
      replacements: { viewerId: viewerId ?? 0, id },
      type: QueryTypes.SELECT,
    });
    if (!row) throw new NotFound('Course');
    return toCourseJSON(row);
  }

  /**
   * Loads a course the actor may manage: its instructor or an admin. Another instructor's course is "not found",
   * as another user's record always is, on the API and on the pages alike.
   */
  async #managed(actor: User, courseId: number) {
    const course = await this.#models.Course.findByPk(courseId);
    if (!course || (actor.role !== 'admin' && course.instructorId !== actor.id)) throw new NotFound('Course');
    return course;
  }

  /**
   * Enrolls a candidate directly and notifies them in the same transaction. Who may enroll whom is decided in the
   * statement itself: an admin, any active candidate; the course's instructor, an active candidate who applied to
   * this course, whatever became of the application (it is the candidate's own request to join: pending, the
   * instructor may accept it this way too; rejected, they may revisit it), or one already in it (a retry). The
   * instructor already sees exactly these people in their applications. Every other case (unknown id, not a candidate, deactivated,
   * never applied, someone else's course) is the same 404, so the answer reveals nothing about other users.
   * Enrolling twice announces nothing.
   */
  async enroll(actor: User, courseId: number, studentId: number): Promise<void> {
    await this.#db.transaction(async (transaction) => {
      const [row] = await this.#db.query<{ title: string | null; found: boolean; added: boolean }>(
        `WITH course AS (SELECT id, title, instructor_id FROM courses WHERE id = :courseId),
              student AS (
                SELECT u.id FROM users u, course c
                 WHERE u.id = :studentId AND u.role = 'candidate' AND u.is_active
                   AND (:isAdmin OR (c.instructor_id = :actorId AND (
                        EXISTS (SELECT 1 FROM applications a WHERE a.course_id = c.id AND a.candidate_id = u.id)
                        OR EXISTS (SELECT 1 FROM enrollments e WHERE e.course_id = c.id AND e.student_id = u.id))))),
              added AS (INSERT INTO enrollments (course_id, student_id) SELECT :courseId, id FROM student
                        ON CONFLICT DO NOTHING RETURNING student_id)
         SELECT (SELECT title FROM course) AS title, EXISTS (SELECT 1 FROM student) AS found,
                EXISTS (SELECT 1 FROM added) AS added`,
        {
          replacements: { courseId, studentId, actorId: actor.id, isAdmin: actor.role === 'admin' },
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      if (row.title === null) throw new NotFound('Course');
      if (!row.found) throw new NotFound('Student');
      if (!row.added) return; // already enrolled: nothing to announce
      await this.#notifications.create(
        {
          recipientId: studentId,
          senderId: actor.id,
          type: 'course_enrollment',
          title: `You are enrolled in ${row.title}`,
          message: `You now have access to ${row.title}.`,
          courseId,
          data: { course_id: courseId },
        },
        transaction,
      );
    });
  }

  /** The instructor's broadcast: one set-based INSERT for every enrolled student (recorded chunks above SEND_INLINE_MAX). */
  async notifyStudents(actor: User, courseId: number, input: NotifyStudentsInput): Promise<FanOutResult> {
    await this.#managed(actor, courseId);
    return this.#notifications.fanOut(
      { kind: 'course', courseId },
      {
        type: input.type,
        title: input.title,
        message: input.message,
        data: { ...input.data, course_id: courseId },
        senderId: actor.id,
        courseId,
      },
      { idempotencyKey: input.idempotencyKey },
    );
  }

  /** What was sent to the course's students lately (by anyone allowed to), so its managers see what went out. */
  async broadcasts(actor: User, courseId: number, limit = 20): Promise<BroadcastJSON[]> {
    await this.#managed(actor, courseId);
    return this.#notifications.courseBroadcasts(courseId, limit);
  }
}
