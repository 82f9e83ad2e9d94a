import { Router } from 'express';
import { z } from 'zod';
import { BadRequest, HttpError } from '../errors';
import { currentUser, requireUser } from '../http/auth';
import { NOTIFICATION_TYPES, type NotificationType } from '../models';
import { EMAIL_MODES, type PreferenceChannel, type Preferences } from '../services/preferences';
import type { PreferencesPatch } from '../services/preferences/schema';
import { type WebDeps, isHtmx, renderView, sendPage } from './context';
import type { FieldErrors } from './forms';

const PAGE = '/settings/notifications';

/** What each email choice means, in plain words, shown beside it. */
const EMAIL_CHOICES = [
  { value: 'off', label: 'Off', help: 'No email.' },
  { value: 'immediate', label: 'At once', help: 'An email as soon as it arrives (held while your quiet hours last).' },
  { value: 'unread', label: 'If unread', help: 'An email only if you have not read it in Herald a few minutes later.' },
  { value: 'digest', label: 'Daily digest', help: 'Gathered with the others into one email a day, at your digest hour.' },
] as const;

/** Every IANA zone the runtime knows, so the select offers only names the API accepts. */
const TIME_ZONES: readonly string[] = (() => {
  const zones = Intl.supportedValuesOf('timeZone');
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
})();

// --- the two forms of the page: one per notification type, and the general one

const checkbox = z.literal('on').optional().transform((v) => v === 'on');

const typeForm = z.object({
  type: z.enum(NOTIFICATION_TYPES),
  in_app: checkbox,
  email: z.enum(EMAIL_MODES, { error: 'Choose how email should work.' }).optional(),
  push: checkbox,
});

const generalForm = z.object({
  timezone: z.string().max(64),
  quiet: checkbox,
  quiet_start: z.string().max(8).default(''),
  quiet_end: z.string().max(8).default(''),
  digest_hour: z.string().regex(/^\d{1,2}$/, 'Choose an hour.').transform(Number),
});

/** The service's field names (`types.message.email`, `quiet_hours.start`) as the form's inputs are named. */
function formField(field: string): string {
  if (field.startsWith('types.')) return field.split('.')[2] ?? 'form';
  return { 'quiet_hours.start': 'quiet_start', 'quiet_hours.end': 'quiet_end', quiet_hours: 'quiet_start' }[field] ?? field;
}

/** The service's messages speak API; the page explains the same rules in the words the page uses. */
function friendly(field: string, message: string): string {
  if (message.includes('needs in_app on')) {
    return '“If unread” and “Daily digest” need “In the app” on: they work from the notification waiting unread in your inbox.';
  }
  if (message.includes('always reaches the inbox')) return 'This one always reaches your inbox.';
  if (field === 'timezone') return 'Choose a time zone from the list.';
  if (field.startsWith('quiet_hours')) return message.replace('Expected a time as HH:MM (00:00 to 23:59).', 'Enter a time such as 22:00.');
  return message;
}

function errorsOf(err: unknown): FieldErrors {
  if (!(err instanceof HttpError) || err.status !== 400) throw err;
  const details = Array.isArray(err.details) ? (err.details as Array<{ field: string; message: string }>) : [];
  const errors: FieldErrors = {};
  for (const d of details) errors[formField(d.field)] ??= friendly(d.field, d.message);
  if (Object.keys(errors).length === 0) errors.form = err.message;
  return errors;
}

/**
 * The notification settings page. Each type's row and the general settings are separate forms that save as soon
 * as something changes (htmx, on change) and answer with their own partial; without JavaScript each has a Save
 * button and the page comes back. A refused change shows its reason in place, beside what is still saved.
 */
export function settingsRoutes(web: WebDeps) {
  const router = Router();
  const { services } = web;
  const view = (prefs: Preferences) => ({ prefs, emailOptions: EMAIL_CHOICES, timeZones: TIME_ZONES, types: NOTIFICATION_TYPES });

  router.use('/settings', requireUser);

  router.get(PAGE, async function show(req, res) {
    const prefs = await services.preferences.get(currentUser(req).id);
    await sendPage(web, req, res, 'pages/settings-notifications.njk', {
      title: 'Notification settings',
      ...view(prefs),
      savedTarget: typeof req.query.saved === 'string' ? req.query.saved : null,
    });
  });

  router.post(PAGE, async function update(req, res) {
    const userId = currentUser(req).id;
    const rawType: unknown = req.body?.type;
    // Which form was sent: a type's row names its type; the general form has none.
    const target = rawType === undefined ? 'general' : String(rawType);
    if (target !== 'general' && !(NOTIFICATION_TYPES as readonly string[]).includes(target)) {
      throw new BadRequest('This form is out of date. Reload the page and try again.');
    }
    let errors: FieldErrors = {};
    let prefs: Preferences;
    try {
      const patch = target === 'general' ? generalPatch(req.body) : typePatch(req.body, await services.preferences.get(userId));
      prefs = await services.preferences.patch(userId, patch);
    } catch (err) {
      errors = errorsOf(err);
      prefs = await services.preferences.get(userId);
    }
    const saved = Object.keys(errors).length === 0;
    if (!isHtmx(req)) {
      if (saved) return res.redirect(303, `${PAGE}?saved=${target}#pref-${target}`);
      const ctx = { title: 'Notification settings', ...view(prefs), errorsFor: target, errors };
      return sendPage(web, req, res, 'pages/settings-notifications.njk', ctx, 422);
    }
    const partial = target === 'general' ? 'partials/preference-general.njk' : 'partials/preference-type.njk';
    const ctx = { ...view(prefs), type: target, errors, saved };
    res.status(saved ? 200 : 422).type('html').send(renderView(web, req, res, partial, ctx));
  });

  return router;
}

/**
 * One type's row as a patch. A locked channel is disabled in the form (so absent from the post) and is left out
 * of the patch: it cannot change anyway.
 */
function typePatch(body: unknown, current: Preferences): PreferencesPatch {
  const parsed = typeForm.safeParse(body);
  if (!parsed.success) throw formError(parsed.error, (field) => `types.${String((body as { type?: unknown }).type)}.${field}`);
  const { type, ...choice } = parsed.data;
  const locked = current.locked[type] ?? [];
  const change = Object.fromEntries(Object.entries(choice).filter(([channel]) => !locked.includes(channel as PreferenceChannel)));
  return { types: { [type as NotificationType]: change } };
}

function generalPatch(body: unknown): PreferencesPatch {
  const parsed = generalForm.safeParse(body);
  if (!parsed.success) throw formError(parsed.error, (field) => field);
  const f = parsed.data;
  return {
    timezone: f.timezone,
    quiet_hours: f.quiet ? { start: f.quiet_start.slice(0, 5), end: f.quiet_end.slice(0, 5) } : null,
    digest_hour: f.digest_hour,
  };
}

/** A form the browser could not have produced: a 400 in the service's shape, so one path shows every error. */
function formError(error: z.ZodError, name: (field: string) => string): HttpError {
  const details = error.issues.map((i) => ({ field: name(String(i.path[0] ?? 'form')), message: i.message }));
  return new HttpError(400, 'validation_error', details.map((d) => d.message).join(' '), details);
}
