import { RETRY_TASK } from '../../channels/email/retry';
import { PUSH_RETRY_TASK } from '../../channels/push/retry';
import { Conflict } from '../../errors';
import type { RetryJob } from '../../services/deliveries';
import { operation } from '../operation';
import * as schemas from '../schemas';
import { DeliveryPageSchema, DeliverySchema, listDeliveriesQuery } from '../schemas/preferences';

const tag = 'Admin';

/**
 * The job that sends a retried delivery of each channel, enqueued in the statement that resets the row. Email:
 * `email:deliveries` for that one row, whatever path first chose it (immediate, escalation, digest) and whether
 * its notification was read since; keyed by the row, so a second enqueue replaces a waiting job. Push:
 * `push:deliveries`, that row's notification to the recipient's live devices, keyed the same way. A channel
 * with no sending task yet (webhooks) cannot be retried: its row would wait for a job that never comes.
 */
/** The admin retry job of a channel whose retry task takes `{deliveryIds}`, keyed per delivery. */
const retryJob = (task: string): RetryJob => ({
  task,
  spec: { payload: `json_build_object('deliveryIds', json_build_array(r.id))`, jobKey: `'${task}:' || r.id` },
});
const RETRY_JOBS: Partial<Record<string, RetryJob>> = { email: retryJob(RETRY_TASK), push: retryJob(PUSH_RETRY_TASK) };

// --- what each channel sent, failed or skipped

const list = operation({
  method: 'get',
  path: '/admin/deliveries',
  operationId: 'adminListDeliveries',
  tag,
  summary: 'Deliveries, newest first, filtered and keyset-paged',
  description:
    'Filters combine with AND; empty values are ignored. Pass the previous page’s `next_cursor` as `cursor`: ' +
    'any page costs what the first one costs.',
  access: ['admin'],
  query: listDeliveriesQuery,
  blankQueryIsAbsent: true,
  responses: { 200: { description: 'A page.', schema: DeliveryPageSchema } },
  handler: async function list({ services, query }, res) {
    res.json(await services.deliveries.list(query));
  },
});

const retry = operation({
  method: 'post',
  path: '/admin/deliveries/{id}/retry',
  operationId: 'adminRetryDelivery',
  tag,
  summary: 'Send a failed delivery again',
  description:
    'The delivery goes back to `pending` (its attempts kept) and a job to send it is queued in the same ' +
    'statement. Only a failed delivery can be retried: a sent one must never go out twice.',
  access: ['admin'],
  params: { id: schemas.notificationId },
  responses: { 200: { description: 'The delivery, pending again.', schema: DeliverySchema } },
  errors: { 409: 'The delivery is not failed, or its channel has no sending job yet.' },
  handler: async function retry({ services, params }, res) {
    const { channel } = await services.deliveries.get(params.id);
    const job = RETRY_JOBS[channel];
    if (!job) throw new Conflict(`Deliveries on the ${channel} channel cannot be retried yet.`, { channel });
    res.json(await services.deliveries.retry(params.id, job));
  },
});

export const adminDeliveryOperations = [list, retry];
