import { z } from 'zod';
import { APPLICATION_STATUSES, BROADCAST_TYPES, NOTIFICATION_TYPES } from '../models';

/** Shared request schemas of the JSON API. Query values arrive as strings; bad ones are a 400, never a 500. */

export const id = z.coerce.number().int().positive().max(2_147_483_647);

const trimmed = (max: number) => z.string().trim().max(max);

/** Free-form `data` attached to a notification: a flat-ish JSON object, bounded in size. */
export const notificationData = z
  .record(z.string().max(64), z.unknown())
  .refine((d) => JSON.stringify(d).length <= 4096, 'data must be at most 4 KB of JSON')
  .optional();

export const listNotificationsQuery = z.object({
  status: z.enum(['all', 'unread', 'read']).default('all'),
  type: z.enum(NOTIFICATION_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(40).optional(),
});

export const login = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(1).max(1024),
});

export const listCoursesQuery = z.object({ q: trimmed(200).optional() });

export const applyBody = z.object({ motivation: trimmed(2000).default('') });

export const notifyStudentsBody = z.object({
  notification_type: z.enum(BROADCAST_TYPES),
  title: trimmed(200).min(1),
  message: trimmed(5000).default(''),
  data: notificationData,
});

export const enrollBody = z.object({ student_id: id });

export const listApplicationsQuery = z.object({
  status: z.enum(APPLICATION_STATUSES).optional(),
  course_id: id.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const rejectBody = z.object({ reason: trimmed(1000).optional().transform((r) => r || null) });
