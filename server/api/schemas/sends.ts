import { z } from 'zod';
import type { FanOutResult } from '../../services/notifications';
import { int } from '../../wire';
import { SendSchema, toSendJSON } from '../../wire/sends';

export { SendSchema, toSendJSON, type SendJSON } from '../../wire/sends';

/**
 * What the API answers about sends: a send's progress and notify-students' result. The send service and the
 * fan-out answer domain records (`SendRecord`, `FanOutResult`); only this file turns them into JSON.
 */

export const NotifyStudentsResultSchema = z
  .strictObject({
    recipients: int.describe('How many students received the notification.'),
    batch_id: z.uuid().describe('The send’s id: the `id` of its entry in the course’s broadcasts.'),
    replayed: z.boolean().describe('True when this answers an earlier send with the same Idempotency-Key: nothing was sent now.'),
    send: SendSchema.optional().describe('Above SEND_INLINE_MAX (answered 202): the recorded send and its `status_url`.'),
  })
  .meta({ id: 'NotifyStudentsResult', description: 'The result of notifying a course’s students.' });

/** What notify-students answers. */
export type NotifyStudentsResult = z.output<typeof NotifyStudentsResultSchema>;

export function toNotifyStudentsResult(r: FanOutResult): NotifyStudentsResult {
  return { recipients: r.recipients, batch_id: r.batchId, replayed: r.replayed, ...(r.recorded && { send: toSendJSON(r.recorded) }) };
}
