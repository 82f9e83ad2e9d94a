import path from 'node:path';
import { Router } from 'express';
import { currentUser, requireUser } from '../http/auth';
import { id as deviceId } from '../api/schemas';
import { type WebDeps, parsedParam, sendPage } from './context';

const SERVICE_WORKER = path.join(__dirname, '..', '..', 'public', 'sw.js');

/**
 * Web Push on the pages: the service worker, and the devices a user allowed alerts on (listed, and removable one
 * by one). Turning alerts on happens in the browser (public/app.js): only it can subscribe.
 */
export function deviceRoutes(web: WebDeps) {
  const router = Router();

  // At the root so its scope is the whole site; no-cache so a new version is picked up on the next check.
  router.get('/sw.js', function serviceWorker(_req, res) {
    res.set('Cache-Control', 'no-cache').type('text/javascript').sendFile(SERVICE_WORKER);
  });

  router.use('/settings/devices', requireUser);
  router.param('deviceId', parsedParam('deviceId', deviceId, 'Device'));

  router.get('/settings/devices', async function list(req, res) {
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    const devices = (await web.services.pushSubscriptions.list(currentUser(req).id)).map((d) => ({
      ...d,
      created_at: iso(d.created_at),
      last_success_at: iso(d.last_success_at),
    }));
    await sendPage(web, req, res, 'pages/settings-devices.njk', { title: 'Devices', devices });
  });

  router.post('/settings/devices/:deviceId/delete', async function remove(req, res) {
    await web.services.pushSubscriptions.remove(currentUser(req).id, res.locals.deviceId as number);
    res.redirect(303, '/settings/devices');
  });

  return router;
}
