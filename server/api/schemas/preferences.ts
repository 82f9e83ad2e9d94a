import { z } from 'zod';
import { DELIVERY_CHANNELS, DELIVERY_STATUSES, type Delivery } from '../../services/deliveries';
import { EMAIL_MODES, PREFERENCE_CHANNELS, type PreferenceDefaults, type Preferences } from '../../services/preferences';
import { DefaultsPatch, PreferencesPatch } from '../../services/preferences/schema';
import { assertSame, int, timestamp, type Same } from '../../wire';
import { id } from '.';

/**
 * Schemas of the preferences and deliveries operations (issue 12). The request bodies are the preference
 * service's own schemas, so the document describes exactly what the service accepts; the response shapes are
 * checked against the service types at the bottom.
 */

const TypePreferenceSchema = z
  .strictObject({
    in_app: z.boolean().describe('On: it arrives live, unread, with a badge. Off: kept in the inbox, already read, silently.'),
    email: z
      .enum(EMAIL_MODES)
      .describe('`immediate`: at once; `unread`: if still unread after a delay; `digest`: in the daily digest. ' +
        '`unread` and `digest` need `in_app` on.'),
    push: z.boolean().describe('Web Push to the user’s subscribed browsers.'),
  })
  .meta({ id: 'TypePreference', description: 'What one notification type does on each channel.' });

const types = z.record(z.string(), TypePreferenceSchema).describe('Every notification type, by name.');
const locked = z
  .record(z.string(), z.array(z.enum(PREFERENCE_CHANNELS)))
  .describe('Types with a channel nobody can switch off, and those channels; types without a lock are left out.');

export const PreferencesSchema = z
  .strictObject({
    timezone: z.string().describe('IANA time zone name, e.g. Europe/Paris.'),
    quiet_hours: z
      .strictObject({ start: z.string().describe('HH:MM'), end: z.string().describe('HH:MM') })
      .nullable()
      .describe('Local times between which email and push wait; may wrap past midnight; null: none.'),
    digest_hour: int.min(0).max(23).describe('Local hour the daily digest goes out.'),
    types,
    locked,
  })
  .meta({ id: 'Preferences', description: 'What reaches the signed-in user where.' });

export const PreferenceDefaultsSchema = z
  .strictObject({ types, locked })
  .meta({ id: 'PreferenceDefaults', description: 'What every user who never chose gets, per type.' });

export const DeliverySchema = z
  .strictObject({
    id: int,
    notification_id: int,
    recipient_id: int,
    channel: z.string().describe('`email`, `push` or `webhook`.'),
    status: z.enum(DELIVERY_STATUSES),
    attempts: int,
    last_error: z.string().nullable(),
    provider_message_id: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    sent_at: timestamp.nullable(),
  })
  .meta({ id: 'Delivery', description: 'One notification sent (or not) on one channel.' });

export const DeliveryPageSchema = z
  .strictObject({
    results: z.array(DeliverySchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last page.'),
  })
  .meta({ id: 'DeliveryPage', description: 'A page of deliveries, newest first.' });

// --- requests

export const preferencesPatch = PreferencesPatch;
export const defaultsPatch = DefaultsPatch;

export const listDeliveriesQuery = z.object({
  channel: z.enum(DELIVERY_CHANNELS).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  recipient: id.optional().describe('The recipient’s user id.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(40).optional(),
});

// --- the documented shapes are exactly what the services return (a mismatch fails `tsc`)
assertSame<Same<z.output<typeof PreferencesSchema>, Preferences>>();
assertSame<Same<z.output<typeof PreferenceDefaultsSchema>, PreferenceDefaults>>();
assertSame<Same<z.output<typeof DeliverySchema>, Delivery>>();
