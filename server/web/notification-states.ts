import { Router, type Request, type Response } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { NotFound, ValidationError } from '../errors';
import type { StateAction } from '../services/notifications';
import { type WebDeps, backTo, isHtmx, parsedParam } from './context';
import { bulkForm, groupKeyParam, notificationId, snoozeForm } from './forms';

/**
 * The inbox's actions on the notifications page (issue 14): done, undone, unread, snooze, the selection's bulk
 * action, and a group line's read, done and snooze (the whole group). Each answers htmx with exactly the pieces
 * the WebSocket pushes to the user's other tabs (the fresh bell, the rows leaving or changing, the lines of the
 * groups touched), so a click here and a change from another tab look the same; without JavaScript the forms post
 * and come back to the page.
 */
export function notificationStateRoutes(web: WebDeps) {
  const router = Router();
  const { services, renderer } = web;
  router.use('/notifications', requireUser);

  router.param('notificationId', parsedParam('notificationId', notificationId, 'Notification'));
  // A group is the user's when they have a notification in it; any other key (or someone else's) is a 404.
  router.param('groupKey', async (req, res, next, raw) => {
    const parsed = groupKeyParam.safeParse(raw);
    if (!parsed.success || !(await services.notifications.hasGroup(currentUser(req).id, parsed.data))) throw new NotFound('Group');
    res.locals.groupKey = parsed.data;
    next();
  });

  /**
   * The answer to every action: back to the page, or the same fragments the other tabs receive. `keys`: the groups
   * the rows were in, when the rows may be gone (deleted); otherwise the rows say it.
   */
  async function answer(req: Request, res: Response, ids: number[], action: StateAction | 'snoozed', keys: string[] = []) {
    if (!isHtmx(req)) return res.redirect(303, backTo(req, '/notifications'));
    const userId = currentUser(req).id;
    const [view, lines] = await Promise.all([
      services.notifications.bell(userId),
      services.notifications.groupLines(userId, action === 'delete' ? [] : ids, keys),
    ]);
    const rows = action === 'read' ? renderer.readPush(view, ids) : renderer.statePush(view, ids, action === 'delete' ? 'deleted' : action);
    res.type('html').send(rows + renderer.groupLinesPush(lines));
  }

  // Declared before the :notificationId routes only for reading order; "bulk" is never an id.
  router.post('/notifications/bulk', async function bulk(req, res) {
    const parsed = bulkForm.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('Select some notifications and an action.');
    const { ids, group_keys: groupKeys, action } = parsed.data;
    const changed = await services.notifications.inbox.bulkChanged(currentUser(req).id, ids, action, groupKeys);
    await answer(req, res, changed.ids, action, changed.keys);
  });

  for (const action of ['done', 'undone', 'unread'] as const) {
    router.post(`/notifications/:notificationId/${action}`, async function act(req, res) {
      const id = res.locals.notificationId as number;
      await services.notifications.inbox.act(currentUser(req).id, id, action);
      await answer(req, res, [id], action);
    });
  }

  router.post('/notifications/:notificationId/snooze', async function snooze(req, res) {
    const userId = currentUser(req).id;
    const id = res.locals.notificationId as number;
    await services.notifications.inbox.snooze(userId, id, await snoozeTime(req, userId));
    await answer(req, res, [id], 'snoozed');
  });

  // --- a group line's controls: the whole group, through the same statements as a selection of it
  for (const action of ['read', 'done'] as const) {
    router.post(`/notifications/groups/:groupKey/${action}`, async function actOnGroup(req, res) {
      const key = res.locals.groupKey as string;
      const changed = await services.notifications.inbox.bulkChanged(currentUser(req).id, [], action, [key]);
      await answer(req, res, changed.ids, action, [key]);
    });
  }

  router.post('/notifications/groups/:groupKey/snooze', async function snoozeGroup(req, res) {
    const userId = currentUser(req).id;
    const key = res.locals.groupKey as string;
    const ids = await services.notifications.inbox.snoozeGroups(userId, [key], await snoozeTime(req, userId));
    await answer(req, res, ids, 'snoozed', [key]);
  });

  /** When a snooze form says it should come back: a preset word or a wall-clock time in the user's zone, or an instant. */
  async function snoozeTime(req: Request, userId: number): Promise<Date> {
    const parsed = snoozeForm.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('Choose when it should come back.');
    const { preset, at, until } = parsed.data;
    return until ?? (at ? await services.preferences.localTime(userId, at) : await services.preferences.snoozeUntil(userId, preset!));
  }

  return router;
}
