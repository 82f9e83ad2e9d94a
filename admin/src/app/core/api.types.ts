/** Shapes of the Herald JSON API, as the server sends them (snake_case kept on purpose). */

/** A role on the platform; only `admin` may use this console. */
export type Role = 'candidate' | 'instructor' | 'admin';
export const ROLES: readonly Role[] = ['candidate', 'instructor', 'admin'];

/** The signed-in user from `/api/auth/csrf`, `/api/auth/me` and `/api/auth/login`. */
export interface SessionUser {
  id: number;
  email: string;
  name: string;
  role: Role;
}

/** `GET /api/auth/csrf`: the session's CSRF token and who is signed in (null when nobody is). */
export interface CsrfAnswer {
  csrf_token: string;
  user: SessionUser | null;
}

/** Every API error body: `{error:{code,message,details}}`. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** A page of a server-side paginated listing. */
export interface Page<T> {
  results: T[];
  total: number;
  page: number;
  page_size: number;
}

export type NotificationType =
  | 'application_submitted'
  | 'application_approved'
  | 'application_rejected'
  | 'course_enrollment'
  | 'session_start'
  | 'exam_result'
  | 'message'
  | 'announcement'
  | 'course_update';

export interface PersonRef {
  id: number;
  name: string;
  email: string;
}

/** A notification as the user-facing API returns it. */
export interface Notification {
  id: number;
  type: NotificationType;
  title: string;
  message: string;
  data: Record<string, unknown> | null;
  is_read: boolean;
  read_at: string | null;
  created_at: string;
  sender: PersonRef | null;
  application_id: number | null;
  course_id: number | null;
  course_title: string | null;
}

/** Admin listings also say who received the notification. */
export interface AdminNotification extends Notification {
  recipient: PersonRef & { role: Role };
}

export interface AdminStats {
  users_by_role: Record<Role, number>;
  courses: number;
  applications_by_status: Record<ApplicationStatus, number>;
  notifications: { today: number; week: number; total: number; unread_rate: number };
  sockets_open: number;
  /** 30 entries, oldest first. */
  per_day: { date: string; count: number }[];
}

/** Who receives a composed notification. */
export type Audience =
  | { kind: 'user'; user_id: number }
  | { kind: 'course'; course_id: number }
  | { kind: 'role'; role: Role }
  | { kind: 'all' };

export type ApplicationStatus = 'pending' | 'approved' | 'rejected';

export interface Application {
  id: number;
  status: ApplicationStatus;
  motivation: string;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  candidate: PersonRef;
  course: { id: number; title: string };
}

export interface Course {
  id: number;
  title: string;
  description: string;
  instructor: { id: number; name: string } | null;
  enrolled_count: number;
}

export interface AdminUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  is_active: boolean;
  last_login_at: string | null;
  created_at: string;
}

/** Messages the server pushes on `/ws/notifications`. */
export type LiveMessage =
  | { type: 'connection_established'; unread_count: number }
  | { type: 'notification'; notification: Notification }
  | { type: 'unread_count'; unread_count: number }
  /** After "mark all as read", `ids` is empty and `all` is true: treat every notification shown as read. */
  | { type: 'notification_read'; ids: number[]; all?: true }
  | { type: 'admin_event'; event: AdminEventName };

export type AdminEventName = 'notification.created' | 'application.changed' | 'stats.changed';
