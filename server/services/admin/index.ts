import { QueryTypes, type Sequelize } from 'sequelize';
import { likePattern } from '../../db/sql';
import {
  APPLICATION_STATUSES,
  ROLES,
  type ApplicationStatus,
  type Models,
  type NotificationType,
  type Role,
  type User,
} from '../../models';
import { Conflict, Forbidden, NotFound, ValidationError } from '../../errors';
import type { ApplicationService } from '../applications';
import type { AuthService } from '../auth';
import type { EventPublisher } from '../events';
import type { Audience, NotificationService } from '../notifications';
import {
  NOTIFICATION_SELECT,
  toNotificationJSON,
  type NotificationJSON,
  type NotificationRow,
} from '../notifications/serialize';

/** A page of an admin listing: offset pagination, because the console's tables jump to any page. */
export interface AdminPage<T> {
  results: T[];
  total: number;
  page: number;
  page_size: number;
}

/** Offset pagination as the console asks for it: 1-based page, bounded page size (validated by the API). */
export interface PageRequest {
  page: number;
  pageSize: number;
}

/** The dashboard's numbers. `sockets_open` is added by the API layer, which knows the realtime hub. */
export interface AdminStats {
  /** Every account, active or not: the console shows deactivated users in the users table too. */
  users_by_role: Record<Role, number>;
  courses: number;
  applications_by_status: Record<ApplicationStatus, number>;
  /** today = since 00:00 UTC; week = the last 7 UTC days including today (the last 7 entries of per_day). */
  notifications: { today: number; week: number; total: number; unread_rate: number };
  /** 30 UTC days, oldest first, days without notifications included with count 0. */
  per_day: Array<{ date: string; count: number }>;
}

/** A notification as an admin sees it: the user-facing shape plus who received it. */
export interface AdminNotificationJSON extends NotificationJSON {
  recipient: { id: number; name: string; email: string; role: Role };
}

/** The sortable columns of the notifications table; the API accepts only these keys. */
export const NOTIFICATION_SORTS = ['created_at', 'title', 'type', 'recipient'] as const;
export type NotificationSort = (typeof NOTIFICATION_SORTS)[number];

/** Filters of the admin notifications table. Every field is optional and they combine with AND. */
export interface NotificationFilter {
  /** A user id, or text matched (case-insensitively, as a substring) against the recipient's email or name. */
  recipient?: number | string;
  type?: NotificationType;
  status?: 'all' | 'unread' | 'read';
  /** created_at >= from */
  from?: Date;
  /** created_at <= to */
  to?: Date;
  /** created_at < until (a whole day given as a date ends at the next midnight, which it excludes) */
  until?: Date;
  /** Text in the title or the message. */
  q?: string;
  sort?: NotificationSort;
  order?: 'asc' | 'desc';
}

/** What an admin composes; the sender is always the admin who sends it. */
export interface ComposedNotification {
  type: NotificationType;
  title: string;
  message: string;
  data?: Record<string, unknown>;
}

/** An application row in the admin table (the course without its instructor, as the console's contract says). */
export interface AdminApplicationJSON {
  id: number;
  status: ApplicationStatus;
  motivation: string;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  candidate: { id: number; name: string; email: string };
  course: { id: number; title: string };
}

/** A user as the admin console lists and edits it: never the password hash. */
export interface AdminUserJSON {
  id: number;
  email: string;
  name: string;
  role: Role;
  is_active: boolean;
  last_login_at: string | null;
  created_at: string;
}

/** The changes an admin may make to a user. */
export interface UserChanges {
  role?: Role;
  isActive?: boolean;
}

// Column expressions the notifications table may sort by. The SQL only ever contains these strings, never input.
const SORT_COLUMNS: Record<NotificationSort, string> = {
  created_at: 'n.created_at',
  title: 'lower(n.title)',
  type: 'n.type',
  recipient: 'lower(r.name)',
};

