import { z } from 'zod';
import {
  ApplicationSchema,
  BroadcastSchema,
  CourseSchema,
  int,
  NotificationGroupPageSchema,
  NotificationGroupSchema,
  NotificationPageSchema,
  NotificationSchema,
  UserSchema,
} from '../../wire';

/**
 * The response shapes of the JSON API, as zod schemas whose `meta({ id })` names their OpenAPI component
 * (zod's global registry, where `.describe()` puts field descriptions too). The shapes that pages and sockets share
 * live in `server/wire/` (their types derived from the schemas there); this file adds the API's own envelopes.
 * The document is generated from the registry, so it cannot drift from what the handlers send.
 */
export const components = z.globalRegistry;

export {
  ApplicationSchema,
  BroadcastSchema,
  CourseSchema,
  NotificationGroupPageSchema,
  NotificationGroupSchema,
  NotificationPageSchema,
  NotificationSchema,
  UserSchema,
};

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

export const CourseListSchema = z
  .strictObject({ results: z.array(CourseSchema) })
  .meta({ id: 'CourseList', description: 'The catalogue, by title.' });

export const ApplicationPageSchema = z
  .strictObject({ results: z.array(ApplicationSchema), total: int })
  .meta({
    id: 'ApplicationPage',
    description: 'Applications the user may see, pending first, then newest; `total` counts every match.',
  });

export const RecipientsSchema = z
  .strictObject({ recipients: int.describe('How many students received the notification.') })
  .meta({ id: 'Recipients', description: 'The result of a fan-out.' });

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
