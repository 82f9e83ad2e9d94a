import { operation } from './operation';
import * as schemas from './schemas';
import {
  createCourseWebhookBody,
  CreatedWebhookEndpointSchema,
  toCreatedWebhookEndpointJSON,
  toWebhookEndpointJSON,
  WebhookEndpointListSchema,
} from './schemas/webhooks';

/**
 * Instructors' webhook endpoints (admins' too): each for one course they teach (any course, for an admin), hearing
 * only that course's events. Token scope `courses:notify`, the scope for acting on one's courses: an endpoint is
 * part of running a course, like its announcements. Application events carry ids and a status only (no motivation,
 * no names), so no `applications:*` scope is asked for.
 */
const tag = 'Webhooks';

const create = operation({
  method: 'post',
  path: '/webhooks',
  operationId: 'createWebhook',
  tag,
  summary: 'Register a webhook endpoint for one of my courses',
  description:
    'The answer carries the signing secret (`whsec_...`) this one time. Another instructor’s course is a 404; a URL ' +
    'that is, or resolves to, a private, loopback or metadata address is a 400 `forbidden_target`.',
  access: ['instructor', 'admin'],
  scopes: ['courses:notify'],
  body: createCourseWebhookBody,
  responses: { 201: { description: 'Registered; the secret is in `secret`.', schema: CreatedWebhookEndpointSchema } },
  handler: async function create({ services, user, body }, res) {
    const endpoint = await services.webhooks.create(user, {
      url: body.url,
      events: body.events,
      description: body.description,
      courseId: body.course_id,
    });
    res.status(201).json(toCreatedWebhookEndpointJSON(endpoint));
  },
});

const list = operation({
  method: 'get',
  path: '/webhooks',
  operationId: 'listWebhooks',
  tag,
  summary: 'List my webhook endpoints',
  access: ['instructor', 'admin'],
  scopes: ['courses:notify'],
  responses: { 200: { description: 'My endpoints, newest first.', schema: WebhookEndpointListSchema } },
  handler: async function list({ services, user }, res) {
    res.json({ results: (await services.webhooks.list(user.id)).map(toWebhookEndpointJSON) });
  },
});

const remove = operation({
  method: 'delete',
  path: '/webhooks/{id}',
  operationId: 'deleteWebhook',
  tag,
  summary: 'Delete one of my webhook endpoints',
  description: 'Its waiting deliveries go with it.',
  access: ['instructor', 'admin'],
  scopes: ['courses:notify'],
  params: { id: schemas.id },
  responses: { 204: { description: 'Deleted.' } },
  handler: async function remove({ services, user, params }, res) {
    await services.webhooks.remove(params.id, user.id);
    res.status(204).end();
  },
});

export const webhookOperations = [create, list, remove];
