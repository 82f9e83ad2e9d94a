import type { Role } from '../../../models';

/** Who a fan-out reaches. Each kind is a SELECT of user ids, so the fan-out stays one statement. */
export type Audience =
  | { kind: 'course'; courseId: number }
  | { kind: 'user'; userId: number }
  | { kind: 'role'; role: Role }
  | { kind: 'all' };

/** Active users only: a deactivated account receives nothing. */
export function audienceSql(a: Audience): { sql: string; params: Record<string, unknown> } {
  switch (a.kind) {
    case 'course':
      return {
        sql: `SELECT e.student_id FROM enrollments e JOIN users u ON u.id = e.student_id AND u.is_active
               WHERE e.course_id = :audienceCourseId`,
        params: { audienceCourseId: a.courseId },
      };
    case 'user':
      return { sql: 'SELECT id FROM users WHERE id = :audienceUserId AND is_active', params: { audienceUserId: a.userId } };
    case 'role':
      return { sql: 'SELECT id FROM users WHERE role = :audienceRole AND is_active', params: { audienceRole: a.role } };
    case 'all':
      return { sql: 'SELECT id FROM users WHERE is_active', params: {} };
  }
}
