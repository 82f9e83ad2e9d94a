import { Router } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { parseSearch, searchWords } from '../services/notifications';
import type { NotificationJSON } from '../wire';
import { type WebDeps, backTo, isHtmx, parsedParam, renderView, sendPage } from './context';
import { notificationId, notificationsQuery } from './forms';
import { notificationLink } from './render';

const PAGE_SIZE = 20;

/**
 * The notifications page and the read actions. The actions answer htmx with the same out-of-band pieces the
 * WebSocket pushes (fresh bell, cards shown as read), so a click and a push from another tab look identical.
 */
export function notificationRoutes(web: WebDeps) {
  const router = Router();
  const { services, renderer } = web;
  router.use('/notifications', requireUser);

  router.param('notificationId', parsedParam('notificationId', notificationId, 'Notification'));

  /**
   * The list. All / Unread / Read show groups as one line (issue 14: applications to one course); Done, search
   * results and one group's members (`group`, a line expanded) list notifications one by one.
   */
  router.get('/notifications', async function list(req, res) {
    const { status, cursor, q, group } = notificationsQuery.parse(req.query);
    const userId = currentUser(req).id;
    const words = searchWords(parseSearch(q).text);
    const opts = { status, limit: PAGE_SIZE, cursor, q: q || undefined };
    const grouped = !q && !group && status !== 'done';
    // Read before the list: the page's socket replays only what changed after it (public/live.js).
    const statePosition = await services.notifications.currentPosition();
    const page = grouped
      ? await services.notifications.listGroups(userId, opts)
      : await services.notifications.list(userId, { ...opts, groupKey: group });
    const rows = grouped ? { lines: page.results } : { notifications: page.results };
    const ctx = { status, q, group, words, statePosition, ...rows, nextCursor: page.next_cursor, unreadCount: page.unread_count };
    // htmx asks for a group's members (its line's "Show all", then "More of this group") or the next page ("load
    // more": the rows plus a fresh "load more" button, out of band).
    if (isHtmx(req)) {
      const partial = group ? 'partials/notification-members.njk' : 'partials/notification-page.njk';
      return res.type('html').send(renderView(web, req, res, partial, ctx));
    }
    await sendPage(web, req, res, 'pages/notifications.njk', { title: 'Notifications', ...ctx });
  });

  /**
   * One notification by its address, the page emails and Web Push clicks open: opening it marks it read, as
   * following it from the bell does (the other tabs hear of it), and shows where it leads. A GET that changes
   * state, on purpose: its only effect is marking one of the viewer's own notifications read, which opening it
   * means anyway, and a GET is what a mail client or a service worker can open with nothing but the session.
   * Someone else's id is a 404; without a login, the login page comes back here.
   */
  router.get('/notifications/:notificationId', async function show(req, res) {
    const n = await services.notifications.inbox.markRead(currentUser(req).id, res.locals.notificationId as number);
    const link = notificationLink(n);
    await sendPage(web, req, res, 'pages/notification.njk', {
      title: n.title,
      n,
      // The card's own buttons stay small; where the notification leads is the page's main action.
      link: link === '/notifications' ? null : { href: link, label: linkLabel(n) },
    });
  });

  router.post('/notifications/read-all', async function markAllRead(req, res) {
    const userId = currentUser(req).id;
    await services.notifications.inbox.markAllRead(userId);
    if (!isHtmx(req)) return res.redirect(303, backTo(req, '/notifications'));
    res.type('html').send(renderer.readPush(await services.notifications.bell(userId), 'all'));
  });

  router.post('/notifications/:notificationId/read', async function markRead(req, res) {
    const userId = currentUser(req).id;
    const n = await services.notifications.inbox.markRead(userId, res.locals.notificationId as number);
    if (!isHtmx(req)) return res.redirect(303, `${backTo(req, '/notifications')}`);
    res.type('html').send(renderer.readPush(await services.notifications.bell(userId), [n.id]));
  });

  /** The bell's items: clicking one marks it read and follows its link. */
  router.post('/notifications/:notificationId/open', async function open(req, res) {
    const n = await services.notifications.inbox.markRead(currentUser(req).id, res.locals.notificationId as number);
    const link = notificationLink(n);
    if (isHtmx(req)) return res.set('HX-Redirect', link).status(204).end();
    res.redirect(303, link);
  });

  return router;
}

function linkLabel(n: NotificationJSON): string {
  if (n.application_id && n.type.startsWith('application_')) {
    return n.type === 'application_submitted' ? 'Review the application' : 'See your application';
  }
  return n.course_title ? `Open ${n.course_title}` : 'Open the course';
}
