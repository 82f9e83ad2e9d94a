import { z } from 'zod';
import { APPLICATION_STATUSES, NOTIFICATION_TYPES, ROLES } from '../../models';
import type { ApplicationJSON } from '../../services/applications';
import type { UserJSON } from '../../services/auth';
import type { CourseJSON, NotifyStudentsResult } from '../../services/courses';
import type { BroadcastJSON, NotificationJSON } from '../../services/notifications';
import { SEND_STATUSES } from '../../services/notifications/sends';

/**
 * The response shapes of the JSON API, as zod schemas whose `meta({ id })` names their OpenAPI component
 * (zod's global registry, where `.describe()` puts field descriptions too).
 * The document is generated from them, and the compile-time checks below keep them equal to the types the
 * services return, so the document cannot drift from what the handlers send.
 */
export const components = z.globalRegistry;

import { SendSchema } from '../sends';

const int = z.number().int();
const timestamp = z.iso.datetime();

export const UserSchema = z
  .strictObject({ id: int, email: z.string(), name: z.string(), role: z.enum(ROLES) })
  .meta({ id: 'User', description: 'A user as the API shows it (never the password hash).' });

export const NotificationSchema = z
  .strictObject({
    id: int,
    type: z.enum(NOTIFICATION_TYPES),
    title: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).describe('Free-form JSON attached by the sender or the trigger.'),
    is_read: z.boolean(),
    read_at: timestamp.nullable(),
    created_at: timestamp,
    done_at: timestamp.nullable().describe('Done (archived): when. Done also marks read.'),
    snoozed_until: timestamp.nullable().describe('Snoozed: until when; it then comes back unread, at the top.'),
    sender: z.strictObject({ id: int, name: z.string(), email: z.string() }).nullable(),
    application_id: int.nullable(),
    course_id: int.nullable(),
    course_title: z.string().nullable(),
  })
  .meta({ id: 'Notification', description: 'One notification of the signed-in user.' });

