import { Router, type Request, type Response } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { ValidationError } from '../errors';
import type { StateAction } from '../services/notifications';
import { type WebDeps, backTo, isHtmx, parsedParam } from './context';
import { bulkForm, notificationId, snoozeForm } from './forms';

/**
 * The inbox's actions on the notifications page (issue 14): done, undone, unread, snooze and the selection's bulk
 * action. Each answers htmx with exactly the pieces the WebSocket pushes to the user's other tabs (the fresh bell,
 * the rows leaving or changing), so a click here and a change from another tab look the same; without JavaScript
 * the forms post and come back to the page.
 */
export function notificationStateRoutes(web: WebDeps) {
  const router = Router();
  const { services, renderer } = web;
  router.use('/notifications', requireUser);

  router.param('notificationId', parsedParam('notificationId', notificationId, 'Notification'));

  /** The answer to every action: back to the page, or the same fragments the other tabs receive. */
  async function answer(req: Request, res: Response, ids: number[], action: StateAction | 'snoozed') {
    if (!isHtmx(req)) return res.redirect(303, backTo(req, '/notifications'));
    const view = await services.notifications.bell(currentUser(req).id);
    if (action === 'read') return res.type('html').send(renderer.readPush(view, ids));
    res.type('html').send(renderer.statePush(view, ids, action === 'delete' ? 'deleted' : action));
  }

  // Declared before the :notificationId routes only for reading order; "bulk" is never an id.
  router.post('/notifications/bulk', async function bulk(req, res) {
    const parsed = bulkForm.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('Select some notifications and an action.');
    const { ids, action } = parsed.data;
    await services.notifications.bulk(currentUser(req).id, ids, action);
    await answer(req, res, ids, action);
  });

  for (const action of ['done', 'undone', 'unread'] as const) {
    router.post(`/notifications/:notificationId/${action}`, async function act(req, res) {
      const id = res.locals.notificationId as number;
      await services.notifications.act(currentUser(req).id, id, action);
      await answer(req, res, [id], action);
    });
  }

  router.post('/notifications/:notificationId/snooze', async function snooze(req, res) {
    const userId = currentUser(req).id;
    const id = res.locals.notificationId as number;
    const parsed = snoozeForm.safeParse(req.body);
    if (!parsed.success) throw new ValidationError('Choose when it should come back.');
    const { preset, at, until } = parsed.data;
    const when = until ?? (at ? await services.preferences.localTime(userId, at) : await services.preferences.snoozeUntil(userId, preset!));
    await services.notifications.snooze(userId, id, when);
    await answer(req, res, [id], 'snoozed');
  });

  return router;
}
