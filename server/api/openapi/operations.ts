import { z } from 'zod';
import * as schemas from '../schemas';
import {
  ApplicationPageSchema,
  ApplicationSchema,
  BroadcastListSchema,
  CourseListSchema,
  CourseSchema,
  CsrfTokenSchema,
  EnrollmentSchema,
  LoginResultSchema,
  MarkedAllReadSchema,
  MarkedReadSchema,
  MeSchema,
  NotificationPageSchema,
  NotificationSchema,
  NotifyStudentsResultSchema,
  UnreadCountSchema,
} from './components';
import type { ApiOperation } from './operation';

const byId = { id: schemas.id };
const byNotificationId = { id: schemas.notificationId };

const auth: ApiOperation[] = [
  {
    method: 'get',
    path: '/auth/csrf',
    operationId: 'getCsrfToken',
    tag: 'Auth',
    summary: 'Get the session’s CSRF token',
    description:
      'Starts an anonymous session when there is none, so that even the login request is CSRF-protected. ' +
      'The token is also set in the `XSRF-TOKEN` cookie, for clients that mirror it into `X-XSRF-TOKEN`. ' +
      'The answer also carries the signed-in user (null when anonymous), so a client can learn whether it is ' +
      'signed in without a 401 from `GET /auth/me`.',
    access: 'anyone',
    responses: { 200: { description: 'The token and the signed-in user, if any.', schema: CsrfTokenSchema } },
  },
  {
    method: 'post',
    path: '/auth/login',
    operationId: 'login',
    tag: 'Auth',
    summary: 'Log in with email and password',
    description:
      'Needs the CSRF token of the anonymous session. On success the session id is replaced and a new CSRF ' +
      'token is returned. An unknown email and a wrong password get the same answer. Failed attempts are ' +
      'limited per account and per client address.',
    access: 'anyone',
    body: schemas.login,
    responses: { 200: { description: 'Logged in.', schema: LoginResultSchema } },
    errors: { 401: 'Invalid email or password.', 429: 'Too many failed attempts; see the Retry-After header.' },
  },
  {
    method: 'post',
    path: '/auth/logout',
    operationId: 'logout',
    tag: 'Auth',
    summary: 'Log out',
    description: 'Destroys the session and clears its cookies.',
    access: 'anyone',
    responses: { 204: { description: 'Logged out.' } },
  },
  {
    method: 'get',
    path: '/auth/me',
    operationId: 'getMe',
    tag: 'Auth',
    summary: 'The signed-in user',
    access: 'user',
    responses: { 200: { description: 'The user.', schema: MeSchema } },
  },
];

const notifications: ApiOperation[] = [
  {
    method: 'get',
    path: '/notifications',
    operationId: 'listNotifications',
    tag: 'Notifications',
    summary: 'List my notifications, newest first',
    description:
      'Keyset pagination: pass the previous page’s `next_cursor` as `cursor`; any page costs what the first ' +
      'one costs. `unread_count` is the total unread, whatever the filter.',
    access: 'user',
    query: schemas.listNotificationsQuery,
    responses: { 200: { description: 'A page.', schema: NotificationPageSchema } },
  },
  {
    method: 'get',
    path: '/notifications/unread_count',
    operationId: 'getUnreadCount',
    tag: 'Notifications',
    summary: 'How many of my notifications are unread',
    access: 'user',
    responses: { 200: { description: 'The count.', schema: UnreadCountSchema } },
  },
  {
    method: 'post',
    path: '/notifications/mark_all_read',
    operationId: 'markAllNotificationsRead',
    tag: 'Notifications',
    summary: 'Mark all my notifications read',
    access: 'user',
    responses: { 200: { description: 'Done.', schema: MarkedAllReadSchema } },
  },
  {
    method: 'get',
    path: '/notifications/{id}',
    operationId: 'getNotification',
    tag: 'Notifications',
    summary: 'One of my notifications',
    description: 'Another user’s notification is a 404.',
    access: 'user',
    params: byNotificationId,
    responses: { 200: { description: 'The notification.', schema: NotificationSchema } },
  },
  {
    method: 'patch',
    path: '/notifications/{id}/mark_read',
    operationId: 'markNotificationRead',
    tag: 'Notifications',
    summary: 'Mark one of my notifications read',
    description: 'Idempotent. POST is accepted too.',
    access: 'user',
    params: byNotificationId,
    responses: { 200: { description: 'The notification and the new unread count.', schema: MarkedReadSchema } },
  },
  {
    method: 'post',
    path: '/notifications/{id}/mark_read',
    operationId: 'markNotificationReadPost',
    tag: 'Notifications',
    summary: 'Mark one of my notifications read (POST form)',
    access: 'user',
    params: byNotificationId,
    responses: { 200: { description: 'The notification and the new unread count.', schema: MarkedReadSchema } },
  },
  {
    method: 'delete',
    path: '/notifications/{id}',
    operationId: 'deleteNotification',
    tag: 'Notifications',
    summary: 'Delete one of my notifications',
    access: 'user',
    params: byNotificationId,
    responses: { 204: { description: 'Deleted.' } },
  },
];

