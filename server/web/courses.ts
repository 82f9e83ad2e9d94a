import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { currentUser, requireRole, requireUser } from '../http/auth';
import { BadRequest, HttpError, NotFound } from '../errors';
import type { User } from '../models';
import type { CourseJSON } from '../wire';
import { toSendJSON } from '../wire/sends';
import { type WebDeps, isHtmx, sendFragment, sendPage } from './context';
import { type FieldErrors, applyForm, id, notifyForm, parseForm, searchQuery, sendKeyForm } from './forms';

/** The one-click broadcast: a fixed, friendly notice that the course material changed. */
function courseUpdatedNotice(course: CourseJSON) {
  return {
    type: 'course_update' as const,
    title: `${course.title} was updated`,
    message: 'New material is available. Have a look at what changed.',
  };
}

function canManage(user: User, course: CourseJSON): boolean {
  return user.role === 'admin' || (user.role === 'instructor' && course.instructor.id === user.id);
}

/** How many of a course's latest broadcasts the notify panel lists. */
const RECENT_BROADCASTS = 5;

/** The catalogue, a course's page, applying to it and (for its instructor) notifying its students. */
export function courseRoutes(web: WebDeps) {
  const router = Router();
  const { services } = web;

  /**
   * What the notify panel needs beside the course: the latest broadcasts, so whoever sends sees what went out
   * (also after a send whose answer never came), and a fresh key per form for the next send.
   */
  async function notifyPanel(user: User, course: CourseJSON) {
    return {
      recent: await services.courses.broadcasts(user, course.id, RECENT_BROADCASTS),
      sendKeys: { preset: randomUUID(), form: randomUUID() },
    };
  }

  router.param('courseId', async (req, res, next, raw) => {
    const parsed = id.safeParse(raw);
    if (!parsed.success) throw new NotFound('Course');
    res.locals.course = await services.courses.get(currentUser(req).id, parsed.data);
    next();
  });

  // --- catalogue and course page
  router.get('/courses', requireUser, async function list(req, res) {
    const { q } = searchQuery.parse(req.query);
    const courses = await services.courses.list(currentUser(req).id, { q: q || undefined });
    if (isHtmx(req)) return sendFragment(web, req, res, 'partials/course-list.njk', { courses, q });
    await sendPage(web, req, res, 'pages/courses.njk', { title: 'Courses', courses, q });
  });

  router.get('/courses/:courseId', async function show(req, res) {
    const course = res.locals.course as CourseJSON;
    const user = currentUser(req);
    const sent = Number(req.query.notified);
    const manage = canManage(user, course);
    await sendPage(web, req, res, 'pages/course.njk', {
      title: course.title,
      canManage: manage,
      ownCourse: course.instructor.id === user.id,
      notifyResult:
        req.query.sending === '1'
          ? { sending: true }
          : Number.isInteger(sent) && sent >= 0 && req.query.notified !== undefined ? { recipients: sent } : null,
      ...(manage ? await notifyPanel(user, course) : {}),
    });
  });

  // --- a candidate applies
  router.post('/courses/:courseId/apply', requireRole('candidate'), async function apply(req, res) {
    const course = res.locals.course as CourseJSON;
    const parsed = parseForm(applyForm, req.body);
    let errors: FieldErrors = {};
    if (parsed.ok) {
      try {
        const application = await services.applications.apply(currentUser(req), course.id, parsed.data.motivation);
        if (!isHtmx(req)) return res.redirect(303, `/applications#application-${application.id}`);
        return sendFragment(web, req, res, 'partials/apply-panel.njk', {
          course: { ...course, my_application: { id: application.id, status: application.status } },
          justApplied: true,
        });
      } catch (err) {
        if (!(err instanceof HttpError) || err.status !== 409) throw err;
        errors = { form: err.message };
      }
    } else {
      errors = parsed.errors;
    }
    const ctx = { course, errors, motivation: String(req.body?.motivation ?? '').slice(0, 2000) };
    if (isHtmx(req)) return sendFragment(web, req, res, 'partials/apply-panel.njk', ctx, 422);
    await sendPage(web, req, res, 'pages/course.njk', { ...ctx, title: course.title, canManage: false }, 422);
  });

  // --- the course's instructor notifies every enrolled student
  router.post('/courses/:courseId/notify', requireRole('instructor', 'admin'), async function notify(req, res) {
    const course = res.locals.course as CourseJSON;
    const user = currentUser(req);
    if (!canManage(user, course)) throw new NotFound('Course');
    const key = sendKeyForm.safeParse(req.body ?? {});
    if (!key.success) throw new BadRequest('This form is out of date. Reload the page and send again.');
    const quick = req.body?.preset === 'course_update';
    const parsed = quick ? ({ ok: true, data: courseUpdatedNotice(course) } as const) : parseForm(notifyForm, req.body);
    if (!parsed.ok) {
      const ctx = { course, errors: parsed.errors, form: req.body ?? {}, ...(await notifyPanel(user, course)) };
      if (isHtmx(req)) return sendFragment(web, req, res, 'partials/notify-panel.njk', ctx, 422);
      return sendPage(web, req, res, 'pages/course.njk', { ...ctx, title: course.title, canManage: true, ownCourse: course.instructor.id === user.id }, 422);
    }
    const input = 'type' in parsed.data ? parsed.data : { ...parsed.data, type: parsed.data.notification_type };
    const { recipients, replayed, recorded } = await services.courses.notifyStudents(user, course.id, {
      type: input.type,
      title: input.title,
      message: input.message,
      idempotencyKey: key.data.idempotency_key,
    });
    // Above SEND_INLINE_MAX the send was only recorded: a job writes it in parts, "Recently sent" shows how far.
    const sending = recorded !== null && recorded.status !== 'finished';
    if (!isHtmx(req)) {
      return res.redirect(303, `/courses/${course.id}?${sending ? 'sending=1' : `notified=${recipients}`}#notify-${course.id}`);
    }
    sendFragment(web, req, res, 'partials/notify-panel.njk', {
      course,
      notifyResult: { recipients, title: input.title, replayed, sending },
      ...(await notifyPanel(user, course)),
    });
  });

  // --- stopping a recorded send from "Recently sent" (its sender or an admin; SendService decides)
  router.post('/courses/:courseId/sends/:sendId/cancel', requireRole('instructor', 'admin'), async function cancelSend(req, res) {
    const course = res.locals.course as CourseJSON;
    const user = currentUser(req);
    if (!canManage(user, course)) throw new NotFound('Course');
    const sendId = String(req.params.sendId);
    // Another course's send through this course's URL is unknown here, and stays running.
    if ((await services.sends.status(user, sendId)).courseId !== course.id) throw new NotFound('Send');
    const send = await services.sends.cancel(user, sendId);
    if (!isHtmx(req)) return res.redirect(303, `/courses/${course.id}#send-${send.id}`);
    sendFragment(web, req, res, 'partials/recent-send.njk', { b: { ...toSendJSON(send), type: send.type }, courseId: course.id, canCancel: true });
  });

  return router;
}
