import type { NotificationType } from '../../models';

/** What a push carries to the service worker: small JSON, well under the 4 KiB push services accept. */
export interface PushPayload {
  id: number;
  title: string;
  body: string;
  /** Where a click leads: opening it shows the notification and marks it read. */
  url: string;
  /** The notification's group: a newer one with the same tag replaces the older on screen. */
  tag: string;
  type: NotificationType;
}

/** One push: its payload and the RFC 8030 headers that go with it. */
export interface PushMessage {
  payload: PushPayload;
  /** Seconds the push service keeps it for a device that is offline. */
  ttl: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** RFC 8030 Topic: an undelivered push with the same topic is replaced by the newer one. */
  topic: string;
}

/** The notification fields a push is made of. */
export interface PushableNotification {
  id: number;
  type: NotificationType;
  title: string;
  message: string;
  applicationId?: number | null;
}

const DECISIONS: ReadonlySet<NotificationType> = new Set(['application_approved', 'application_rejected']);
const DAY = 86_400;
const HOUR = 3_600;
const MAX_TITLE = 200;
const MAX_BODY = 1_000;

/**
 * A decision waits a day for a sleeping laptop and asks to wake it (`high`); an announcement and the rest are
 * stale after an hour. The group is the application for decisions, so approving then rejecting shows (and
 * queues) only the later one; otherwise the notification itself, so a retried push never stacks a duplicate.
 * Both fit RFC 8030's topic rule (at most 32 URL-safe base64 characters).
 */
export function pushMessage(n: PushableNotification): PushMessage {
  const decision = DECISIONS.has(n.type);
  const group = decision && n.applicationId ? `application-${n.applicationId}` : `notification-${n.id}`;
  return {
    payload: {
      id: n.id,
      title: clip(n.title, MAX_TITLE),
      body: clip(n.message, MAX_BODY),
      url: `/notifications/${n.id}`,
      tag: group,
      type: n.type,
    },
    ttl: decision ? DAY : HOUR,
    urgency: decision ? 'high' : 'normal',
    topic: group,
  };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
