import { z } from 'zod';
import { storable } from '../http/input';
import { BROADCAST_TYPES } from '../models';
import { BULK_MAX_IDS } from '../api/schemas';
import { GROUP_KEY_MAX, GROUP_KEY_RE, STATE_ACTIONS } from '../services/notifications';
import { SNOOZE_PRESETS } from '../services/preferences';

/**
 * Form schemas for the pages. Unlike the JSON API these report problems per field, so a form can show each
 * message beside its input.
 */

const text = (max: number, label: string) =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .max(max, `${label} must be at most ${max} characters.`)
    .refine(storable, `${label} contains characters we cannot store.`);

// The API's id schemas: digits only (no 1e3, 0x10 or booleans); notification ids are bigserial.
export { id, notificationId } from '../api/schemas';

export const loginForm = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(1024),
  next: z.string().optional(),
});

export const searchQuery = z.object({ q: text(200, 'Search').optional().catch(undefined) });

export const applyForm = z.object({
  motivation: text(2000, 'Motivation').min(10, 'Tell the instructor a little more (at least 10 characters).'),
});

export const notifyForm = z.object({
  notification_type: z.enum(BROADCAST_TYPES, { error: 'Choose a type.' }),
  title: text(200, 'Title').min(1, 'Title is required.'),
  message: text(5000, 'Message').default(''),
});

/**
 * The hidden key a notify form carries from the moment it was rendered: a double submit, or the browser's resubmit
 * after a crash, repeats the key, and the repeat sends nothing. Printable ASCII, as the API's Idempotency-Key.
 */
export const sendKeyForm = z.object({ idempotency_key: z.string().regex(/^[\x20-\x7e]{1,100}$/).optional() });

export const rejectForm = z.object({ reason: text(1000, 'Reason').min(1, 'Give the candidate a reason.') });

export const notificationsQuery = z.object({
  status: z.enum(['all', 'unread', 'read', 'done']).catch('all'),
  q: text(200, 'Search').optional().catch(undefined),
  cursor: z.string().max(40).optional().catch(undefined),
  /** One group's members (a group line expanded); a malformed key is ignored like any bad filter. */
  group: z.string().max(GROUP_KEY_MAX).regex(GROUP_KEY_RE).optional().catch(undefined),
});

/** A group line's key in a path (`application_submitted:course:12`); anything else names no group of the user's. */
export const groupKeyParam = z.string().max(GROUP_KEY_MAX).regex(GROUP_KEY_RE);

const repeated = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(item).max(BULK_MAX_IDS));

/**
 * The page's selection: `ids` repeated (one checkbox each) and `group_keys` (a group line's checkbox: the whole
 * group), at least one of them, one action button.
 */
export const bulkForm = z
  .object({
    ids: repeated(z.string().regex(/^\d{1,15}$/).transform(Number)).default([]),
    group_keys: repeated(z.string().max(GROUP_KEY_MAX).regex(GROUP_KEY_RE)).default([]),
    action: z.enum(STATE_ACTIONS),
  })
  .refine((f) => f.ids.length + f.group_keys.length > 0);

/** `YYYY-MM-DDTHH:MM` that names a real calendar time (no 30 February), as a datetime-local field sends it. */
const wallClock = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/)
  .refine((s) => {
    const [y, mo, d, h, mi] = s.split(/[-T:]/).map(Number);
    const t = new Date(Date.UTC(y, mo - 1, d, h, mi));
    return y >= 2000 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h;
  });

/**
 * The snooze menu: a preset button (in the user's time zone), a chosen wall-clock time (`at`, in their time zone),
 * or an exact instant (`until`, ISO 8601 with its offset).
 */
export const snoozeForm = z
  .object({
    preset: z.enum(SNOOZE_PRESETS).optional(),
    at: wallClock.optional(),
    until: z.iso
      .datetime({ offset: true })
      .transform((v) => new Date(v))
      .optional(),
  })
  .refine((f) => f.preset !== undefined || f.until !== undefined || f.at !== undefined);

/** Field name -> first message, for templates. */
export type FieldErrors = Record<string, string>;

/** Parses a form; returns the data or the per-field messages (never throws for user mistakes). */
export function parseForm<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const result = schema.safeParse(input ?? {});
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}
