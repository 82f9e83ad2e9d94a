/**
 * The JSON shapes /api/admin answers (derived from their schemas in `schemas/admin-responses.ts`), and the functions
 * that turn the services' domain objects into them. Services return domain objects (`Page`, `UserAccount`, ...);
 * only this file knows the console's wire format.
 */
import type { z } from 'zod';
import type { Page } from '../services/paging';
import type { UserAccount } from '../services/users';
import type { ApplicationJSON } from '../wire';
import type { AdminApplicationSchema, AdminUserSchema } from './schemas/admin-responses';

/** A page of an admin listing: offset pagination, because the console's tables jump to any page. */
export interface AdminPage<T> {
  results: T[];
  total: number;
  page: number;
  page_size: number;
}

/** An application row in the admin table: the course without its instructor, as the console's contract says. */
export type AdminApplicationJSON = z.output<typeof AdminApplicationSchema>;

/** A user as the admin console lists and edits it: never the password hash. */
export type AdminUserJSON = z.output<typeof AdminUserSchema>;

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
