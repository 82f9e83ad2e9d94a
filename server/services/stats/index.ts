import { QueryTypes, type Sequelize } from 'sequelize';
import { APPLICATION_STATUSES, ROLES, type ApplicationStatus, type Role } from '../../models';
import { NOTIFICATION_COUNTERS, notificationsPerDaySql } from '../notifications/store/counters';

/** The length of the dashboard's per-day series. */
const DAYS = 30;

/**
 * The platform's numbers, as the admin dashboard shows them. `sockets_open` is not here: the API adds it from
 * the realtime layer, which services never import.
 */
export interface PlatformStats {
  /** Every account, active or not: the console shows deactivated users in the users table too. */
  users_by_role: Record<Role, number>;
  courses: number;
  applications_by_status: Record<ApplicationStatus, number>;
  /** today = since 00:00 UTC; week = the last 7 UTC days including today (the last 7 entries of per_day). */
  notifications: { today: number; week: number; total: number; unread_rate: number };
  /** 30 UTC days, oldest first, days without notifications included with count 0. */
  per_day: Array<{ date: string; count: number }>;
}

/**
 * Counts across every domain (users, courses, applications, notifications): read-only aggregate SQL over all
 * tables, so it belongs to none of them and depends on none of their services. The notification counts come
 * as SQL pieces from the notification store, so the dashboard stays two statements.
 */
export class StatsService {
  readonly #db: Sequelize;

  constructor(deps: { sequelize: Sequelize }) {
    this.#db = deps.sequelize;
  }

  /** Two statements whatever the data size: the counters, and the 30-day series from the created_at index. */
  async platform(): Promise<PlatformStats> {
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
                ${NOTIFICATION_COUNTERS.join(', ')}`,
        { type: QueryTypes.SELECT },
      ),
      this.#db.query<{ date: string; count: string }>(
        `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS d),
              counted AS (${notificationsPerDaySql(DAYS)})
         SELECT to_char(s.d, 'YYYY-MM-DD') AS date, COALESCE(counted.n, 0) AS count
           FROM today, generate_series((today.d - ${DAYS - 1})::timestamp, today.d::timestamp, interval '1 day') AS s(d)
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
}
