/**
 * The JSON shapes that leave the process: what the API answers, what the JSON socket protocol and the event stream
 * send, and what the pages render (the same notification everywhere). Each shape is a zod schema, named for the
 * OpenAPI document by `meta({ id })`, and its TypeScript type is derived from that schema (`z.output`), so the
 * document, the handlers, the frames and the templates cannot disagree.
 *
 * Why a room of its own, below `services/`: the notification store builds these shapes straight from its SQL (the
 * fan-out makes each frame's pieces once per batch from one statement, the grouped lists and the bell read groups
 * in one statement each), and realtime and web render them too; `api/` sits above all three, so a shape declared
 * there could not be imported by the store without an upward import. This room imports only `models/` (the enums)
 * and zod, so every layer may import it.
 *
 * Where the mapping happens: a service whose answer is a domain object (a `User`, a `SendRecord`, a fan-out's
 * result) leaves the mapping to the edge (`toUserJSON` here; sends in `api/schemas/sends.ts`). The shapes that
 * are read from SQL for pages, sockets and the API alike (notifications, groups, broadcasts, courses, applications)
 * are mapped where their SQL is, by the store or service that owns the statement: a domain view in between would
 * be a second copy of each shape, mapped again on every push of a fan-out.
 */
export { assertSame, int, timestamp, type Same } from './common';
export { UserSchema, toUserJSON, type UserJSON } from './users';
export {
  AdminNotificationSchema,
  BroadcastSchema,
  NotificationGroupPageSchema,
  NotificationGroupSchema,
  NotificationPageSchema,
  NotificationSchema,
  type BroadcastJSON,
  type NotificationGroupJSON,
  type NotificationGroupPage,
  type NotificationJSON,
  type NotificationPage,
  type NotificationWithRecipient,
} from './notifications';
export { CourseSchema, type CourseJSON } from './courses';
export { ApplicationSchema, type ApplicationJSON } from './applications';
