import { z } from 'zod';
import { ValidationError } from '../../errors';
import { NOTIFICATION_TYPES } from '../../models';

export const EMAIL_MODES = ['off', 'immediate', 'unread', 'digest'] as const;
export type EmailMode = (typeof EMAIL_MODES)[number];
export const PREFERENCE_CHANNELS = ['in_app', 'email', 'push'] as const;
export type PreferenceChannel = (typeof PREFERENCE_CHANNELS)[number];

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Expected a time as HH:MM (00:00 to 23:59).');

/**
 * An IANA zone name, canonicalised ("europe/paris" becomes "Europe/Paris"). Numeric offsets are refused:
 * PostgreSQL reads POSIX-style offsets with the opposite sign, and a zone name also follows daylight saving.
 */
const TimeZone = z.string().max(64).transform((name, ctx) => {
  if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      // falls through to the issue below
    }
  }
  ctx.addIssue({ code: 'custom', message: `Unknown time zone "${name}" (expected an IANA name such as Europe/Paris).` });
  return z.NEVER;
});

export const TypePreferencePatch = z.strictObject({
  in_app: z.boolean().optional(),
  email: z.enum(EMAIL_MODES).optional(),
  push: z.boolean().optional(),
});
export type TypePreferencePatch = z.infer<typeof TypePreferencePatch>;

const TypesPatch = z.partialRecord(z.enum(NOTIFICATION_TYPES), TypePreferencePatch);

/** PATCH /api/preferences/: any part of the shape GET returns, except `locked` which is not the user's. */
export const PreferencesPatch = z.strictObject({
  timezone: TimeZone.optional(),
  quiet_hours: z
    .strictObject({ start: HHMM, end: HHMM })
    .refine((q) => q.start !== q.end, { message: 'Quiet hours must not start and end at the same time.', path: ['end'] })
    .nullable()
    .optional(),
  digest_hour: z.number().int().min(0).max(23).optional(),
  types: TypesPatch.optional(),
});
export type PreferencesPatch = z.infer<typeof PreferencesPatch>;

/** PATCH /api/admin/preferences/defaults/: the `types` part only. */
export const DefaultsPatch = z.strictObject({ types: TypesPatch });
export type DefaultsPatch = z.infer<typeof DefaultsPatch>;

/** Parses with `schema`; every problem becomes a detail naming its field (`types.message.email`). */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.flatMap((i) => {
    const base = i.path.map(String);
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ field: [...base, k].join('.'), message: `Unknown field "${k}".` }));
    }
    return [{ field: base.join('.') || '(body)', message: i.message }];
  });
  throw new ValidationError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}