/** How much a role may do; a change to a lower rank ends the user's sessions so nothing keeps the old powers. */
const ROLE_RANK: Record<Role, number> = { candidate: 0, instructor: 1, admin: 2 };

// A PostgreSQL NOTIFY payload is limited to 8 kB; 500 bigint ids stay well below it.
const DELETED_IDS_PER_EVENT = 500;

/** `%`, `_` and the escape character itself are literal in a search box, not LIKE wildcards. */

interface AdminNotificationRow extends NotificationRow {
  recipient_name: string;
  recipient_email: string;
  recipient_role: Role;
}

// The shared notification SELECT plus its recipient, so the admin shape is the user shape plus one field.
const ADMIN_NOTIFICATION_SELECT = `${NOTIFICATION_SELECT.replace(
  'SELECT',
  'SELECT r.name AS recipient_name, r.email AS recipient_email, r.role AS recipient_role,',
)}
    JOIN users r ON r.id = n.recipient_id`;

function toAdminNotificationJSON(r: AdminNotificationRow): AdminNotificationJSON {
  return {
    ...toNotificationJSON(r),
    recipient: { id: r.recipient_id, name: r.recipient_name, email: r.recipient_email, role: r.recipient_role },
  };
}

interface UserRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  is_active: boolean;
  last_login_at: Date | null;
  created_at: Date;
}

function toAdminUserJSON(u: UserRow): AdminUserJSON {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    is_active: u.is_active,
    last_login_at: u.last_login_at ? new Date(u.last_login_at).toISOString() : null,
    created_at: new Date(u.created_at).toISOString(),
  };
}

const USER_COLUMNS = 'id, email, name, role, is_active, last_login_at, created_at';

/**
 * What the admin console does beyond the user-facing services: platform statistics, every user's notifications,
 * sending to an audience, and managing accounts. Sending goes through NotificationService.fanOut and application
 * listing through ApplicationService, so admins get exactly the behaviour instructors get.
 */
export class AdminService {
  readonly #db: Sequelize;
  readonly #models: Models;
  readonly #notifications: NotificationService;
  readonly #applications: ApplicationService;
  readonly #auth: AuthService;
  readonly #events: EventPublisher;

  constructor(deps: {
    sequelize: Sequelize;
    models: Models;
    notifications: NotificationService;
    applications: ApplicationService;
    auth: AuthService;
    events: EventPublisher;
  }) {
    this.#db = deps.sequelize;
    this.#models = deps.models;
    this.#notifications = deps.notifications;
    this.#applications = deps.applications;
    this.#auth = deps.auth;
    this.#events = deps.events;
  }

  // --- dashboard

