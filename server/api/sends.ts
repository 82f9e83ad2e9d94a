import { z } from 'zod';
import { SEND_STATUSES, toSendJSON, type SendJSON } from '../services/notifications/sends';
import { operation } from './operation';

const tag = 'Sends';
const int = z.number().int();
const timestamp = z.iso.datetime();

/** A send's progress as the API answers it (the 202 of a recorded send, its status URL, its cancel). */
export const SendSchema = z
  .strictObject({
    id: z.uuid().describe('The send’s id (its broadcast’s, and every notification’s `batch_id`).'),
    status: z.enum(SEND_STATUSES).describe('queued (recorded, not started), running, finished or cancelled.'),
    title: z.string(),
    recipients: int.describe('Recipients written so far.'),
    total: int.nullable().describe('The audience’s size as of the send’s record; null until the job counted it.'),
    created_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable().describe('When it finished or was cancelled.'),
    status_url: z.string().describe('Where to read this again: `GET` it.'),
  })
  .meta({ id: 'Send', description: 'A send and how far it got.' });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertSame<T extends true>(): T | void {}
assertSame<Same<z.output<typeof SendSchema>, SendJSON>>();

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
