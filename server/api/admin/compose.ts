import type { z } from 'zod';
import type { Audience } from '../../services/notifications';
import { operation } from '../operation';
import * as admin from '../schemas/admin';
import { AudienceCountSchema } from '../schemas/admin-responses';
import { RecipientsSchema } from '../schemas/responses';
import { SendSchema, toSendJSON } from '../schemas/sends';

const tag = 'Admin';

/** The wire's snake_case audience as the notification service's. */
function toAudience(a: z.output<typeof admin.audience>): Audience {
  switch (a.kind) {
    case 'user':
      return { kind: 'user', userId: a.user_id };
    case 'course':
      return { kind: 'course', courseId: a.course_id };
    case 'role':
      return { kind: 'role', role: a.role };
    case 'all':
      return { kind: 'all' };
  }
}

const send = operation({
  method: 'post',
  path: '/admin/notifications/send',
  operationId: 'adminSendNotification',
  tag,
  summary: 'Send a notification to a user, a course’s students, a role or everyone',
  description:
    'Up to SEND_INLINE_MAX recipients one set-based insert (all or none, 200); above it the send is recorded and ' +
    'answered 202 at once, its audience fixed then (users created later get nothing), and a queued job writes it ' +
    'in chunks. Only active users receive it; the sender is the admin. ' +
    'A course audience links the notification to the course.',
  access: ['admin'],
  scopes: ['admin'],
  body: admin.sendBody,
  responses: {
    200: { description: 'Sent (up to SEND_INLINE_MAX recipients, all or none): how many people received it.', schema: RecipientsSchema },
    202: { description: 'Above SEND_INLINE_MAX: recorded, written by a queued job in chunks; `status_url` tells how far.', schema: SendSchema },
  },
  errors: { 404: 'The audience’s user or course does not exist.' },
  idempotent: true,
  handler: async function send({ services, user, body, idempotencyKey }, res) {
    const content = { type: body.notification_type, title: body.title, message: body.message, data: body.data };
    const sent = await services.compose.send(user, toAudience(body.audience), content, { idempotencyKey });
    if (sent.recorded) res.status(202).json(toSendJSON(sent.recorded));
    else res.json({ recipients: sent.recipients });
  },
});

// The confirmation before sending says how many people it will reach.
const audienceCount = operation({
  method: 'post',
  path: '/admin/audience/count',
  operationId: 'adminCountAudience',
  tag,
  summary: 'How many people an audience reaches',
  description: 'For the confirmation before sending.',
  access: ['admin'],
  scopes: ['admin'],
  body: admin.audienceBody,
  responses: { 200: { description: 'The count.', schema: AudienceCountSchema } },
  errors: { 404: 'The audience’s user or course does not exist.' },
  handler: async function audienceCount({ services, body }, res) {
    res.json({ count: await services.compose.audienceCount(toAudience(body.audience)) });
  },
});

export const composeOperations = [send, audienceCount];
