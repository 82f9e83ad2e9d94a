import { Router } from 'express';
import { z } from 'zod';
import { currentUser, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import { APPLICATION_STATUSES, BROADCAST_TYPES, NOTIFICATION_TYPES, ROLES } from '../models';
import type { Services } from '../services';
import { NOTIFICATION_SORTS, type Audience } from '../services/notifications';
import { toAdminApplicationJSON, toAdminPage, toAdminUserJSON } from './admin-wire';
import { id, notificationData, notificationId, text } from './schemas';

/** What the admin API needs from the rest of the process. */
export interface AdminApiDeps {
  services: Services;
  /** Open WebSocket connections right now, from the realtime hub; the dashboard shows 0 without one. */
  socketsOpen?: () => Promise<number>;
}

// --- request schemas, exported for the OpenAPI document (query values arrive as strings; bad ones are a 400)

/** The console leaves a cleared filter as `?type=`: an empty value means "no filter", not a bad one. */
function withoutBlanks(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
}

const paging = {
  page: z.coerce.number().int().min(1).max(100_000).default(1).describe('1-based page number.'),
  page_size: z.coerce.number().int().min(1).max(100).default(25).describe('Rows per page, at most 100.'),
};

/** An ISO 8601 instant with its offset, or a plain date meaning that UTC day. */
const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const DAY_MS = 86_400_000;

export const listNotificationsQuery = z.object({
  recipient: text(254)
    .transform((r) => (/^\d{1,9}$/.test(r) ? Number(r) : r || undefined))
    .optional()
    .describe('A user id, or text found (case-insensitively) in the recipient’s email or name.'),
  type: z.enum(NOTIFICATION_TYPES).optional(),
  status: z.enum(['all', 'unread', 'read']).default('all').describe('Read state.'),
  from: isoDate
    .transform((d) => new Date(d))
    .optional()
    .describe('Created at or after: an ISO 8601 instant with offset, or a date (its 00:00 UTC).'),
  // Inclusive either way: an instant is the last moment included, a plain date includes that whole UTC day.
  to: isoDate
    .transform((d) => (d.length === 10 ? { until: new Date(Date.parse(d) + DAY_MS) } : { to: new Date(d) }))
    .optional()
    .describe('Created at or before: an ISO 8601 instant with offset, or a date (that whole UTC day).'),
  q: text(200).optional().describe('Text found (case-insensitively) in the title or the message.'),
  sort: z.enum(NOTIFICATION_SORTS).default('created_at').describe('`recipient` sorts by the recipient’s name.'),
  order: z.enum(['asc', 'desc']).default('desc'),
  ...paging,
});

export const bulkDeleteBody = z.object({
  ids: z
    .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
    .min(1)
    .max(1000)
    .describe('Notification ids, at most 1000; ids already gone are skipped.'),
});

export const audience = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), user_id: id }),
  z.object({ kind: z.literal('course'), course_id: id }),
  z.object({ kind: z.literal('role'), role: z.enum(ROLES) }),
  z.object({ kind: z.literal('all') }),
]);

/** The wire's snake_case audience as the notification service's. */
function toAudience(a: z.output<typeof audience>): Audience {
  switch (a.kind) {
    case 'user':
      return { kind: 'user', userId: a.user_id };
    case 'course':
      return { kind: 'course', courseId: a.course_id };
    case 'role':
      return { kind: 'role', role: a.role };
    case 'all':
      return { kind: 'all' };
  }
}

export const audienceBody = z.object({ audience });

export const sendBody = z.object({
  audience,
  notification_type: z.enum(BROADCAST_TYPES),
  title: text(200).min(1),
  message: text(5000).default(''),
  data: notificationData,
});

export const listApplicationsQuery = z.object({
  status: z.enum(APPLICATION_STATUSES).optional(),
  course_id: id.optional(),
  ...paging,
});

export const listUsersQuery = z.object({
  role: z.enum(ROLES).optional(),
  q: text(200).optional().describe('Text found in the email or name, or a user id.'),
  ...paging,
});

// Unknown fields are refused rather than ignored, so nobody believes they renamed a user through this.
export const updateUserBody = z.strictObject({ role: z.enum(ROLES).optional(), is_active: z.boolean().optional() });

/** The admin console's API. Admin role only: anonymous is a 401, any other role a 403. */
export function adminApi({ services, socketsOpen = async () => 0 }: AdminApiDeps) {
  const router = Router();
  const { moderation, compose, applications, users } = services;
  router.use(requireRole('admin'));

  // --- dashboard
  router.get('/stats', async function stats(_req, res) {
    const [numbers, sockets] = await Promise.all([services.stats.platform(), socketsOpen()]);
    const { per_day, ...counts } = numbers;
    res.json({ ...counts, sockets_open: sockets, per_day });
  });

  // --- notifications of every user
  router.get('/notifications', async function listNotifications(req, res) {
    const { page, page_size, to, ...filter } = parse(listNotificationsQuery, withoutBlanks(req.query));
    res.json(toAdminPage(await moderation.search({ ...filter, ...to }, { page, pageSize: page_size }), (n) => n));
  });

  router.post('/notifications/bulk-delete', async function bulkDelete(req, res) {
    const { ids } = parse(bulkDeleteBody, req.body);
    res.json({ deleted: await moderation.removeMany(ids) });
  });

  router.post('/notifications/send', async function send(req, res) {
    const body = parse(sendBody, req.body);
    const recipients = await compose.send(currentUser(req), toAudience(body.audience), {
      type: body.notification_type,
      title: body.title,
      message: body.message,
      data: body.data,
    });
    res.json({ recipients });
  });

  router.get('/notifications/:id', async function show(req, res) {
    res.json(await moderation.get(parse(notificationId, req.params.id)));
  });

  router.delete('/notifications/:id', async function remove(req, res) {
    await moderation.remove(parse(notificationId, req.params.id));
    res.status(204).end();
  });

  // --- composing: the confirmation's count
  router.post('/audience/count', async function audienceCount(req, res) {
    const body = parse(audienceBody, req.body);
    res.json({ count: await compose.audienceCount(toAudience(body.audience)) });
  });

  // --- applications (approve and reject stay on /api/applications/:id/approve|reject, shared with instructors)
  router.get('/applications', async function listApplications(req, res) {
    const q = parse(listApplicationsQuery, withoutBlanks(req.query));
    res.json(
      toAdminPage(
        await applications.page(currentUser(req), { status: q.status, courseId: q.course_id }, { page: q.page, pageSize: q.page_size }),
        toAdminApplicationJSON,
      ),
    );
  });

  // --- users
  router.get('/users', async function listUsers(req, res) {
    const { page, page_size, ...filter } = parse(listUsersQuery, withoutBlanks(req.query));
    res.json(toAdminPage(await users.list(filter, { page, pageSize: page_size }), toAdminUserJSON));
  });

  router.patch('/users/:id', async function updateUser(req, res) {
    const body = parse(updateUserBody, req.body);
    res.json(
      toAdminUserJSON(await users.update(currentUser(req), parse(id, req.params.id), { role: body.role, isActive: body.is_active })),
    );
  });

  return router;
}
