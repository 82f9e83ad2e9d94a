import { Router } from 'express';
import { currentUser, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import type { Services } from '../services';
import * as schemas from './schemas';

export function courseRoutes({ services }: { services: Services }) {
  const router = Router();
  const { courses, applications } = services;

  // --- catalogue (public to every signed-in user)
  router.get('/', async function list(req, res) {
    const { q } = parse(schemas.listCoursesQuery, req.query);
    res.json({ results: await courses.list(currentUser(req).id, { q }) });
  });

  router.get('/:id', async function show(req, res) {
    res.json(await courses.get(currentUser(req).id, parse(schemas.id, req.params.id)));
  });

  // --- a candidate applies
  router.post('/:id/applications', requireRole('candidate'), async function apply(req, res) {
    const { motivation } = parse(schemas.applyBody, req.body);
    const application = await applications.apply(currentUser(req), parse(schemas.id, req.params.id), motivation);
    res.status(201).json(application);
  });

  // --- the course's instructor (or an admin) reaches every enrolled student at once
  router.post('/:id/notify-students', requireRole('instructor', 'admin'), async function notifyStudents(req, res) {
    const body = parse(schemas.notifyStudentsBody, req.body);
    const headers = parse(schemas.notifyStudentsHeaders, { 'Idempotency-Key': req.get('Idempotency-Key') });
    const result = await courses.notifyStudents(currentUser(req), parse(schemas.id, req.params.id), {
      type: body.notification_type,
      title: body.title,
      message: body.message,
      data: body.data,
      idempotencyKey: headers['Idempotency-Key'],
    });
    res.status(result.replayed ? 200 : 201).json(result);
  });

  // What was sent, so a sender whose request never answered can see whether it went out.
  router.get('/:id/broadcasts', requireRole('instructor', 'admin'), async function broadcasts(req, res) {
    res.json({ results: await courses.broadcasts(currentUser(req), parse(schemas.id, req.params.id)) });
  });

  router.post('/:id/enrollments', requireRole('instructor', 'admin'), async function enroll(req, res) {
    const { student_id } = parse(schemas.enrollBody, req.body);
    await courses.enroll(currentUser(req), parse(schemas.id, req.params.id), student_id);
    res.status(201).json({ course_id: Number(req.params.id), student_id });
  });

  return router;
}
