import type { NotificationJSON } from '../../wire';
import { toSendJSON } from '../../wire/sends';
import type { WireProtocol } from './protocol';

/** `/ws/notifications`: JSON frames for API clients and the admin console (contract in the README). */
export const JSON_PATH = '/ws/notifications';

const unread = (n: number) => `{"type":"unread_count","unread_count":${n}}`;
/**
 * The inbox's one frame for every state change (issue 14); `all` only for "mark all as read". `position`: the
 * change's place in delivery order, as on a woken notification's frame: a client resumes with `?since=` the highest
 * position (or notification id) it saw, and a state change is then replayed only if it came later.
 */
const stateFrame = (ids: number[] | 'all', state: string, position?: number) => {
  const at = position === undefined ? '' : `,"position":${position}`;
  return ids === 'all'
    ? `{"type":"notification_state","ids":[],"all":true,"state":"${state}"${at}}`
    : `{"type":"notification_state","ids":${JSON.stringify(ids)},"state":"${state}"${at}}`;
};
/**
 * A notification's place in delivery order is its sort key: the id for a row that never woke (nearly all: the frame
 * then stays as it always was), a higher number for one that came back from snooze, which only then the frame
 * carries as `position`. Clients resume with `?since=<highest position ?? notification.id seen>`.
 */
const notification = (n: NotificationJSON, position: number) =>
  JSON.stringify(position === n.id ? { type: 'notification', notification: n } : { type: 'notification', notification: n, position });

/** Errors are JSON on every protocol (hx-ws does not swap a frame without `content`). */
export const jsonError = (code: string, message: string) => JSON.stringify({ type: 'error', code, message });
export const PONG = '{"type":"pong"}';

/**
 * A notification frame serialised once for a whole fan-out. The id is the first key of the API shape, so each
 * copy is the recipient's id between a fixed prefix and the serialised rest: built from the structure, with no
 * search through the text (user text can never take part), and two concatenations instead of a JSON.stringify.
 */
function notificationFrameFactory(n: NotificationJSON): (id: number, position: number) => string {
  const { id: _id, ...rest } = n;
  const tail = JSON.stringify(rest).slice(1); // drop the "{"; rest is never empty
  return (id, position) =>
    position === id ? `{"type":"notification","notification":{"id":${id},${tail}}` : `{"type":"notification","notification":{"id":${id},${tail},"position":${position}}`;
}

export const jsonProtocol: WireProtocol = {
  name: 'json',
  showsBell: false,

  newNotification(n) {
    const frame = notificationFrameFactory(n);
    // Most recipients of a fan-out share a handful of counts: one string per count, not one per recipient.
    const unreadFrames: string[] = [];
    return (c, id, position, unreadCount) => {
      // Both frames leave in one write: one syscall per recipient instead of two.
      c.cork();
      c.push(frame(id, position), position);
      c.push((unreadFrames[unreadCount] ??= unread(unreadCount)));
      c.uncork();
      return 2;
    };
  },

  // "Read all": ids stays an array (the contract) and `all` says the list is not enumerated: this process
  // does not know which ids the client holds. `notification_read` stays for the clients that use it; the inbox's
  // `notification_state` says the same in the shape every other state change has. A fresh unread_count follows.
  readState: (view, ids, position) => [
    ids === 'all' ? '{"type":"notification_read","ids":[],"all":true}' : JSON.stringify({ type: 'notification_read', ids }),
    stateFrame(ids, 'read', position),
    unread(view.unreadCount),
  ],
  removed: (view, ids, position) => [stateFrame(ids, 'deleted', position), unread(view.unreadCount)],
  stateChanged: (view, ids, state, _returning, position) => [stateFrame(ids, state, position), unread(view.unreadCount)],
  replayStates: stateFrame,
  groupUpdated: (group) => JSON.stringify({ type: 'group_updated', group }),
  // After a state change: the lines of the groups it touched; a group that left the inbox says so by its key.
  groupLines: (lines) =>
    [...lines].map(([key, l]) => (l ? JSON.stringify({ type: 'group_updated', group: l.group }) : JSON.stringify({ type: 'group_removed', group_key: key }))),
  snapshot: (view) => `{"type":"connection_established","unread_count":${view.unreadCount}}`,
  replay: notification,
  // Only to its sender: exactly what `GET /api/sends/{id}` answers. Admins' consoles refetch on their hint instead.
  sendProgress: (send, audience) => (audience === 'sender' ? JSON.stringify({ type: 'send_progress', send: toSendJSON(send) }) : undefined),
  adminHint: (event) => JSON.stringify({ type: 'admin_event', event }),
  unreadCount: unread,
  error: jsonError,
  pong: PONG,
};
