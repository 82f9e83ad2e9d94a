import { z } from 'zod';
import { APPLICATION_STATUSES, ROLES } from '../../models';
import type { PlatformStats } from '../../services/stats';
import { AdminNotificationSchema, assertSame, int, timestamp, type Same } from '../../wire';

/**
 * Response shapes of /api/admin. The console's types (`admin-wire.ts`) are derived from them; the stats, a
 * service's own type, are checked against theirs at the bottom. The admin notification is the moderation store's
 * shape, so it lives in `server/wire/`.
 */
export { AdminNotificationSchema };

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

export const AdminNotificationPageSchema = z
  .strictObject({
    ...page(AdminNotificationSchema),
    words: z
      .array(z.string())
      .describe('The words of `q` (without operators and `type:` filters), for highlighting what matched; empty without `q`.'),
  })
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

// --- the dashboard's numbers are exactly what the stats service returns, less what the API adds (a mismatch fails `tsc`)
assertSame<Same<Omit<z.output<typeof AdminStatsSchema>, 'sockets_open'>, PlatformStats>>();
