import { WEBHOOK_EVENTS, type WebhookEventType } from '../../services/webhooks';

type Json = Record<string, unknown>;

/**
 * The OpenAPI 3.1 `webhooks` section: what Herald POSTs to a registered endpoint, one entry per event type. The
 * payloads are written by SQL in server/channels/webhooks/events.ts (no zod schema to derive them from): a change
 * there is a change here.
 */
const int = { type: 'integer' };
const str = { type: 'string' };
const time = { type: 'string', format: 'date-time' };
const nullable = (s: Json) => ({ anyOf: [s, { type: 'null' }] });
const object = (properties: Record<string, Json>): Json => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
});

const data: Record<WebhookEventType, { summary: string; schema: Json }> = {
  'notification.created': {
    summary: 'A notification was written for one user (never sent for the rows of a broadcast).',
    schema: object({
      id: int,
      recipient_id: int,
      type: str,
      title: str,
      message: str,
      course_id: nullable(int),
      application_id: nullable(int),
      created_at: time,
    }),
  },
  'broadcast.sent': {
    summary: 'One send reached a whole audience: one event however many recipients.',
    schema: object({
      batch_id: { type: 'string', format: 'uuid' },
      course_id: nullable(int),
      type: str,
      title: str,
      message: str,
      sender_id: nullable(int),
      recipients: { type: 'integer', description: 'How many users it reached.' },
      created_at: time,
    }),
  },
  'application.submitted': {
    summary: 'A candidate applied to a course.',
    schema: object({ id: int, course_id: int, candidate_id: int, instructor_id: int, status: { const: 'pending' } }),
  },
  'application.decided': {
    summary: 'The instructor approved or rejected an application.',
    schema: object({ id: int, course_id: int, candidate_id: int, instructor_id: int, status: { enum: ['approved', 'rejected'] } }),
  },
  'notification.read': {
    summary: 'A user read notifications: these ids, or all of them (`all: true`, `ids: null`). Admins’ endpoints only.',
    schema: object({ recipient_id: int, all: { type: 'boolean' }, ids: nullable({ type: 'array', items: int }) }),
  },
};

const header = (name: string, description: string) => ({ name, in: 'header', required: true, description, schema: str });

export function webhooksSection(): Json {
  const out: Json = {};
  for (const type of WEBHOOK_EVENTS) {
    out[type] = {
      post: {
        operationId: `webhook_${type.replace('.', '_')}`,
        summary: data[type].summary,
        description:
          'Signed per the Standard Webhooks specification: verify with the `standardwebhooks` libraries and the ' +
          'endpoint’s `whsec_` secret. Admins’ endpoints hear every event; an instructor’s, its course’s only. ' +
          'Answer 2xx within 10 s; anything else is retried at jittered times (5-15 s, then 30-90 s later, widening ' +
          'to about a day: 9 tries), redirects are not followed, and an endpoint failing for a day is disabled.',
        parameters: [
          header('webhook-id', 'The event’s id, the same on every retry: deduplicate on it.'),
          header('webhook-timestamp', 'Seconds since the epoch when this try was signed.'),
          header('webhook-signature', '`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.'),
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: object({ type: { const: type }, timestamp: time, data: data[type].schema }),
            },
          },
        },
        responses: { '2XX': { description: 'Received: no further tries.' } },
      },
    };
  }
  return out;
}
