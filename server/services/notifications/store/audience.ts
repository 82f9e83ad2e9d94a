import type { Role } from '../../../models';

/** Who a fan-out reaches. Each kind is a SELECT of user ids, so the fan-out stays one statement. */
export type Audience =
  | { kind: 'course'; courseId: number }
  | { kind: 'user'; userId: number }
  | { kind: 'role'; role: Role }
  | { kind: 'all' };

/**
 * Active users only: a deactivated account receives nothing. `bound`, where the kind has one, selects a superset
 * of the audience from one index (a course's enrolments, active or not): when it has no more rows than a limit,
 * neither has the audience, and the exact count (a join with users) can be skipped.
 */
export function audienceSql(a: Audience): { sql: string; params: Record<string, unknown>; bound?: string } {
  switch (a.kind) {
    case 'course':
      return {
        sql: `SELECT e.student_id FROM enrollments e JOIN users u ON u.id = e.student_id AND u.is_active
               WHERE e.course_id = :audienceCourseId`,
        params: { audienceCourseId: a.courseId },
        bound: 'SELECT e.student_id FROM enrollments e WHERE e.course_id = :audienceCourseId',
      };
    case 'user':
      return { sql: 'SELECT id FROM users WHERE id = :audienceUserId AND is_active', params: { audienceUserId: a.userId } };
    case 'role':
      return { sql: 'SELECT id FROM users WHERE role = :audienceRole AND is_active', params: { audienceRole: a.role } };
    case 'all':
      return { sql: 'SELECT id FROM users WHERE is_active', params: {} };
  }
}

/** Where a recorded send's audience stops: fixed when the send is recorded (see migration chunked-sends). */
export interface AudienceBounds {
  /** The highest user id when the send was recorded: every user created afterwards is above it. */
  maxId: number;
  /** The record time: users (and a course's enrolments) created later are out. */
  asOf: Date;
}

/**
 * The audience of a recorded send as of its record time, in user id order after `:afterId` (a keyset), optionally
 * at most `:limit` of them: one chunk. Activity is read as it is when the chunk runs (an account deactivated
 * meanwhile receives nothing, like everywhere else).
 */
export function fixedAudienceSql(a: Audience, opts: { limit: boolean }): { sql: string; params: Record<string, unknown> } {
  const tail = opts.limit ? 'LIMIT :limit' : '';
  const bounded = (col: string) => `${col} > :afterId AND ${col} <= :audienceMaxId`;
  switch (a.kind) {
    case 'course':
      return {
        sql: `SELECT e.student_id AS id FROM enrollments e
                JOIN users u ON u.id = e.student_id AND u.is_active AND u.created_at <= :audienceAsOf
               WHERE e.course_id = :audienceCourseId AND e.created_at <= :audienceAsOf AND ${bounded('e.student_id')}
               ORDER BY e.student_id ${tail}`,
        params: { audienceCourseId: a.courseId },
      };
    case 'user':
    case 'role':
    case 'all': {
      const { sql, params } = audienceSql(a);
      // Each of these is `SELECT id FROM users WHERE ...`: the bounds are more conditions on the same scan.
      return { sql: `${sql} AND created_at <= :audienceAsOf AND ${bounded('id')} ORDER BY id ${tail}`, params };
    }
  }
}