/** The first original system's paths, answered by the same handlers. */
const legacyNotifications: ApiOperation[] = (
  [
    ['get', '', 'listNotifications'],
    ['get', '/unread_count', 'getUnreadCount'],
    ['post', '/mark_all_as_read', 'markAllNotificationsRead'],
    ['get', '/{id}', 'getNotification'],
    ['post', '/{id}/mark_as_read', 'markNotificationReadPost'],
    ['patch', '/{id}/mark_as_read', 'markNotificationRead'],
  ] as const
).map(([method, suffix, of]) => {
  const op = notifications.find((o) => o.operationId === of)!;
  return {
    ...op,
    method,
    path: `/notifications/notifications${suffix}`,
    operationId: `legacy${of[0].toUpperCase()}${of.slice(1)}`,
    tag: 'Notifications (first system’s paths)',
    description: `Alias of \`${op.method.toUpperCase()} /api${op.path}\`, kept for the first original system’s clients.`,
    deprecated: true,
  };
});

const courses: ApiOperation[] = [
  {
    method: 'get',
    path: '/courses',
    operationId: 'listCourses',
    tag: 'Courses',
    summary: 'The course catalogue',
    access: 'user',
    query: schemas.listCoursesQuery,
    responses: { 200: { description: 'Every course matching `q` (in the title).', schema: CourseListSchema } },
  },
  {
    method: 'get',
    path: '/courses/{id}',
    operationId: 'getCourse',
    tag: 'Courses',
    summary: 'One course',
    access: 'user',
    params: byId,
    responses: { 200: { description: 'The course.', schema: CourseSchema } },
  },
  {
    method: 'post',
    path: '/courses/{id}/applications',
    operationId: 'applyToCourse',
    tag: 'Courses',
    summary: 'Apply to a course',
    description: 'Notifies the course’s instructor in the same transaction.',
    access: ['candidate'],
    params: byId,
    body: schemas.applyBody,
    responses: { 201: { description: 'The new, pending application.', schema: ApplicationSchema } },
    errors: { 409: 'Already applied to this course, or already enrolled in it.' },
  },
  {
    method: 'post',
    path: '/courses/{id}/notify-students',
    operationId: 'notifyStudents',
    tag: 'Courses',
    summary: 'Notify every student enrolled in the course',
    description:
      'One set-based statement, whatever the number of students: all of them receive it or none does, and the ' +
      'send is listed in the course’s broadcasts exactly when it went out. Send an `Idempotency-Key` to make a ' +
      'retry safe (after a timeout or a lost connection): the same key again sends nothing and answers 200 with ' +
      'the first result. Only the course’s instructor or an admin; another instructor gets 403.',
    access: ['instructor', 'admin'],
    params: byId,
    headers: schemas.notifyStudentsHeaders,
    body: schemas.notifyStudentsBody,
    responses: {
      201: { description: 'Sent.', schema: NotifyStudentsResultSchema },
      200: { description: 'Already sent with this Idempotency-Key: the first result, nothing sent now.', schema: NotifyStudentsResultSchema },
    },
  },
  {
    method: 'get',
    path: '/courses/{id}/broadcasts',
    operationId: 'listCourseBroadcasts',
    tag: 'Courses',
    summary: 'What was sent to the course’s students lately',
    description:
      'The latest 20 notify-students sends (and admin sends to the course), newest first, with how many ' +
      'students each reached: how a sender whose request never answered sees whether it went out. ' +
      'Only the course’s instructor or an admin; another instructor gets 403.',
    access: ['instructor', 'admin'],
    params: byId,
    responses: { 200: { description: 'The broadcasts.', schema: BroadcastListSchema } },
  },
  {
    method: 'post',
    path: '/courses/{id}/enrollments',
    operationId: 'enrollStudent',
    tag: 'Courses',
    summary: 'Enroll a student directly',
    description:
      'The student is notified (`course_enrollment`). Enrolling someone already enrolled changes nothing. ' +
      'An admin may enroll any active candidate; the course’s instructor, one who applied to it. Anyone else is a 404.',
    access: ['instructor', 'admin'],
    params: byId,
    body: schemas.enrollBody,
    responses: { 201: { description: 'Enrolled.', schema: EnrollmentSchema } },
  },
];

