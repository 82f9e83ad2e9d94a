import { operation } from '../operation';
import { PreferenceDefaultsSchema, defaultsPatch } from '../schemas/preferences';

const tag = 'Admin';

// --- the defaults per type: what everyone who never chose gets

const show = operation({
  method: 'get',
  path: '/admin/preferences/defaults',
  operationId: 'adminGetPreferenceDefaults',
  tag,
  summary: 'The notification defaults per type',
  access: ['admin'],
  responses: { 200: { description: 'The defaults and the locks.', schema: PreferenceDefaultsSchema } },
  handler: async function show({ services }, res) {
    res.json(await services.preferences.getDefaults());
  },
});

const update = operation({
  method: 'patch',
  path: '/admin/preferences/defaults',
  operationId: 'adminUpdatePreferenceDefaults',
  tag,
  summary: 'Change the notification defaults of some types',
  description:
    'Partial: types and channels left out stay as they were. Users’ own choices are kept; only those who never ' +
    'chose follow the new default. A locked in-app channel cannot be switched off (400).',
  access: ['admin'],
  body: defaultsPatch,
  responses: { 200: { description: 'The defaults after the change.', schema: PreferenceDefaultsSchema } },
  handler: async function update({ services, body }, res) {
    res.json(await services.preferences.patchDefaults(body));
  },
});

export const adminPreferenceOperations = [show, update];
