import { z } from 'zod';
import { NOTIFICATION_TYPES, ROLES } from '../models';
import { int, timestamp } from './common';
import { SEND_STATUSES } from './sends';

export const NotificationSchema = z
  .strictObject({
    id: int,
    type: z.enum(NOTIFICATION_TYPES),
    title: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).describe('Free-form JSON attached by the sender or the trigger.'),
    is_read: z.boolean(),
    read_at: timestamp.nullable(),
    created_at: timestamp,
    done_at: timestamp.nullable().describe('Done (archived): when. Done also marks read.'),
    snoozed_until: timestamp.nullable().describe('Snoozed: until when; it then comes back unread, at the top.'),
    sender: z.strictObject({ id: int, name: z.string(), email: z.string() }).nullable(),
    application_id: int.nullable(),
    course_id: int.nullable(),
    course_title: z.string().nullable(),
  })
  .meta({ id: 'Notification', description: 'One notification of the signed-in user.' });

/** The notification as every reader sees it: the API, the pages, the sockets, the event stream. */
export type NotificationJSON = z.output<typeof NotificationSchema>;

export const NotificationPageSchema = z
  .strictObject({
    results: z.array(NotificationSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last page.'),
    unread_count: int,
  })
  .meta({ id: 'NotificationPage', description: 'A page of notifications, newest first.' });

export type NotificationPage = z.output<typeof NotificationPageSchema>;

export const NotificationGroupSchema = z
  .strictObject({
    group_key: z
      .string()
      .describe('`application_submitted:course:<id>` for applications to one course; `n:<id>` for a notification of its own. Pass it to the bulk endpoint’s `group_keys`.'),
    count: int.describe('Members in this list (status and filters applied).'),
    unread_count: int.describe('Unread members in this list.'),
    actors: z.array(z.string()).max(3).describe('Up to three distinct senders’ names, newest first.'),
    latest: NotificationSchema,
  })
  .meta({ id: 'NotificationGroup', description: 'One line of the grouped list: its newest member and what the line says of the rest.' });

/** One line of the grouped list (and of the bell): the group's newest member in that list, and the rest in numbers. */
export type NotificationGroupJSON = z.output<typeof NotificationGroupSchema>;

export const NotificationGroupPageSchema = z
  .strictObject({
    results: z.array(NotificationGroupSchema),
    next_cursor: z.string().nullable().describe('Pass as `cursor` (with `group=true`) for the next (older) page; null on the last page.'),
    unread_count: int,
  })
  .meta({ id: 'NotificationGroupPage', description: 'A page of groups, the newest group (by its newest member) first.' });

export type NotificationGroupPage = z.output<typeof NotificationGroupPageSchema>;

export const AdminNotificationSchema = z
  .strictObject({
    ...NotificationSchema.shape,
    recipient: z.strictObject({ id: int, name: z.string(), email: z.string(), role: z.enum(ROLES) }),
  })
  .meta({ id: 'AdminNotification', description: 'Any user’s notification, with its recipient.' });

/** A notification as moderation sees it: the shape every reader sees, plus who received it. */
export type NotificationWithRecipient = z.output<typeof AdminNotificationSchema>;

export const BroadcastSchema = z
  .strictObject({
    id: z.uuid(),
    type: z.enum(NOTIFICATION_TYPES),
    title: z.string(),
    recipients: int.describe('How many students it reached (so far, while a recorded send is still going).'),
    status: z.enum(SEND_STATUSES).describe('queued or running while a recorded send is written in chunks; finished or cancelled after.'),
    total: int.nullable().describe('The audience’s size; null until a recorded send’s job counted it.'),
    created_at: timestamp,
    sender: z.strictObject({ id: int, name: z.string() }).nullable().describe('Null once the sender’s account is gone.'),
  })
  .meta({ id: 'Broadcast', description: 'One notification sent to a course’s students, as its senders see it.' });

/** A fan-out as its senders see it afterwards (the course page's "Recently sent", the API's broadcasts). */
export type BroadcastJSON = z.output<typeof BroadcastSchema>;
