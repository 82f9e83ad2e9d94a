/**
 * The JSON shapes /api/admin answers, and the functions that turn the services' domain objects into them.
 * Services return domain objects (`Page`, `UserAccount`, ...); only this file knows the console's wire format.
 */
import type { Role } from '../models';
import type { ApplicationJSON } from '../services/applications';
import type { NotificationWithRecipient } from '../services/notifications';
import type { Page } from '../services/paging';
import type { PlatformStats } from '../services/stats';
import type { UserAccount } from '../services/users';

/** A page of an admin listing: offset pagination, because the console's tables jump to any page. */
export interface AdminPage<T> {
  results: T[];
  total: number;
  page: number;
  page_size: number;
}

/** The dashboard's numbers without `sockets_open`, which the API adds from the realtime layer. */
export type AdminStats = PlatformStats;

/** A notification as an admin sees it: the user-facing shape plus who received it. */
export type AdminNotificationJSON = NotificationWithRecipient;

/** An application row in the admin table: the course without its instructor, as the console's contract says. */
export type AdminApplicationJSON = Omit<ApplicationJSON, 'course'> & { course: { id: number; title: string } };

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

export function toAdminPage<T, W>(p: Page<T>, toWire: (item: T) => W): AdminPage<W> {
  return { results: p.results.map(toWire), total: p.total, page: p.page, page_size: p.pageSize };
}

export function toAdminApplicationJSON(a: ApplicationJSON): AdminApplicationJSON {
  return { ...a, course: { id: a.course.id, title: a.course.title } };
}

export function toAdminUserJSON(u: UserAccount): AdminUserJSON {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    is_active: u.isActive,
    last_login_at: u.lastLoginAt ? u.lastLoginAt.toISOString() : null,
    created_at: u.createdAt.toISOString(),
  };
}
