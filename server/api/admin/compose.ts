import type { z } from 'zod';
import type { Audience } from '../../services/notifications';
import { operation } from '../operation';
import * as admin from '../schemas/admin';
import { AudienceCountSchema } from '../schemas/admin-responses';
import { RecipientsSchema } from '../schemas/responses';

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
    'One set-based insert whatever the audience size; only active users receive it; the sender is the admin. ' +
    'A course audience links the notification to the course.',
  access: ['admin'],
  scopes: ['admin'],
  body: admin.sendBody,
  responses: { 200: { description: 'How many people received it.', schema: RecipientsSchema } },
  errors: { 404: 'The audience’s user or course does not exist.' },
  idempotent: true,
  handler: async function send({ services, user, body, idempotencyKey }, res) {
    const content = { type: body.notification_type, title: body.title, message: body.message, data: body.data };
    const recipients = await services.compose.send(user, toAudience(body.audience), content, { idempotencyKey });
    res.json({ recipients });
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
