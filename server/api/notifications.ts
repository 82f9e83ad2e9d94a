import { Router } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { parse } from '../http/validate';
import type { Services } from '../services';
import * as schemas from './schemas';

/**
 * The signed-in user's own notifications. Mounted twice: at /api/notifications and at the first original
 * system's /api/notifications/notifications, whose clients say mark_as_read / mark_all_as_read.
 */
export function notificationRoutes({ services }: { services: Services }) {
  const router = Router();
  const notifications = services.notifications;
  router.use(requireUser);

  // --- collection
  router.get('/', async function list(req, res) {
    const q = parse(schemas.listNotificationsQuery, req.query);
    res.json(await notifications.list(currentUser(req).id, q));
  });

  router.get('/unread_count', async function unreadCount(req, res) {
    res.json({ unread_count: await notifications.unreadCount(currentUser(req).id) });
  });

  router.post(['/mark_all_read', '/mark_all_as_read'], async function markAllRead(req, res) {
    const updated = await notifications.markAllRead(currentUser(req).id);
    res.json({ updated, unread_count: 0 });
  });

  // --- one notification (another user's id is simply not found)
  router.get('/:id', async function show(req, res) {
    res.json(await notifications.get(currentUser(req).id, parse(schemas.id, req.params.id)));
  });

  router.route(['/:id/mark_read', '/:id/mark_as_read']).patch(markRead).post(markRead);
  async function markRead(req: import('express').Request, res: import('express').Response) {
    const userId = currentUser(req).id;
    const notification = await notifications.markRead(userId, parse(schemas.id, req.params.id));
    res.json({ ...notification, unread_count: await notifications.unreadCount(userId) });
  }

  router.delete('/:id', async function remove(req, res) {
    await notifications.remove(currentUser(req).id, parse(schemas.id, req.params.id));
    res.status(204).end();
  });

  return router;
}