const applications: ApiOperation[] = [
  {
    method: 'get',
    path: '/applications',
    operationId: 'listApplications',
    tag: 'Applications',
    summary: 'Applications I may see',
    description: 'A candidate’s own; an instructor’s courses’; every application for an admin.',
    access: 'user',
    query: schemas.listApplicationsQuery,
    responses: { 200: { description: 'A page.', schema: ApplicationPageSchema } },
  },
  {
    method: 'get',
    path: '/applications/{id}',
    operationId: 'getApplication',
    tag: 'Applications',
    summary: 'One application',
    description: 'An application the user may not see is a 404.',
    access: 'user',
    params: byId,
    responses: { 200: { description: 'The application.', schema: ApplicationSchema } },
  },
  {
    method: 'post',
    path: '/applications/{id}/approve',
    operationId: 'approveApplication',
    tag: 'Applications',
    summary: 'Approve a pending application',
    description:
      'Enrolls the candidate and notifies them (`application_approved`), in one transaction. Only the ' +
      'course’s instructor or an admin; another instructor’s application is a 404.',
    access: ['instructor', 'admin'],
    params: byId,
    responses: { 200: { description: 'The approved application.', schema: ApplicationSchema } },
    errors: { 409: 'The application was already decided.' },
  },
  {
    method: 'post',
    path: '/applications/{id}/reject',
    operationId: 'rejectApplication',
    tag: 'Applications',
    summary: 'Reject a pending application',
    description: 'Notifies the candidate (`application_rejected`) with the reason, in one transaction.',
    access: ['instructor', 'admin'],
    params: byId,
    body: schemas.rejectBody,
    responses: { 200: { description: 'The rejected application.', schema: ApplicationSchema } },
    errors: { 409: 'The application was already decided.' },
  },
];

const meta: ApiOperation[] = [
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Documentation',
    summary: 'This OpenAPI 3.1 document',
    access: 'anyone',
    responses: { 200: { description: 'The document.', schema: z.looseObject({}), contentType: 'application/json' } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getApiDocs',
    tag: 'Documentation',
    summary: 'This document as a readable page',
    access: 'anyone',
    responses: { 200: { description: 'An HTML page.', contentType: 'text/html' } },
  },
];

/** The public JSON API, in the order the docs page shows it. */
export const publicOperations: ApiOperation[] = [
  ...auth,
  ...notifications,
  ...legacyNotifications,
  ...courses,
  ...applications,
  ...meta,
];
