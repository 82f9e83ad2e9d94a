import { z } from 'zod';
import { int, timestamp } from './common';

/** Where a send is: recorded and waiting, writing its chunks, done, or stopped by its sender. */
export const SEND_STATUSES = ['queued', 'running', 'finished', 'cancelled'] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

/** A send's progress as the API answers it (the 202 of a recorded send, its status URL, its cancel). */
export const SendSchema = z
  .strictObject({
    id: z.uuid().describe('The send’s id (its broadcast’s, and every notification’s `batch_id`).'),
    status: z.enum(SEND_STATUSES).describe('queued (recorded, not started), running, finished or cancelled.'),
    title: z.string(),
    recipients: int.describe('Recipients written so far.'),
    total: int.nullable().describe('The audience’s size as of the send’s record; null until the job counted it (after its first chunk went out).'),
    created_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable().describe('When it finished or was cancelled.'),
    status_url: z.string().describe('Where to read this again: `GET` it.'),
  })
  .meta({ id: 'Send', description: 'A send and how far it got.' });

/** A send as the API, the JSON protocol's `send_progress` and the pages show it. */
export type SendJSON = z.output<typeof SendSchema>;

/** What `toSendJSON` reads of a send's record (the store's SendRecord has these and more). */
export interface SendView {
  id: string;
  recorded: boolean;
  status: SendStatus;
  title: string;
  recipients: number;
  total: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Inline sends are finished at once; recorded ones move queued → running → finished (or cancelled). */
export function toSendJSON(s: SendView): SendJSON {
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
