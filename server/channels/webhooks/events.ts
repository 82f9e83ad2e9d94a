import { createHash } from 'node:crypto';
import type { ApplicationChange, NewNotifications, ReadStateChange } from '../channel';
import { BROADCAST_EVENT_SQL, NOTIFICATION_EVENT_SQL } from '../../services/notifications/store/channel-reads';
import type { WebhookEventType } from '../../services/webhooks';

/**
 * One webhook event, described for the enqueue statement: its type, a stable id, when it happened, and trusted SQL
 * (`source`) yielding one row `(data json, course_id integer)`; no row, no event. `course_id` null means a
 * platform-wide event that only admins' endpoints (course_id null) hear.
 */
export interface WebhookEvent {
  type: WebhookEventType;
  /** The `webhook-id`: the same for every process that hears the event, so the outbox writes it once. */
  id: string;
  timestamp: string;
  source: string;
  replacements: Record<string, unknown>;
}

/** `msg_` and a digest of what identifies the event: deterministic, so a duplicate hand-over is a no-op. */
export function eventId(key: string): string {
  return `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 27)}`;
}

export function notificationEvent(n: NewNotifications, publishedAt: number): WebhookEvent {
  const timestamp = new Date(publishedAt).toISOString();
  if ('batchId' in n) {
    // The whole fan-out, once: its content and how many it reached, never a row per recipient.
    return {
      type: 'broadcast.sent',
      id: eventId(`broadcast.sent:${n.batchId}`),
      timestamp,
      source: BROADCAST_EVENT_SQL,
      replacements: { batchId: n.batchId },
    };
  }
  return {
    type: 'notification.created',
    id: eventId(`notification.created:${n.id}`),
    timestamp,
    source: NOTIFICATION_EVENT_SQL,
    replacements: { id: n.id },
  };
}

export function applicationEvent(c: ApplicationChange, publishedAt: number): WebhookEvent {
  const type = c.status === 'pending' ? 'application.submitted' : 'application.decided';
  return {
    type,
    id: eventId(`${type}:${c.applicationId}:${c.status}:${publishedAt}`),
    timestamp: new Date(publishedAt).toISOString(),
    source: `SELECT json_build_object('id', CAST(:applicationId AS integer), 'course_id', CAST(:courseId AS integer),
                     'candidate_id', CAST(:candidateId AS integer), 'instructor_id', CAST(:instructorId AS integer),
                     'status', CAST(:status AS text)) AS data, CAST(:courseId AS integer) AS course_id`,
    replacements: { ...c },
  };
}

/** Read state belongs to a user, not a course: admins' endpoints only. */
export function readEvent(c: ReadStateChange, publishedAt: number): WebhookEvent {
  const ids = c.ids === 'all' ? null : c.ids;
  return {
    type: 'notification.read',
    id: eventId(`notification.read:${c.recipientId}:${ids?.join(',') ?? 'all'}:${publishedAt}`),
    timestamp: new Date(publishedAt).toISOString(),
    source: `SELECT json_build_object('recipient_id', CAST(:recipientId AS integer), 'all', CAST(:all AS boolean),
                     'ids', CAST(:ids AS bigint[])) AS data, CAST(NULL AS integer) AS course_id`,
    replacements: { recipientId: c.recipientId, all: ids === null, ids: ids ? `{${ids.map(Number).join(',')}}` : null },
  };
}
