import { operation } from './operation';
import * as schemas from './schemas';
import { BulkResultSchema, MarkedReadSchema } from './schemas/responses';
import type { StateAction } from '../services/notifications';

/**
 * The inbox's states (issue 14): done, undone, unread and snooze for one notification, and the bulk endpoint.
 * Another user's id is a 404 for one, silently skipped (and uncounted) in bulk. Every change reaches the user's
 * other tabs live (`notification_state` on the JSON socket).
 */
const tag = 'Notifications';
const byId = { id: schemas.notificationId };

const single = (action: Exclude<StateAction, 'delete' | 'read'>, path: string, operationId: string, summary: string, description: string) =>
  operation({
    method: 'post',
    path: `/notifications/{id}/${path}`,
    operationId,
    tag,
    summary,
    description: `${description} Idempotent.`,
    access: 'user',
    scopes: ['notifications:write'],
    params: byId,
    responses: { 200: { description: 'The notification and the new unread count.', schema: MarkedReadSchema } },
    handler: async function act({ services, user, params }, res) {
      const notification = await services.notifications.inbox.act(user.id, params.id, action);
      res.json({ ...notification, unread_count: await services.notifications.unreadCount(user.id) });
    },
  });

const done = single('done', 'done', 'markNotificationDone', 'Mark one of my notifications done', 'It leaves All / Unread / Read for Done, and is read.');
const undone = single('undone', 'undone', 'markNotificationUndone', 'Bring a done notification back', 'Back in the lists, still read.');
const markUnread = single('unread', 'mark_unread', 'markNotificationUnread', 'Mark one of my notifications unread', 'Also brings it back from Done or a snooze.');

const snooze = operation({
  method: 'post',
  path: '/notifications/{id}/snooze',
  operationId: 'snoozeNotification',
  tag,
  summary: 'Snooze one of my notifications',
  description:
    'It leaves every list and the unread count until `until`, then comes back unread, at the top, pushed live to ' +
    'every open tab. A past time or one more than a year ahead is a 400. Snoozing again moves the time.',
  access: 'user',
  scopes: ['notifications:write'],
  params: byId,
  body: schemas.snoozeBody,
  responses: { 200: { description: 'The notification and the new unread count.', schema: MarkedReadSchema } },
  handler: async function snooze({ services, user, params, body }, res) {
    const notification = await services.notifications.inbox.snooze(user.id, params.id, body.until);
    res.json({ ...notification, unread_count: await services.notifications.unreadCount(user.id) });
  },
});

const bulk = operation({
  method: 'post',
  path: '/notifications/bulk',
  operationId: 'bulkNotifications',
  tag,
  summary: 'One action on many of my notifications',
  description:
    `At most ${schemas.BULK_MAX_IDS} ids and ${schemas.BULK_MAX_IDS} group keys, one statement. Ids and groups that ` +
    'are not yours are silently left alone and not counted. A group key (from `GET /api/notifications/?group=true`) ' +
    'acts on every member of that group of yours, in any list: at most the applications one course received.',
  access: 'user',
  scopes: ['notifications:write'],
  body: schemas.bulkNotificationsBody,
  responses: { 200: { description: 'How many changed.', schema: BulkResultSchema } },
  handler: async function bulk({ services, user, body }, res) {
    res.json({ updated: await services.notifications.inbox.bulk(user.id, body.ids, body.action, body.group_keys) });
  },
});

export const notificationStateOperations = [bulk, done, undone, markUnread, snooze];
