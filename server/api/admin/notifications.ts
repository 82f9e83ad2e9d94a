import { operation } from '../operation';
import * as schemas from '../schemas';
import * as admin from '../schemas/admin';
import { AdminNotificationPageSchema, AdminNotificationSchema, DeletedSchema } from '../schemas/admin-responses';
import { toAdminPage } from '../admin-wire';

const tag = 'Admin';
const byId = { id: schemas.notificationId };

// --- notifications of every user

const list = operation({
  method: 'get',
  path: '/admin/notifications',
  operationId: 'adminListNotifications',
  tag,
  summary: 'Every user’s notifications, filtered, sorted and paged',
  description:
    'Filters combine with AND. `q` is the full-text search of the user’s own list (same index and syntax). ' +
    '`words` are the search words to highlight in the results. `%` and `_` in `recipient` and `sender` are ' +
    'literal characters. Empty values are ignored.',
  access: ['admin'],
  scopes: ['admin'],
  query: admin.listNotificationsQuery,
  blankQueryIsAbsent: true,
  responses: { 200: { description: 'A page.', schema: AdminNotificationPageSchema } },
  handler: async function list({ services, query }, res) {
    const { page, page_size, to, course, exclude_type: excludeType, ...filter } = query;
    const found = await services.moderation.search({ ...filter, ...to, courseId: course, excludeType }, { page, pageSize: page_size });
    res.json({ ...toAdminPage(found.page, (n) => n), words: found.words });
  },
});

const show = operation({
  method: 'get',
  path: '/admin/notifications/{id}',
  operationId: 'adminGetNotification',
  tag,
  summary: 'One notification of any user',
  access: ['admin'],
  scopes: ['admin'],
  params: byId,
  responses: { 200: { description: 'The notification.', schema: AdminNotificationSchema } },
  handler: async function show({ services, params }, res) {
    res.json(await services.moderation.get(params.id));
  },
});

// --- removing: the recipients' open pages are told, so their bells drop what is gone

const remove = operation({
  method: 'delete',
  path: '/admin/notifications/{id}',
  operationId: 'adminDeleteNotification',
  tag,
  summary: 'Delete one notification of any user',
  description: 'The recipient’s open pages are told, so their bell drops it.',
  access: ['admin'],
  scopes: ['admin'],
  params: byId,
  responses: { 204: { description: 'Deleted.' } },
  handler: async function remove({ services, params }, res) {
    await services.moderation.remove(params.id);
    res.status(204).end();
  },
});

const bulkDelete = operation({
  method: 'post',
  path: '/admin/notifications/bulk-delete',
  operationId: 'adminBulkDeleteNotifications',
  tag,
  summary: 'Delete up to 1000 notifications at once',
  description: 'One statement; ids that do not exist are skipped, so a retry is harmless. Each recipient is told.',
  access: ['admin'],
  scopes: ['admin'],
  body: admin.bulkDeleteBody,
  responses: { 200: { description: 'How many were deleted.', schema: DeletedSchema } },
  handler: async function bulkDelete({ services, body }, res) {
    res.json({ deleted: await services.moderation.removeMany(body.ids) });
  },
});

export const adminNotificationOperations = [list, show, remove, bulkDelete];
