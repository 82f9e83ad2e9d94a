import { Router, type Request, type Response } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { parse } from '../http/validate';
import type { Services } from '../services';
import * as schemas from './schemas';

/**
 * The signed-in user's own notifications, under two vocabularies that share their handlers:
 * `current` (/api/notifications: mark_read, mark_all_read, delete) and `legacy`, the first original system's
 * /api/notifications/notifications with mark_as_read and mark_all_as_read, which its clients still call.
 */
export function notificationRoutes({ services }: { services: Services }) {
  const notifications = services.notifications;

  async function list(req: Request, res: Response) {
    const q = parse(schemas.listNotificationsQuery, req.query);
    res.json(await notifications.list(currentUser(req).id, q));
  }

  async function unreadCount(req: Request, res: Response) {
    res.json({ unread_count: await notifications.unreadCount(currentUser(req).id) });
  }

  async function markAllRead(req: Request, res: Response) {
    const updated = await notifications.markAllRead(currentUser(req).id);
    res.json({ updated, unread_count: 0 });
  }

  // Another user's id is simply not found, whatever the verb.
  async function show(req: Request, res: Response) {
    res.json(await notifications.get(currentUser(req).id, parse(schemas.notificationId, req.params.id)));
  }

  async function markRead(req: Request, res: Response) {
    const userId = currentUser(req).id;
    const notification = await notifications.markRead(userId, parse(schemas.notificationId, req.params.id));
    res.json({ ...notification, unread_count: await notifications.unreadCount(userId) });
  }

  async function remove(req: Request, res: Response) {
    await notifications.remove(currentUser(req).id, parse(schemas.notificationId, req.params.id));
    res.status(204).end();
  }

  const current = Router();
  current.use(requireUser);
  // --- collection
  current.get('/', list);
  current.get('/unread_count', unreadCount);
  current.post('/mark_all_read', markAllRead);
  // --- one notification
  current.get('/:id', show);
  current.route('/:id/mark_read').patch(markRead).post(markRead);
  current.delete('/:id', remove);

  const legacy = Router();
  legacy.use(requireUser);
  legacy.get('/', list);
  legacy.get('/unread_count', unreadCount);
  legacy.post('/mark_all_as_read', markAllRead);
  legacy.get('/:id', show);
  legacy.route('/:id/mark_as_read').post(markRead).patch(markRead);

  return { current, legacy };
}
