import { z } from 'zod';
import { operation } from '../operation';

export const DigestRunSchema = z
  .strictObject({
    users: z.number().int().describe('Users with something to digest; those in their quiet hours get theirs when the hours end.'),
    job_id: z.string().nullable().describe('The queued run, or null when nobody had anything to digest.'),
  })
  .meta({ id: 'DigestRun', description: 'A digest run queued by an admin.' });

// The hour only schedules the automatic run; this sends every pending digest now. Each notification gets one
// email delivery, so a repeated run (or a run beside the hourly one) never sends anything twice.
const run = operation({
  method: 'post',
  path: '/admin/digests/run',
  operationId: 'adminRunDigests',
  tag: 'Admin',
  summary: 'Send the daily digests now',
  description:
    'Queues one digest run for every user with something unread to digest, whatever their digest hour ' +
    '(quiet hours still hold theirs until they end). Answers how many users that is and the job id.',
  access: ['admin'],
  responses: { 200: { description: 'The run is queued (or there was nothing to send).', schema: DigestRunSchema } },
  idempotent: true,
  handler: async function runDigests({ services }, res) {
    res.json(await services.digests.requestAll());
  },
});

export const digestOperations = [run];
