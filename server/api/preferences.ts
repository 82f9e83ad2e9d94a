import { operation } from './operation';
import { PreferencesSchema, preferencesPatch } from './schemas/preferences';

/** The signed-in user's notification preferences: per type, per channel, plus time zone, quiet hours, digest hour. */
const tag = 'Preferences';

const show = operation({
  method: 'get',
  path: '/preferences',
  operationId: 'getPreferences',
  tag,
  summary: 'My notification preferences',
  description: 'Every type, with the defaults filled in where I never chose; `locked` lists what I cannot switch off.',
  access: 'user',
  responses: { 200: { description: 'The preferences.', schema: PreferencesSchema } },
  handler: async function show({ services, user }, res) {
    res.json(await services.preferences.get(user.id));
  },
});

const update = operation({
  method: 'patch',
  path: '/preferences',
  operationId: 'updatePreferences',
  tag,
  summary: 'Change some of my notification preferences',
  description:
    'A partial update: what is left out stays as it was (a channel left out of a type too); `quiet_hours: null` ' +
    'clears them. Answers the whole shape. Unknown types, channels or values, invalid zones or times, a locked ' +
    'channel switched off, or `unread`/`digest` email with `in_app` off: a 400 naming each field.',
  access: 'user',
  body: preferencesPatch,
  responses: { 200: { description: 'The preferences after the change.', schema: PreferencesSchema } },
  handler: async function update({ services, user, body }, res) {
    res.json(await services.preferences.patch(user.id, body));
  },
});

export const preferenceOperations = [show, update];
