import { z } from 'zod';
import type { FanOutResult } from '../../services/notifications';
import { SEND_STATUSES, type SendRecord } from '../../services/notifications/sends';
import { int, timestamp } from '../../wire';

/**
 * What the API answers about sends: a send's progress and notify-students' result. The send service and the
 * fan-out answer domain records (`SendRecord`, `FanOutResult`); only this file turns them into JSON.
 */

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

/** A send as the API shows it: inline sends are finished at once, recorded ones move queued → running → finished. */
export type SendJSON = z.output<typeof SendSchema>;

export function toSendJSON(s: SendRecord): SendJSON {
  const inline = !s.recorded;
  return {
    id: s.id,
    status: s.status,
    title: s.title,
    recipients: s.recipients,
    // An inline send wrote its whole audience in its one statement; its times are its record's.
    total: inline ? s.recipients : s.total,
    created_at: s.createdAt.toISOString(),
    started_at: (inline ? s.createdAt : s.startedAt)?.toISOString() ?? null,
    finished_at: (inline ? s.createdAt : s.finishedAt)?.toISOString() ?? null,
    status_url: `/api/sends/${s.id}`,
  };
}

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
