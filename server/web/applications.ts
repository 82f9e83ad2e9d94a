import { Router } from 'express';
import { currentUser, requireRole } from '../http/auth';
import { type WebDeps, sendPage } from './context';

/**
 * A candidate's own applications; statuses change live through the bell socket (partials/push-status.njk, pushed on
 * application.changed).
 */
export function applicationRoutes(web: WebDeps) {
  const router = Router();

  // Instructors and admins decide applications rather than make them: their list of applications is the review page.
  router.get('/applications', function reviewInstead(req, res, next) {
    const role = currentUser(req).role;
    if (role !== 'instructor' && role !== 'admin') return next();
    const query = req.originalUrl.indexOf('?');
    res.redirect(303, `/instructor/applications${query === -1 ? '' : req.originalUrl.slice(query)}`);
  });

  router.get('/applications', requireRole('candidate'), async function list(req, res) {
    const { results } = await web.services.applications.list(currentUser(req), { limit: 100 });
    await sendPage(web, req, res, 'pages/applications.njk', { title: 'My applications', applications: results });
  });

  return router;
}
