import { z } from 'zod';
import { operation } from './operation';
import * as schemas from './schemas';

/**
 * Web Push subscriptions of the signed-in user: the key a browser subscribes with, and the devices that did.
 * Another user's device is simply not found.
 */
const tag = 'Push';

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `must be base64url (${what})`)
    .refine((s) => Buffer.from(s, 'base64url').length === bytes, `must be ${bytes} bytes (${what})`);

const SubscriptionBody = z
  .object({
    endpoint: z.string().min(1).max(2048),
    keys: z.object({
      p256dh: base64url(65, 'an uncompressed P-256 public key').refine((s) => Buffer.from(s, 'base64url')[0] === 4, 'must be an uncompressed point'),
      auth: base64url(16, 'the authentication secret'),
    }),
    expirationTime: z.number().int().nonnegative().nullable().optional(),
  })
  .meta({ id: 'PushSubscriptionInput', description: 'A browser’s `PushSubscription.toJSON()`.' });

const VapidKeySchema = z
  .object({ key: z.string() })
  .meta({ id: 'VapidPublicKey', description: 'The VAPID public key (base64url, uncompressed P-256): the browser’s `applicationServerKey`.' });

const CreatedSchema = z.object({ id: z.number().int() }).meta({ id: 'PushSubscriptionCreated' });

const DeviceSchema = z
  .object({
    id: z.number().int(),
    endpoint: z.string(),
    user_agent: z.string().nullable(),
    expiration_time: z.string().nullable(),
    created_at: z.string(),
    last_success_at: z.string().nullable(),
  })
  .meta({ id: 'PushDevice', description: 'A browser the user allowed alerts on.' });
const DeviceListSchema = z.object({ results: z.array(DeviceSchema) }).meta({ id: 'PushDeviceList' });

const vapidPublicKey = operation({
  method: 'get',
  path: '/push/vapid-public-key',
  operationId: 'getVapidPublicKey',
  tag,
  summary: 'The key browsers subscribe with',
  access: 'user',
  responses: { 200: { description: 'The key.', schema: VapidKeySchema } },
  handler: async function vapidPublicKey({ services }, res) {
    res.json({ key: (await services.vapid.get()).publicKey });
  },
});

const subscribe = operation({
  method: 'post',
  path: '/push/subscriptions',
  operationId: 'savePushSubscription',
  tag,
  summary: 'Store this browser’s push subscription',
  description:
    'The same endpoint again updates its subscription and keeps its id (pages send it on every load, so a ' +
    'rotated key or a new expiry is picked up). The endpoint must be an `https` URL whose host is public: ' +
    'otherwise 400 `forbidden_target`.',
  access: 'user',
  body: SubscriptionBody,
  responses: {
    201: { description: 'Stored.', schema: CreatedSchema },
    200: { description: 'Already stored: updated.', schema: CreatedSchema },
  },
  handler: async function subscribe({ services, user, body, req }, res) {
    const saved = await services.pushSubscriptions.save(user.id, { ...body, userAgent: req.get('user-agent') });
    res.status(saved.created ? 201 : 200).json({ id: saved.id });
  },
});

const list = operation({
  method: 'get',
  path: '/push/subscriptions',
  operationId: 'listPushSubscriptions',
  tag,
  summary: 'My devices with alerts on',
  access: 'user',
  responses: { 200: { description: 'Oldest first.', schema: DeviceListSchema } },
  handler: async function list({ services, user }, res) {
    res.json({ results: await services.pushSubscriptions.list(user.id) });
  },
});

const remove = operation({
  method: 'delete',
  path: '/push/subscriptions/{id}',
  operationId: 'deletePushSubscription',
  tag,
  summary: 'Stop alerts on one of my devices',
  access: 'user',
  params: { id: schemas.id },
  responses: { 204: { description: 'Removed.' } },
  handler: async function remove({ services, user, params }, res) {
    await services.pushSubscriptions.remove(user.id, params.id);
    res.status(204).end();
  },
});

export const pushOperations = [vapidPublicKey, subscribe, list, remove];
