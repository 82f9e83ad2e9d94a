import { z } from 'zod';
import { APPLICATION_STATUSES, BROADCAST_TYPES, NOTIFICATION_TYPES, ROLES } from '../../models';
import { MODERATION_STATES, NOTIFICATION_SORTS } from '../../services/notifications';
import { createdFrom, createdTo, id, notificationData, text, typeList } from '.';

/** Request schemas of /api/admin. Query values arrive as strings; bad ones are a 400, never a 500. */

const paging = {
  page: z.coerce.number().int().min(1).max(100_000).default(1).describe('1-based page number.'),
  page_size: z.coerce.number().int().min(1).max(100).default(25).describe('Rows per page, at most 100.'),
};


/** A user id, or text found (case-insensitively, `%` and `_` literal) in a person's email or name. */
const person = text(254).transform((r) => (/^\d{1,9}$/.test(r) ? Number(r) : r || undefined));

export const listNotificationsQuery = z.object({
  recipient: person.optional().describe('The recipient: a user id, or text found (case-insensitively) in their email or name.'),
  sender: person.optional().describe('The sender: a user id, or text found (case-insensitively) in their email or name.'),
  type: typeList.optional().describe('One type, or several separated by commas (any of them).'),
  exclude_type: typeList.optional().describe('Types to leave out, separated by commas.'),
  course: id.optional().describe('Only notifications about this course (by id).'),
  status: z
    .enum(MODERATION_STATES)
    .default('all')
    .describe(
      'Each notification is in exactly one state: `unread`; `read` (and neither done nor snoozed); `done` ' +
        '(archived by its recipient); `snoozed` (hidden from its recipient until a time). `all`: any of them.',
    ),
  from: createdFrom.optional(),
  to: createdTo.optional(),
  q: text(200)
    .optional()
    .describe(
      'Full-text search over title, message, sender and course, as in the user’s own list ("quoted phrase", or, ' +
        '-word); `type:x` and `-type:x` in it filter by type as `type` and `exclude_type` do.',
    ),
  sort: z.enum(NOTIFICATION_SORTS).default('created_at').describe('`recipient` sorts by the recipient’s name.'),
  order: z.enum(['asc', 'desc']).default('desc'),
  ...paging,
});

export const bulkDeleteBody = z.object({
  ids: z
    .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
    .min(1)
    .max(1000)
    .describe('Notification ids, at most 1000; ids already gone are skipped.'),
});

export const audience = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), user_id: id }),
  z.object({ kind: z.literal('course'), course_id: id }),
  z.object({ kind: z.literal('role'), role: z.enum(ROLES) }),
  z.object({ kind: z.literal('all') }),
]);

export const audienceBody = z.object({ audience });

export const sendBody = z.object({
  audience,
  notification_type: z.enum(BROADCAST_TYPES),
  title: text(200).min(1),
  message: text(5000).default(''),
  data: notificationData,
});

export const listApplicationsQuery = z.object({
  status: z.enum(APPLICATION_STATUSES).optional(),
  course_id: id.optional(),
  ...paging,
});

export const listUsersQuery = z.object({
  role: z.enum(ROLES).optional(),
  q: text(200).optional().describe('Text found in the email or name, or a user id.'),
  ...paging,
});

// Unknown fields are refused rather than ignored, so nobody believes they renamed a user through this.
export const updateUserBody = z.strictObject({ role: z.enum(ROLES).optional(), is_active: z.boolean().optional() });
