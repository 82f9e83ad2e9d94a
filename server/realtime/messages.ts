import type { NotificationService } from '../services/notifications';
import type { Connection } from './hub';
import type { Protocols } from './protocols';

/** A page shows at most this many courses' counts at once (the catalog); more is a client bug or abuse. */
const MAX_WATCHED = 500;

/**
 * Answers one client text frame (both protocols send JSON: hx-ws sends its form values as a JSON object). Every
 * action is scoped to the connection's own user; what it changes comes back to every tab as an event.
 */
export async function answerMessage(
  deps: {
    notifications: NotificationService;
    protocols: Protocols;
    visibility?: (c: Connection, visible: boolean) => void;
    watch?: (c: Connection, courseIds: number[]) => void;
  },
  c: Connection,
  text: string,
): Promise<void> {
  const p = deps.protocols[c.protocol];
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return c.sendNow(p.error('invalid_json', 'Messages must be JSON objects.'));
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return c.sendNow(p.error('invalid_message', 'Messages must be JSON objects.'));
  }
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'ping':
      return c.sendNow(p.pong);
    case 'mark_as_read': {
      // hx-ws sends form values as strings; the JSON protocol sends numbers. Accept both, nothing else.
      const id = typeof m.id === 'number' ? m.id : typeof m.id === 'string' && /^\d{1,15}$/.test(m.id) ? Number(m.id) : NaN;
      if (!Number.isSafeInteger(id) || id <= 0) return c.sendNow(p.error('invalid_id', 'id must be a positive integer.'));
      try {
        // The service publishes notification.read, which updates this tab and every other one.
        await deps.notifications.inbox.markRead(c.userId, id);
      } catch (err) {
        if ((err as { status?: number }).status === 404) return c.sendNow(p.error('not_found', 'Notification not found.'));
        throw err;
      }
      return;
    }
    case 'mark_all_as_read': {
      const n = await deps.notifications.inbox.markAllRead(c.userId);
      // Nothing changed means no event: answer this socket directly so it still hears back.
      if (n === 0 && p.unreadCount) c.sendNow(p.unreadCount(await deps.notifications.unreadCount(c.userId)));
      return;
    }
    case 'visibility': {
      // The tab's Page Visibility state, sent on connect and on every change. Nothing is answered.
      if (typeof m.visible !== 'boolean') return c.sendNow(p.error('invalid_message', 'visible must be true or false.'));
      deps.visibility?.(c, m.visible);
      return;
    }
    case 'watch': {
      // The courses whose counts the tab shows (catalog cards, a course page), sent on connect and after a swap,
      // so a count change reaches the tabs showing it and no others. Nothing is answered.
      const ids = m.courses;
      if (!Array.isArray(ids) || ids.length > MAX_WATCHED || !ids.every((x) => Number.isSafeInteger(x) && x > 0)) {
        return c.sendNow(p.error('invalid_message', `courses must be at most ${MAX_WATCHED} positive integers.`));
      }
      deps.watch?.(c, [...new Set(ids as number[])]);
      return;
    }
    default:
      return c.sendNow(p.error('unknown_type', 'Unknown message type.'));
  }
}
