import { operation } from '../operation';
import * as schemas from '../schemas';
import {
  createWebhookBody,
  CreatedWebhookEndpointSchema,
  toCreatedWebhookEndpointJSON,
  toWebhookDeliveryJSON,
  toWebhookEndpointJSON,
  WebhookDeliveryListSchema,
  WebhookEndpointListSchema,
} from '../schemas/webhooks';

const tag = 'Admin';

const create = operation({
  method: 'post',
  path: '/admin/webhooks',
  operationId: 'adminCreateWebhook',
  tag,
  summary: 'Register a platform-wide webhook endpoint',
  description:
    'It hears every subscribed event on the platform. The answer carries the signing secret (`whsec_...`) this one ' +
    'time. A URL that is, or resolves to, a private, loopback or metadata address is a 400 `forbidden_target`.',
  access: ['admin'],
  scopes: ['admin'],
  body: createWebhookBody,
  responses: { 201: { description: 'Registered; the secret is in `secret`.', schema: CreatedWebhookEndpointSchema } },
  handler: async function create({ services, user, body }, res) {
    const endpoint = await services.webhooks.create(user, body);
    res.status(201).json(toCreatedWebhookEndpointJSON(endpoint));
  },
});

const list = operation({
  method: 'get',
  path: '/admin/webhooks',
  operationId: 'adminListWebhooks',
  tag,
  summary: 'Every webhook endpoint',
  access: ['admin'],
  scopes: ['admin'],
  responses: { 200: { description: 'Endpoints, newest first (at most 500).', schema: WebhookEndpointListSchema } },
  handler: async function list({ services }, res) {
    res.json({ results: (await services.webhooks.list()).map(toWebhookEndpointJSON) });
  },
});

const remove = operation({
  method: 'delete',
  path: '/admin/webhooks/{id}',
  operationId: 'adminDeleteWebhook',
  tag,
  summary: 'Delete anyone’s webhook endpoint',
  access: ['admin'],
  scopes: ['admin'],
  params: { id: schemas.id },
  responses: { 204: { description: 'Deleted.' } },
  handler: async function remove({ services, params }, res) {
    await services.webhooks.remove(params.id);
    res.status(204).end();
  },
});

const deliveries = operation({
  method: 'get',
  path: '/admin/webhooks/{id}/deliveries',
  operationId: 'adminListWebhookDeliveries',
  tag,
  summary: 'An endpoint’s latest deliveries and every attempt',
  access: ['admin'],
  scopes: ['admin'],
  params: { id: schemas.id },
  responses: { 200: { description: 'Newest first.', schema: WebhookDeliveryListSchema } },
  handler: async function deliveries({ services, params }, res) {
    res.json({ results: (await services.webhooks.deliveries(params.id)).map(toWebhookDeliveryJSON) });
  },
});

const retry = operation({
  method: 'post',
  path: '/admin/webhooks/{id}/deliveries/{delivery_id}/retry',
  operationId: 'adminRetryWebhookDelivery',
  tag,
  summary: 'Send a delivery again',
  description: 'Now, with the same `webhook-id` and body; a disabled endpoint is enabled again.',
  access: ['admin'],
  scopes: ['admin'],
  params: { id: schemas.id, delivery_id: schemas.notificationId },
  responses: { 202: { description: 'Queued.' } },
  handler: async function retry({ services, params }, res) {
    await services.webhooks.retry(params.id, params.delivery_id);
    res.status(202).end();
  },
});

export const adminWebhookOperations = [create, list, remove, deliveries, retry];
