import { z } from 'zod';
import { APPLICATION_STATUSES, ROLES } from '../../models';
import type {
  AdminApplicationJSON,
  AdminNotificationJSON,
  AdminStats,
  AdminUserJSON,
} from '../admin-wire';
import * as admin from '../admin';
import * as schemas from '../schemas';
import { NotificationSchema, RecipientsSchema } from './components';
import type { ApiOperation } from './operation';

// --- response shapes of /api/admin (checked against the admin service's types at the bottom)

const int = z.number().int();
const timestamp = z.iso.datetime();
const page = <T extends z.ZodType>(results: T) => ({
  results: z.array(results),
  total: int.describe('Every match, across all pages.'),
  page: int,
  page_size: int,
});

export const AdminStatsSchema = z
  .strictObject({
    users_by_role: z.strictObject({ candidate: int, instructor: int, admin: int }).describe('Every account, active or not.'),
    courses: int,
    applications_by_status: z.strictObject({ pending: int, approved: int, rejected: int }),
    notifications: z.strictObject({
      today: int.describe('Since 00:00 UTC.'),
      week: int.describe('The last 7 UTC days, today included.'),
      total: int,
      unread_rate: z.number().min(0).max(1).describe('Unread share of all notifications; 0 when there are none.'),
    }),
    sockets_open: int.describe('WebSocket connections open right now.'),
    per_day: z
      .array(z.strictObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('YYYY-MM-DD'), count: int }))
      .describe('The last 30 UTC days, oldest first, days without notifications included.'),
  })
  .meta({ id: 'AdminStats', description: 'The admin dashboard’s numbers.' });

export const AdminNotificationSchema = z
  .strictObject({
    ...NotificationSchema.shape,
    recipient: z.strictObject({ id: int, name: z.string(), email: z.string(), role: z.enum(ROLES) }),
  })
  .meta({ id: 'AdminNotification', description: 'Any user’s notification, with its recipient.' });

export const AdminNotificationPageSchema = z
  .strictObject(page(AdminNotificationSchema))
  .meta({ id: 'AdminNotificationPage', description: 'A page of notifications of every user.' });

export const AdminApplicationSchema = z
  .strictObject({
    id: int,
    status: z.enum(APPLICATION_STATUSES),
    motivation: z.string(),
    reason: z.string().nullable(),
    created_at: timestamp,
    decided_at: timestamp.nullable(),
    candidate: z.strictObject({ id: int, name: z.string(), email: z.string() }),
    course: z.strictObject({ id: int, title: z.string() }),
  })
  .meta({ id: 'AdminApplication', description: 'An application as the admin table lists it.' });

export const AdminApplicationPageSchema = z
  .strictObject(page(AdminApplicationSchema))
  .meta({ id: 'AdminApplicationPage', description: 'A page of applications, pending first, then newest.' });

export const AdminUserSchema = z
  .strictObject({
    id: int,
    email: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    is_active: z.boolean(),
    last_login_at: timestamp.nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'AdminUser', description: 'A user as admins see it (never the password hash).' });

export const AdminUserPageSchema = z
  .strictObject(page(AdminUserSchema))
  .meta({ id: 'AdminUserPage', description: 'A page of users, by name.' });

export const AudienceCountSchema = z
  .strictObject({ count: int.describe('Active users the audience reaches now.') })
  .meta({ id: 'AudienceCount', description: 'How many people a send to this audience would reach.' });

export const DeletedSchema = z
  .strictObject({ deleted: int.describe('How many of the ids existed and were deleted.') })
  .meta({ id: 'Deleted', description: 'The result of a bulk delete.' });

const ADMIN = ['admin'] as const;
const byId = { id: schemas.id };
const byNotificationId = { id: schemas.notificationId };

/**
 * The admin API's operations (`/api/admin/...`), documented by the admin area next to its own request
 * schemas. The contract test fails for any route under /api that no operation documents.
 */
