import { tokenSessionId } from '../channels/dispatcher';
import { alias, operation } from './operation';
import * as schemas from './schemas';
import {
  MarkedAllReadSchema,
  MarkedReadSchema,
  NotificationListSchema,
  NotificationSchema,
  UnreadCountSchema,
} from './schemas/responses';

/**
 * The signed-in user's own notifications. Another user's id is simply not found, whatever the verb.
 * The first original system's paths (/api/notifications/notifications, mark_as_read, mark_all_as_read) are
 * aliases at the bottom: its clients still call them.
 */
const tag = 'Notifications';
const byId = { id: schemas.notificationId };

// --- the collection

const list = operation({
  method: 'get',
  path: '/notifications',
  operationId: 'listNotifications',
  tag,
  summary: 'List or search my notifications, newest first',
  description:
    'Keyset pagination: pass the previous page’s `next_cursor` as `cursor`; any page costs what the first ' +
    'one costs. `unread_count` is the total unread, whatever the filter. With `group=true` each result is a ' +
    '`NotificationGroup`: notifications of the same kind about the same thing (applications to one course) as one ' +
    'line, placed by its newest member.',
  access: 'user',
  scopes: ['notifications:read'],
  query: schemas.listNotificationsQuery,
  responses: { 200: { description: 'A page of notifications, or of groups with `group=true`.', schema: NotificationListSchema } },
  handler: async function list({ services, user, query }, res) {
    const { exclude_type: excludeType, group, course, to, ...rest } = query;
    const opts = { ...rest, ...to, excludeType, courseId: course };
    res.json(group ? await services.notifications.listGroups(user.id, opts) : await services.notifications.list(user.id, opts));
  },
});

const unreadCount = operation({
  method: 'get',
  path: '/notifications/unread_count',
  operationId: 'getUnreadCount',
  tag,
  summary: 'How many of my notifications are unread',
  access: 'user',
  scopes: ['notifications:read'],
  responses: { 200: { description: 'The count.', schema: UnreadCountSchema } },
  handler: async function unreadCount({ services, user }, res) {
    res.json({ unread_count: await services.notifications.unreadCount(user.id) });
  },
});

const markAllRead = operation({
  method: 'post',
  path: '/notifications/mark_all_read',
  operationId: 'markAllNotificationsRead',
  tag,
  summary: 'Mark all my notifications read',
  access: 'user',
  scopes: ['notifications:write'],
  responses: { 200: { description: 'Done.', schema: MarkedAllReadSchema } },
  handler: async function markAllRead({ services, user }, res) {
    res.json({ updated: await services.notifications.inbox.markAllRead(user.id), unread_count: 0 });
  },
});

// --- the live stream

const stream = operation({
  method: 'get',
  path: '/notifications/stream',
  operationId: 'streamNotifications',
  tag,
  summary: 'Follow my notifications as server-sent events',
  description:
    'For clients and networks where WebSockets are not possible. The JSON socket’s server messages, each as an ' +
    'event named by its `type` (`connection_established`, `notification`, `unread_count`, `notification_read`, ' +
    '..., and for the sender of a recorded send `send_progress` with the `Send` as `send`) whose `data` is the same JSON. Notification events carry `id:` = the notification’s position in delivery ' +
    'order (its id, or for one that came back from snooze the frame’s `position`), and `notification_state` events ' +
    'carrying a `position` (a state change’s place in the same order) carry it as `id:`: reconnect with ' +
    '`Last-Event-ID` (EventSource does it by itself) to first receive, in order, everything missed, exactly like the ' +
    'socket’s `?since=`: the new notifications, and the state changes (read, unread, done, snoozed, deleted: each ' +
    'row’s state now) of the ones you had, then `unread_count`. Deletions are kept for this for ' +
    '`STATE_REPLAY_RETENTION_DAYS` (7) days; after a longer absence reload your lists. A comment line every 25 s ' +
    'keeps proxies open. When the server ends the ' +
    'stream (logout, token revoked: 4401) it sends a `close` event with the socket’s close code.',
  access: 'user',
  scopes: ['notifications:read'],
  query: schemas.streamQuery,
  headers: schemas.streamHeaders,
  responses: { 200: { description: 'The stream, until either side closes it.', contentType: 'text/event-stream' } },
  errors: { 503: 'This process serves no live streams.' },
  handler: function stream({ eventStreams, user, req, query, headers }, res) {
    const sessionId = req.token ? tokenSessionId(req.token.id) : req.sessionID;
    const since = headers['Last-Event-ID'] ?? query.since;
    eventStreams.open(res, { userId: user.id, sessionId, isAdmin: user.role === 'admin' }, since);
  },
});

// --- one notification

const show = operation({
  method: 'get',
  path: '/notifications/{id}',
  operationId: 'getNotification',
  tag,
  summary: 'One of my notifications',
  description: 'Another user’s notification is a 404.',
  access: 'user',
  scopes: ['notifications:read'],
  params: byId,
  responses: { 200: { description: 'The notification.', schema: NotificationSchema } },
  handler: async function show({ services, user, params }, res) {
    res.json(await services.notifications.get(user.id, params.id));
  },
});

const markRead = operation({
  method: 'patch',
  path: '/notifications/{id}/mark_read',
  operationId: 'markNotificationRead',
  tag,
  summary: 'Mark one of my notifications read',
  description: 'Idempotent. POST is accepted too.',
  access: 'user',
  scopes: ['notifications:write'],
  params: byId,
  responses: { 200: { description: 'The notification and the new unread count.', schema: MarkedReadSchema } },
  handler: async function markRead({ services, user, params }, res) {
    const notification = await services.notifications.inbox.markRead(user.id, params.id);
    res.json({ ...notification, unread_count: await services.notifications.unreadCount(user.id) });
  },
});

const markReadPost = {
  ...markRead,
  method: 'post' as const,
  operationId: 'markNotificationReadPost',
  summary: 'Mark one of my notifications read (POST form)',
  description: undefined,
};

const remove = operation({
  method: 'delete',
  path: '/notifications/{id}',
  operationId: 'deleteNotification',
  tag,
  summary: 'Delete one of my notifications',
  access: 'user',
  scopes: ['notifications:write'],
  params: byId,
  responses: { 204: { description: 'Deleted.' } },
  handler: async function remove({ services, user, params }, res) {
    await services.notifications.inbox.remove(user.id, params.id);
    res.status(204).end();
  },
});

// --- the first original system's paths, same handlers

const legacy = (of: typeof list, method: typeof list.method, suffix: string) =>
  alias(of, {
    method,
    path: `/notifications/notifications${suffix}`,
    operationId: `legacy${of.operationId[0].toUpperCase()}${of.operationId.slice(1)}`,
    tag: 'Notifications (first system’s paths)',
  });

export const notificationOperations = [
  list,
  unreadCount,
  markAllRead,
  stream,
  show,
  markRead,
  markReadPost,
  remove,
  legacy(list, 'get', ''),
  legacy(unreadCount, 'get', '/unread_count'),
  legacy(markAllRead, 'post', '/mark_all_as_read'),
  legacy(show, 'get', '/{id}'),
  legacy(markReadPost, 'post', '/{id}/mark_as_read'),
  legacy(markRead, 'patch', '/{id}/mark_as_read'),
];
