import { z } from 'zod';
import { operation } from './operation';
import { SendSchema, toSendJSON } from './schemas/sends';

const tag = 'Sends';

const bySendId = { id: z.uuid().describe('The send’s id.') };
const SENDERS = ['admin', 'instructor'] as const;

const show = operation({
  method: 'get',
  path: '/sends/{id}',
  operationId: 'getSend',
  tag,
  summary: 'A send’s progress',
  description:
    'Recipients written so far of the total, when it started and finished, and its status. A send above ' +
    'SEND_INLINE_MAX is answered 202 with this URL and written by a queued job in chunks. Admins see every send, ' +
    'instructors their own; another’s is a 404.',
  access: SENDERS,
  scopes: ['courses:notify', 'admin'],
  params: bySendId,
  responses: { 200: { description: 'The send.', schema: SendSchema } },
  handler: async function show({ services, user, params }, res) {
    res.json(toSendJSON(await services.sends.status(user, params.id)));
  },
});

const cancel = operation({
  method: 'post',
  path: '/sends/{id}/cancel',
  operationId: 'cancelSend',
  tag,
  summary: 'Stop a send',
  description:
    'No chunk is written after this answer; what was written stays. A send already finished is answered as it is.',
  access: SENDERS,
  scopes: ['courses:notify', 'admin'],
  params: bySendId,
  responses: { 200: { description: 'The send, cancelled (or already over).', schema: SendSchema } },
  handler: async function cancel({ services, user, params }, res) {
    res.json(toSendJSON(await services.sends.cancel(user, params.id)));
  },
});

export const sendOperations = [show, cancel];
