import { operation } from './operation';
import * as schemas from './schemas';
import {
  ApplicationSchema,
  BroadcastListSchema,
  CourseListSchema,
  CourseSchema,
  EnrollmentSchema,
} from './schemas/responses';
import { NotifyStudentsResultSchema, toNotifyStudentsResult } from './schemas/sends';

const tag = 'Courses';
const byId = { id: schemas.id };
const MANAGERS = ['instructor', 'admin'] as const;

// --- the catalogue (public to every signed-in user)

const list = operation({
  method: 'get',
  path: '/courses',
  operationId: 'listCourses',
  tag,
  summary: 'The course catalogue',
  access: 'user',
  scopes: [],
  query: schemas.listCoursesQuery,
  responses: { 200: { description: 'Every course matching `q` (in the title).', schema: CourseListSchema } },
  handler: async function list({ services, user, query }, res) {
    res.json({ results: await services.courses.list(user.id, { q: query.q }) });
  },
});

const show = operation({
  method: 'get',
  path: '/courses/{id}',
  operationId: 'getCourse',
  tag,
  summary: 'One course',
  access: 'user',
  scopes: [],
  params: byId,
  responses: { 200: { description: 'The course.', schema: CourseSchema } },
  handler: async function show({ services, user, params }, res) {
    res.json(await services.courses.get(user.id, params.id));
  },
});

// --- a candidate applies

const apply = operation({
  method: 'post',
  path: '/courses/{id}/applications',
  operationId: 'applyToCourse',
  tag,
  summary: 'Apply to a course',
  description: 'Notifies the course’s instructor in the same transaction.',
  access: ['candidate'],
  params: byId,
  body: schemas.applyBody,
  responses: { 201: { description: 'The new, pending application.', schema: ApplicationSchema } },
  errors: { 409: 'Already applied to this course, or already enrolled in it.' },
  idempotent: true,
  handler: async function apply({ services, user, params, body }, res) {
    res.status(201).json(await services.applications.apply(user, params.id, body.motivation));
  },
});

// --- the course's instructor (or an admin) reaches every enrolled student at once

const notifyStudents = operation({
  method: 'post',
  path: '/courses/{id}/notify-students',
  operationId: 'notifyStudents',
  tag,
  summary: 'Notify every student enrolled in the course',
  description:
    'One set-based statement, whatever the number of students: all of them receive it or none does, and the ' +
    'send is listed in the course’s broadcasts exactly when it went out. Send an `Idempotency-Key` to make a ' +
    'retry safe (after a timeout or a lost connection): the same request again with the same key sends nothing ' +
    'and answers 200 with the first result (`replayed: true`); the same key for another course or other content ' +
    'is a 409. Only the course’s instructor or an admin; to another instructor the course is a 404.',
  access: MANAGERS,
  scopes: ['courses:notify'],
  params: byId,
  body: schemas.notifyStudentsBody,
  // The first answer again, as "already sent"; the broadcast row also carries the key, so even a retry that
  // runs again (its first process died before answering) sends nothing twice.
  idempotent: (first) => ({ status: 200, body: { ...(first.body as object), replayed: true } }),
  responses: {
    201: { description: 'Sent.', schema: NotifyStudentsResultSchema },
    202: { description: 'Above SEND_INLINE_MAX: recorded; a queued job writes it in chunks (`send.status_url`).', schema: NotifyStudentsResultSchema },
    200: { description: 'Already sent with this Idempotency-Key: the first result, nothing sent now.', schema: NotifyStudentsResultSchema },
  },
  handler: async function notifyStudents({ services, user, params, body, idempotencyKey }, res) {
    const sent = await services.courses.notifyStudents(user, params.id, {
      type: body.notification_type,
      title: body.title,
      message: body.message,
      data: body.data,
      idempotencyKey,
    });
    const result = toNotifyStudentsResult(sent);
    res.status(result.send && !result.replayed ? 202 : result.replayed ? 200 : 201).json(result);
  },
});

// What was sent, so a sender whose request never answered can see whether it went out.
const broadcasts = operation({
  method: 'get',
  path: '/courses/{id}/broadcasts',
  operationId: 'listCourseBroadcasts',
  tag,
  summary: 'What was sent to the course’s students lately',
  description:
    'The latest 20 notify-students sends (and admin sends to the course), newest first, with how many ' +
    'students each reached: how a sender whose request never answered sees whether it went out. ' +
    'Only the course’s instructor or an admin; to another instructor the course is a 404.',
  access: MANAGERS,
  scopes: ['courses:notify'],
  params: byId,
  responses: { 200: { description: 'The broadcasts.', schema: BroadcastListSchema } },
  handler: async function broadcasts({ services, user, params }, res) {
    res.json({ results: await services.courses.broadcasts(user, params.id) });
  },
});

const enroll = operation({
  method: 'post',
  path: '/courses/{id}/enrollments',
  operationId: 'enrollStudent',
  tag,
  summary: 'Enroll a student directly',
  description:
    'The student is notified (`course_enrollment`). Enrolling someone already enrolled changes nothing. ' +
    'An admin may enroll any active candidate; the course’s instructor, one who applied to it. Anyone else, ' +
    'another instructor’s course and an id that is no such candidate alike, is the same 404.',
  access: MANAGERS,
  params: byId,
  body: schemas.enrollBody,
  responses: { 201: { description: 'Enrolled.', schema: EnrollmentSchema } },
  idempotent: true,
  handler: async function enroll({ services, user, params, body }, res) {
    await services.courses.enroll(user, params.id, body.student_id);
    res.status(201).json({ course_id: params.id, student_id: body.student_id });
  },
});

export const courseOperations = [list, show, apply, notifyStudents, broadcasts, enroll];
