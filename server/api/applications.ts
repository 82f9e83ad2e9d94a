import { Router } from 'express';
import { currentUser, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import type { Services } from '../services';
import * as schemas from './schemas';

export function applicationRoutes({ services }: { services: Services }) {
  const router = Router();
  const { applications } = services;

  // --- a candidate's own; an instructor's courses'; everything for an admin
  router.get('/', async function list(req, res) {
    const q = parse(schemas.listApplicationsQuery, req.query);
    const page = await applications.list(currentUser(req), {
      status: q.status,
      courseId: q.course_id,
      limit: q.limit,
      offset: q.offset,
    });
    res.json(page);
  });

  router.get('/:id', async function show(req, res) {
    res.json(await applications.get(currentUser(req), parse(schemas.id, req.params.id)));
  });

  // --- decisions
  router.post('/:id/approve', requireRole('instructor', 'admin'), async function approve(req, res) {
    res.json(await applications.approve(currentUser(req), parse(schemas.id, req.params.id)));
  });

  router.post('/:id/reject', requireRole('instructor', 'admin'), async function reject(req, res) {
    const { reason } = parse(schemas.rejectBody, req.body);
    res.json(await applications.reject(currentUser(req), parse(schemas.id, req.params.id), reason));
  });

  return router;
}