  /** Two statements whatever the data size: the counters, and the 30-day series from the created_at index. */
  async stats(): Promise<AdminStats> {
    const [counts, days] = await Promise.all([
      this.#db.query<{
        users: Record<string, string> | null;
        applications: Record<string, string> | null;
        courses: string;
        today: string;
        week: string;
        total: string;
        unread: string;
      }>(
        `WITH day AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start)
         SELECT (SELECT json_object_agg(role, n) FROM (SELECT role, count(*) AS n FROM users GROUP BY role) u) AS users,
                (SELECT json_object_agg(status, n)
                   FROM (SELECT status, count(*) AS n FROM applications GROUP BY status) a) AS applications,
                (SELECT count(*) FROM courses) AS courses,
                (SELECT count(*) FROM notifications, day WHERE created_at >= day.start) AS today,
                (SELECT count(*) FROM notifications, day WHERE created_at >= day.start - interval '6 days') AS week,
                (SELECT count(*) FROM notifications) AS total,
                (SELECT count(*) FROM notifications WHERE read_at IS NULL) AS unread`,
        { type: QueryTypes.SELECT },
      ),
      this.#db.query<{ date: string; count: string }>(
        `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS d),
              counted AS (
                SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n
                  FROM notifications, today
                 WHERE created_at >= (today.d - 29)::timestamp AT TIME ZONE 'UTC'
                 GROUP BY 1)
         SELECT to_char(s.d, 'YYYY-MM-DD') AS date, COALESCE(counted.n, 0) AS count
           FROM today, generate_series((today.d - 29)::timestamp, today.d::timestamp, interval '1 day') AS s(d)
           LEFT JOIN counted ON counted.d = s.d::date
          ORDER BY s.d`,
        { type: QueryTypes.SELECT },
      ),
    ]);
    const c = counts[0];
    const byKey = <K extends string>(keys: readonly K[], found: Record<string, string> | null) =>
      Object.fromEntries(keys.map((k) => [k, Number(found?.[k] ?? 0)])) as Record<K, number>;
    const total = Number(c.total);
    return {
      users_by_role: byKey(ROLES, c.users),
      courses: Number(c.courses),
      applications_by_status: byKey(APPLICATION_STATUSES, c.applications),
      notifications: {
        today: Number(c.today),
        week: Number(c.week),
        total,
        unread_rate: total === 0 ? 0 : Number(c.unread) / total,
      },
      per_day: days.map((d) => ({ date: d.date, count: Number(d.count) })),
    };
  }

  // --- every user's notifications

  /** One statement: the page and the total (count(*) OVER ()) together; a second only for a page past the end. */
  async listNotifications(f: NotificationFilter, p: PageRequest): Promise<AdminPage<AdminNotificationJSON>> {
    const where: string[] = [];
    const replacements: Record<string, unknown> = { limit: p.pageSize, offset: (p.page - 1) * p.pageSize };
    if (typeof f.recipient === 'number') {
      where.push('n.recipient_id = :recipientId');
      replacements.recipientId = f.recipient;
    } else if (f.recipient) {
      where.push(`(r.email ILIKE :recipientLike ESCAPE '\\' OR r.name ILIKE :recipientLike ESCAPE '\\')`);
      replacements.recipientLike = likePattern(f.recipient);
    }
    if (f.type) {
      where.push('n.type = :type');
      replacements.type = f.type;
    }
    if (f.status === 'unread') where.push('n.read_at IS NULL');
    if (f.status === 'read') where.push('n.read_at IS NOT NULL');
    if (f.from) {
      where.push('n.created_at >= :from');
      replacements.from = f.from;
    }
    if (f.to) {
      where.push('n.created_at <= :to');
      replacements.to = f.to;
    }
    if (f.until) {
      where.push('n.created_at < :until');
      replacements.until = f.until;
    }
    if (f.q) {
      where.push(`(n.title ILIKE :q ESCAPE '\\' OR n.message ILIKE :q ESCAPE '\\')`);
      replacements.q = likePattern(f.q);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const dir = f.order === 'asc' ? 'ASC' : 'DESC';
    // Ties broken by id in the same direction, so a row never appears on two pages.
    const orderSql = `ORDER BY ${SORT_COLUMNS[f.sort ?? 'created_at']} ${dir}, n.id ${dir}`;

    const rows = await this.#db.query<AdminNotificationRow & { total: string }>(
      `${ADMIN_NOTIFICATION_SELECT.replace('SELECT', 'SELECT count(*) OVER () AS total,')}
       ${whereSql} ${orderSql} LIMIT :limit OFFSET :offset`,
      { replacements, type: QueryTypes.SELECT },
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    if (rows.length === 0 && p.page > 1) {
      const [row] = await this.#db.query<{ n: string }>(
        `SELECT count(*) AS n FROM notifications n JOIN users r ON r.id = n.recipient_id ${whereSql}`,
        { replacements, type: QueryTypes.SELECT },
      );
      total = Number(row.n);
    }
    return { results: rows.map(toAdminNotificationJSON), total, page: p.page, page_size: p.pageSize };
  }

  async getNotification(id: number): Promise<AdminNotificationJSON> {
    const [row] = await this.#db.query<AdminNotificationRow>(`${ADMIN_NOTIFICATION_SELECT} WHERE n.id = :id`, {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    if (!row) throw new NotFound('Notification');
    return toAdminNotificationJSON(row);
  }

  async deleteNotification(id: number): Promise<void> {
    const deleted = await this.#delete([id]);
    if (deleted === 0) throw new NotFound('Notification');
  }

  /** One DELETE for the whole selection; ids already gone are skipped, so a retry is harmless. */
  async deleteNotifications(ids: number[]): Promise<number> {
    return this.#delete([...new Set(ids)]);
  }

  /** Deletes, then tells each recipient's open bells which of their rows went away. */
  async #delete(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.#db.query<{ id: string; recipient_id: number }>(
      'DELETE FROM notifications WHERE id = ANY(CAST(:ids AS bigint[])) RETURNING id, recipient_id',
      { replacements: { ids: `{${ids.join(',')}}` }, type: QueryTypes.SELECT },
    );
    const byRecipient = new Map<number, number[]>();
    for (const r of rows) {
      const list = byRecipient.get(r.recipient_id) ?? [];
      list.push(Number(r.id));
      byRecipient.set(r.recipient_id, list);
    }
    for (const [recipientId, theirs] of byRecipient) {
      theirs.sort((a, b) => a - b);
      for (let i = 0; i < theirs.length; i += DELETED_IDS_PER_EVENT) {
        this.#events.publish({ type: 'notification.deleted', recipientId, ids: theirs.slice(i, i + DELETED_IDS_PER_EVENT) });
      }
    }
    return rows.length;
  }

  // --- composing

  /** How many active users the audience reaches now: the number the console's confirmation states. */
  async audienceCount(audience: Audience): Promise<number> {
    await this.#requireAudienceExists(audience);
    return this.#notifications.audienceSize(audience);
  }

  /** The same single INSERT ... SELECT fan-out instructors use for notify-students, whatever the audience size. */
  async send(sender: User, audience: Audience, n: ComposedNotification): Promise<number> {
    await this.#requireAudienceExists(audience);
    const { recipients } = await this.#notifications.fanOut(audience, {
      type: n.type,
      title: n.title,
      message: n.message,
      data: n.data,
      senderId: sender.id,
      // A course announcement links to its course, as the instructor's notify-students does.
      courseId: audience.kind === 'course' ? audience.courseId : null,
    });
    return recipients;
  }

  /** A course or user that does not exist is a 404, not a silent "0 recipients". */
  async #requireAudienceExists(audience: Audience): Promise<void> {
    if (audience.kind === 'course' && !(await this.#models.Course.findByPk(audience.courseId, { attributes: ['id'] }))) {
      throw new NotFound('Course');
    }
    if (audience.kind === 'user' && !(await this.#models.User.findByPk(audience.userId, { attributes: ['id'] }))) {
      throw new NotFound('User');
    }
  }

  // --- applications

  /** ApplicationService's own admin listing, paged the console's way. Decisions stay on /api/applications. */
  async listApplications(
    admin: User,
    f: { status?: ApplicationStatus; courseId?: number },
    p: PageRequest,
  ): Promise<AdminPage<AdminApplicationJSON>> {
    const offset = (p.page - 1) * p.pageSize;
    const found = await this.#applications.list(admin, { ...f, limit: p.pageSize, offset });
    let total = found.total;
    if (found.results.length === 0 && offset > 0) {
      // count(*) OVER () has no row to ride on past the last page.
      const [row] = await this.#db.query<{ n: string }>(
        `SELECT count(*) AS n FROM applications
          WHERE (CAST(:status AS text) IS NULL OR status = :status)
            AND (CAST(:courseId AS integer) IS NULL OR course_id = :courseId)`,
        { replacements: { status: f.status ?? null, courseId: f.courseId ?? null }, type: QueryTypes.SELECT },
      );
      total = Number(row.n);
    }
    return {
      results: found.results.map((a) => ({
        id: a.id,
        status: a.status,
        motivation: a.motivation,
        reason: a.reason,
        created_at: a.created_at,
        decided_at: a.decided_at,
        candidate: a.candidate,
        course: { id: a.course.id, title: a.course.title },
      })),
      total,
      page: p.page,
      page_size: p.pageSize,
    };
  }

  // --- users

  /** Ordered by name; `q` matches email or name as a substring, or the id exactly when it is a number. */
  async listUsers(f: { role?: Role; q?: string }, p: PageRequest): Promise<AdminPage<AdminUserJSON>> {
    const where: string[] = [];
    const replacements: Record<string, unknown> = { limit: p.pageSize, offset: (p.page - 1) * p.pageSize };
    if (f.role) {
      where.push('role = :role');
      replacements.role = f.role;
    }
    if (f.q) {
      const text = `email ILIKE :q ESCAPE '\\' OR name ILIKE :q ESCAPE '\\'`;
      replacements.q = likePattern(f.q);
      if (/^\d{1,9}$/.test(f.q)) {
        where.push(`(id = :qId OR ${text})`);
        replacements.qId = Number(f.q);
      } else {
        where.push(`(${text})`);
      }
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.#db.query<UserRow & { total: string }>(
      `SELECT count(*) OVER () AS total, ${USER_COLUMNS} FROM users ${whereSql}
        ORDER BY lower(name), id LIMIT :limit OFFSET :offset`,
      { replacements, type: QueryTypes.SELECT },
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    if (rows.length === 0 && p.page > 1) {
      const [row] = await this.#db.query<{ n: string }>(`SELECT count(*) AS n FROM users ${whereSql}`, {
        replacements,
        type: QueryTypes.SELECT,
      });
      total = Number(row.n);
    }
    return { results: rows.map(toAdminUserJSON), total, page: p.page, page_size: p.pageSize };
  }

  /**
   * Changes a user's role or active flag. Deactivation and any drop in role end all of the user's sessions
   * (and so their sockets) once the change has committed: nothing keeps powers the user no longer has.
   * An admin cannot deactivate or demote themselves, so the console cannot lock its last admin out.
   */
  async updateUser(actor: User, id: number, changes: UserChanges): Promise<AdminUserJSON> {
    if (changes.role === undefined && changes.isActive === undefined) {
      throw new ValidationError('Nothing to change: send role and/or is_active.', [
        { field: '(body)', message: 'role or is_active is required' },
      ]);
    }
    if (id === actor.id && (changes.isActive === false || (changes.role && changes.role !== 'admin'))) {
      throw new Conflict('You cannot deactivate or demote yourself. Ask another admin.', { user_id: id });
    }
    let endSessions = false;
    const updated = await this.#db.transaction(async (transaction) => {
      // Lock the actor too (in id order, so two admins editing each other cannot deadlock): two admins demoting
      // each other at once must not both succeed and leave the platform without an admin.
      const locked = await this.#db.query<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users WHERE id IN (:ids) ORDER BY id FOR UPDATE`,
        { replacements: { ids: [...new Set([actor.id, id])] }, type: QueryTypes.SELECT, transaction },
      );
      const me = locked.find((u) => u.id === actor.id);
      if (!me || !me.is_active || me.role !== 'admin') throw new Forbidden();
      const user = locked.find((u) => u.id === id);
      if (!user) throw new NotFound('User');
      const role = changes.role ?? user.role;
      const isActive = changes.isActive ?? user.is_active;
      endSessions = (user.is_active && !isActive) || ROLE_RANK[role] < ROLE_RANK[user.role];
      const [row] = await this.#db.query<UserRow>(
        `UPDATE users SET role = :role, is_active = :isActive, updated_at = now() WHERE id = :id
         RETURNING ${USER_COLUMNS}`,
        { replacements: { role, isActive, id }, type: QueryTypes.SELECT, transaction },
      );
      return row;
    });
    if (endSessions) await this.#auth.endAllSessions(id);
    return toAdminUserJSON(updated);
  }
}