export const NotificationPageSchema = z
  .strictObject({
    results: z.array(NotificationSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last page.'),
    unread_count: int,
  })
  .meta({ id: 'NotificationPage', description: 'A page of notifications, newest first.' });

export const NotificationGroupSchema = z
  .strictObject({
    group_key: z
      .string()
      .describe('`application_submitted:course:<id>` for applications to one course; `n:<id>` for a notification of its own. Pass it to the bulk endpoint’s `group_keys`.'),
    count: int.describe('Members in this list (status and filters applied).'),
    unread_count: int.describe('Unread members in this list.'),
    actors: z.array(z.string()).max(3).describe('Up to three distinct senders’ names, newest first.'),
    latest: NotificationSchema,
  })
  .meta({ id: 'NotificationGroup', description: 'One line of the grouped list: its newest member and what the line says of the rest.' });

export const NotificationGroupPageSchema = z
  .strictObject({
    results: z.array(NotificationGroupSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` (with `group=true`) for the next (older) page; null on the last page.'),
    unread_count: int,
  })
  .meta({ id: 'NotificationGroupPage', description: 'A page of groups, the newest group (by its newest member) first.' });

/** The list answers single notifications, or groups with `group=true`. */
export const NotificationListSchema = z.union([NotificationPageSchema, NotificationGroupPageSchema]);

export const UnreadCountSchema = z
  .strictObject({ unread_count: int })
  .meta({ id: 'UnreadCount', description: 'How many of the user’s notifications are unread.' });

export const MarkedReadSchema = z
  .strictObject({ ...NotificationSchema.shape, unread_count: int })
  .meta({ id: 'MarkedRead', description: 'The notification, now read, and the new unread count.' });

export const BulkResultSchema = z
  .strictObject({ updated: int.describe('How many of your notifications changed (others are not counted).') })
  .meta({ id: 'BulkResult', description: 'What a bulk action changed.' });

export const MarkedAllReadSchema = z
  .strictObject({ updated: int.describe('How many notifications were unread.'), unread_count: z.literal(0) })
  .meta({ id: 'MarkedAllRead', description: 'Every notification of the user is now read.' });

export const CourseSchema = z
  .strictObject({
    id: int,
    title: z.string(),
    description: z.string(),
    instructor: z.strictObject({ id: int, name: z.string() }),
    enrolled_count: int,
    pending_count: int,
    my_application: z
      .strictObject({ id: int, status: z.string() })
      .nullable()
      .describe('The viewer’s own application to this course, if any.'),
    is_enrolled: z.boolean().describe('Whether the viewer is enrolled.'),
  })
  .meta({ id: 'Course', description: 'A course of the catalogue, seen by the signed-in user.' });

export const CourseListSchema = z
  .strictObject({ results: z.array(CourseSchema) })
  .meta({ id: 'CourseList', description: 'The catalogue, by title.' });

export const ApplicationSchema = z
  .strictObject({
    id: int,
    status: z.enum(APPLICATION_STATUSES),
    motivation: z.string(),
    reason: z.string().nullable().describe('Why it was rejected, when a reason was given.'),
    created_at: timestamp,
    decided_at: timestamp.nullable(),
    candidate: z.strictObject({ id: int, name: z.string(), email: z.string() }),
    course: z.strictObject({ id: int, title: z.string(), instructor_id: int }),
  })
  .meta({ id: 'Application', description: 'A candidate’s application to a course.' });

export const ApplicationPageSchema = z
  .strictObject({ results: z.array(ApplicationSchema), total: int })
  .meta({
    id: 'ApplicationPage',
    description: 'Applications the user may see, pending first, then newest; `total` counts every match.',
  });

export const RecipientsSchema = z
  .strictObject({ recipients: int.describe('How many students received the notification.') })
  .meta({ id: 'Recipients', description: 'The result of a fan-out.' });

export const NotifyStudentsResultSchema = z
  .strictObject({
    recipients: int.describe('How many students received the notification.'),
    batch_id: z.uuid().describe('The send’s id: the `id` of its entry in the course’s broadcasts.'),
    replayed: z.boolean().describe('True when this answers an earlier send with the same Idempotency-Key: nothing was sent now.'),
    send: SendSchema.optional().describe('Above SEND_INLINE_MAX (answered 202): the recorded send and its `status_url`.'),
  })
  .meta({ id: 'NotifyStudentsResult', description: 'The result of notifying a course’s students.' });

export const BroadcastSchema = z
  .strictObject({
    id: z.uuid(),
    type: z.enum(NOTIFICATION_TYPES),
    title: z.string(),
    recipients: int.describe('How many students it reached (so far, while a recorded send is still going).'),
    status: z.enum(SEND_STATUSES).describe('queued or running while a recorded send is written in chunks; finished or cancelled after.'),
    total: int.nullable().describe('The audience’s size; null until a recorded send’s job counted it.'),
    created_at: timestamp,
    sender: z.strictObject({ id: int, name: z.string() }).nullable().describe('Null once the sender’s account is gone.'),
  })
  .meta({ id: 'Broadcast', description: 'One notification sent to a course’s students, as its senders see it.' });

export const BroadcastListSchema = z
  .strictObject({ results: z.array(BroadcastSchema) })
  .meta({ id: 'BroadcastList', description: 'A course’s latest broadcasts (at most 20), newest first.' });

export const EnrollmentSchema = z
  .strictObject({ course_id: int, student_id: int })
  .meta({ id: 'Enrollment', description: 'A student enrolled in a course.' });

export const CsrfTokenSchema = z
  .strictObject({
    csrf_token: z.string(),
    user: UserSchema.nullable().describe('The signed-in user, or null when not signed in.'),
  })
  .meta({
    id: 'CsrfToken',
    description: 'The session’s CSRF token, for the X-CSRF-Token header, and who the session belongs to.',
  });

export const LoginResultSchema = z
  .strictObject({
    user: UserSchema,
    csrf_token: z.string().describe('The new session’s CSRF token: the one from before login no longer works.'),
  })
  .meta({ id: 'LoginResult', description: 'The signed-in user and their new CSRF token.' });

export const MeSchema = z
  .strictObject({ user: UserSchema })
  .meta({ id: 'Me', description: 'The signed-in user.' });

export const ErrorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('Stable machine-readable code, e.g. `validation_error`, `not_found`, `csrf_invalid`.'),
      message: z.string().describe('A sentence meant for people.'),
      details: z.unknown().describe('Per-field problems for validation errors; otherwise null or extra facts.'),
    }),
  })
  .meta({ id: 'Error', description: 'Every error answer of the API.' });

// --- the documented shapes are exactly what the services return (a mismatch fails `tsc`)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<T extends true>(): T | void {}
assertSame<Same<z.output<typeof UserSchema>, UserJSON>>();
assertSame<Same<z.output<typeof NotificationSchema>, NotificationJSON>>();
assertSame<Same<z.output<typeof CourseSchema>, CourseJSON>>();
assertSame<Same<z.output<typeof ApplicationSchema>, ApplicationJSON>>();
assertSame<Same<z.output<typeof NotifyStudentsResultSchema>, NotifyStudentsResult>>();
assertSame<Same<z.output<typeof BroadcastSchema>, BroadcastJSON>>();
