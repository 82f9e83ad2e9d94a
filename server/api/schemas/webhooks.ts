import { z } from 'zod';
import { WEBHOOK_EVENTS, type CreatedWebhookEndpoint, type WebhookDelivery, type WebhookEndpoint } from '../../services/webhooks';
import { int, timestamp } from '../../wire';
import { id, text } from '.';

/** Request and response shapes of webhook endpoints (/api/webhooks and /api/admin/webhooks). */

export const createWebhookBody = z.strictObject({
  url: z.string().max(2000).describe('Where events are POSTed: https (plain http only where OUTBOUND_ALLOW_PRIVATE is on).'),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).describe('The event types to receive.'),
  description: text(500).default('').describe('What the endpoint is for.'),
});
export const createCourseWebhookBody = createWebhookBody.extend({
  course_id: id.describe('A course you teach: the endpoint hears only its events.'),
});

const endpointFields = {
  id: int,
  user_id: int,
  course_id: int.nullable().describe('Null: every event on the platform (admins’ endpoints).'),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  description: z.string(),
  enabled: z.boolean().describe('False once it failed every delivery for a day; "send again" enables it.'),
  failing_since: timestamp.nullable(),
  disabled_at: timestamp.nullable(),
  created_at: timestamp,
};

export const WebhookEndpointSchema = z.strictObject(endpointFields).meta({ id: 'WebhookEndpoint', description: 'A webhook endpoint (never its secret).' });
export const WebhookEndpointListSchema = z
  .strictObject({ results: z.array(WebhookEndpointSchema) })
  .meta({ id: 'WebhookEndpointList', description: 'Endpoints, newest first.' });
export const CreatedWebhookEndpointSchema = z
  .strictObject({
    ...endpointFields,
    secret: z.string().describe('`whsec_...`: the signing secret, shown this once. Verify with the standardwebhooks libraries.'),
  })
  .meta({ id: 'CreatedWebhookEndpoint', description: 'A new endpoint, with its signing secret shown this one time.' });

const AttemptSchema = z.strictObject({
  attempt: int,
  status_code: int.nullable().describe('Null when no answer came (refused, timed out, unreachable).'),
  latency_ms: int,
  response_excerpt: z.string().nullable().describe('The first 1 KB of the answer.'),
  error: z.string().nullable(),
  created_at: timestamp,
});
export const WebhookDeliverySchema = z
  .strictObject({
    id: int,
    event_id: z.string().describe('The `webhook-id` header.'),
    event_type: z.enum(WEBHOOK_EVENTS),
    status: z.enum(['pending', 'succeeded', 'failed', 'skipped']),
    created_at: timestamp,
    attempts: z.array(AttemptSchema),
  })
  .meta({ id: 'WebhookDelivery', description: 'One event sent to one endpoint, with every try.' });
export const WebhookDeliveryListSchema = z
  .strictObject({ results: z.array(WebhookDeliverySchema) })
  .meta({ id: 'WebhookDeliveryList', description: 'The latest deliveries, newest first (at most 100).' });

export function toWebhookEndpointJSON(e: WebhookEndpoint): z.output<typeof WebhookEndpointSchema> {
  return {
    id: e.id,
    user_id: e.userId,
    course_id: e.courseId,
    url: e.url,
    events: e.events,
    description: e.description,
    enabled: e.enabled,
    failing_since: e.failingSince?.toISOString() ?? null,
    disabled_at: e.disabledAt?.toISOString() ?? null,
    created_at: e.createdAt.toISOString(),
  };
}

export const toCreatedWebhookEndpointJSON = (e: CreatedWebhookEndpoint) => ({ ...toWebhookEndpointJSON(e), secret: e.secret });

export function toWebhookDeliveryJSON(d: WebhookDelivery): z.output<typeof WebhookDeliverySchema> {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    created_at: d.createdAt.toISOString(),
    attempts: d.attempts.map((a) => ({
      attempt: a.attempt,
      status_code: a.statusCode,
      latency_ms: a.latencyMs,
      response_excerpt: a.responseExcerpt,
      error: a.error,
      created_at: a.createdAt.toISOString(),
    })),
  };
}
