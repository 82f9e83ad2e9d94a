import { Router } from 'express';
import { currentUser, requireRole } from '../http/auth';
import { HttpError, NotFound } from '../errors';
import type { ApplicationJSON } from '../wire';
import { type WebDeps, backTo, isHtmx, sendFragment, sendPage } from './context';
import { id, parseForm, rejectForm } from './forms';

const STATUSES = ['pending', 'approved', 'rejected'] as const;

/** The instructor's side: their courses with counts and the applications to decide. */
export function instructorRoutes(web: WebDeps) {
  const router = Router();
  const { services } = web;
  router.use('/instructor', requireRole('instructor', 'admin'));

  router.param('applicationId', async (req, res, next, raw) => {
    const parsed = id.safeParse(raw);
    if (!parsed.success) throw new NotFound('Application');
    res.locals.application = await services.applications.get(currentUser(req), parsed.data);
    next();
  });

  // --- my courses
  router.get('/instructor', async function courses(req, res) {
    const user = currentUser(req);
    const courses = await services.courses.list(user.id, user.role === 'admin' ? {} : { instructorId: user.id });
    await sendPage(web, req, res, 'pages/instructor-courses.njk', { title: 'My courses', courses });
  });

  // --- applications to review
  router.get('/instructor/applications', async function list(req, res) {
    const status = STATUSES.find((s) => s === req.query.status);
    const { results, total } = await services.applications.list(currentUser(req), { status, limit: 100 });
    await sendPage(web, req, res, 'pages/instructor-applications.njk', {
      title: 'Applications',
      applications: results,
      total,
      status: status ?? 'all',
    });
  });

  router.post('/instructor/applications/:applicationId/approve', async function approve(req, res) {
    const application = res.locals.application as ApplicationJSON;
    await decide(req, res, () => services.applications.approve(currentUser(req), application.id));
  });

  router.post('/instructor/applications/:applicationId/reject', async function reject(req, res) {
    const application = res.locals.application as ApplicationJSON;
    const parsed = parseForm(rejectForm, req.body);
    if (!parsed.ok) {
      if (isHtmx(req)) {
        return sendFragment(web, req, res, 'partials/review-row.njk', { a: application, errors: parsed.errors, rejectOpen: true }, 422);
      }
      throw new HttpError(400, 'validation_error', parsed.errors.reason ?? 'Give the candidate a reason.');
    }
    await decide(req, res, () => services.applications.reject(currentUser(req), application.id, parsed.data.reason));
  });

  /** Runs a decision; a race lost to another reviewer (409) shows the row as it now is, with a note. */
  async function decide(req: import('express').Request, res: import('express').Response, action: () => Promise<ApplicationJSON>) {
    let a: ApplicationJSON;
    let note: string | null = null;
    try {
      a = await action();
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 409) throw err;
      a = await services.applications.get(currentUser(req), (res.locals.application as ApplicationJSON).id);
      note = err.message;
    }
    if (!isHtmx(req)) return res.redirect(303, `${backTo(req, '/instructor/applications')}#application-${a.id}`);
    sendFragment(web, req, res, 'partials/review-row.njk', { a, note });
  }

  return router;
}