export const adminOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/admin/stats',
    operationId: 'adminGetStats',
    tag: 'Admin',
    summary: 'Dashboard numbers',
    description: 'Users, courses, applications, notifications (UTC days) and open sockets, right now.',
    access: ADMIN,
    responses: { 200: { description: 'The numbers.', schema: AdminStatsSchema } },
  },
  {
    method: 'get',
    path: '/admin/notifications',
    operationId: 'adminListNotifications',
    tag: 'Admin',
    summary: 'Every user’s notifications, filtered, sorted and paged',
    description: 'Filters combine with AND. `%` and `_` in text filters are literal characters. Empty values are ignored.',
    access: ADMIN,
    query: admin.listNotificationsQuery,
    responses: { 200: { description: 'A page.', schema: AdminNotificationPageSchema } },
  },
  {
    method: 'get',
    path: '/admin/notifications/{id}',
    operationId: 'adminGetNotification',
    tag: 'Admin',
    summary: 'One notification of any user',
    access: ADMIN,
    params: byNotificationId,
    responses: { 200: { description: 'The notification.', schema: AdminNotificationSchema } },
  },
  {
    method: 'delete',
    path: '/admin/notifications/{id}',
    operationId: 'adminDeleteNotification',
    tag: 'Admin',
    summary: 'Delete one notification of any user',
    description: 'The recipient’s open pages are told, so their bell drops it.',
    access: ADMIN,
    params: byNotificationId,
    responses: { 204: { description: 'Deleted.' } },
  },
  {
    method: 'post',
    path: '/admin/notifications/bulk-delete',
    operationId: 'adminBulkDeleteNotifications',
    tag: 'Admin',
    summary: 'Delete up to 1000 notifications at once',
    description: 'One statement; ids that do not exist are skipped, so a retry is harmless. Each recipient is told.',
    access: ADMIN,
    body: admin.bulkDeleteBody,
    responses: { 200: { description: 'How many were deleted.', schema: DeletedSchema } },
  },
  {
    method: 'post',
    path: '/admin/notifications/send',
    operationId: 'adminSendNotification',
    tag: 'Admin',
    summary: 'Send a notification to a user, a course’s students, a role or everyone',
    description:
      'One set-based insert whatever the audience size; only active users receive it; the sender is the admin. ' +
      'A course audience links the notification to the course.',
    access: ADMIN,
    body: admin.sendBody,
    responses: { 200: { description: 'How many people received it.', schema: RecipientsSchema } },
    errors: { 404: 'The audience’s user or course does not exist.' },
  },
  {
    method: 'post',
    path: '/admin/audience/count',
    operationId: 'adminCountAudience',
    tag: 'Admin',
    summary: 'How many people an audience reaches',
    description: 'For the confirmation before sending.',
    access: ADMIN,
    body: admin.audienceBody,
    responses: { 200: { description: 'The count.', schema: AudienceCountSchema } },
    errors: { 404: 'The audience’s user or course does not exist.' },
  },
  {
    method: 'get',
    path: '/admin/applications',
    operationId: 'adminListApplications',
    tag: 'Admin',
    summary: 'Every application, filtered and paged',
    description: 'Approve and reject with `POST /api/applications/{id}/approve` and `/reject`, as instructors do.',
    access: ADMIN,
    query: admin.listApplicationsQuery,
    responses: { 200: { description: 'A page.', schema: AdminApplicationPageSchema } },
  },
  {
    method: 'get',
    path: '/admin/users',
    operationId: 'adminListUsers',
    tag: 'Admin',
    summary: 'Users, filtered and paged',
    access: ADMIN,
    query: admin.listUsersQuery,
    responses: { 200: { description: 'A page.', schema: AdminUserPageSchema } },
  },
  {
    method: 'patch',
    path: '/admin/users/{id}',
    operationId: 'adminUpdateUser',
    tag: 'Admin',
    summary: 'Change a user’s role or active flag',
    description:
      'Deactivating a user, or lowering their role, ends all their sessions and closes their sockets. ' +
      'Unknown fields are refused.',
    access: ADMIN,
    params: byId,
    body: admin.updateUserBody,
    responses: { 200: { description: 'The user.', schema: AdminUserSchema } },
    errors: { 409: 'An admin cannot deactivate or demote themselves.' },
  },
];

// --- the documented shapes are exactly what the admin service returns (a mismatch fails `tsc`)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<T extends true>(): T | void {}
assertSame<Same<Omit<z.output<typeof AdminStatsSchema>, 'sockets_open'>, AdminStats>>();
assertSame<Same<z.output<typeof AdminNotificationSchema>, AdminNotificationJSON>>();
assertSame<Same<z.output<typeof AdminApplicationSchema>, AdminApplicationJSON>>();
assertSame<Same<z.output<typeof AdminUserSchema>, AdminUserJSON>>();
