import type { BellView, PlacedGroup, ReplayedState } from '../../services/notifications';
import type { NotificationGroupJSON, NotificationJSON } from '../../wire';
import type { NotificationState } from '../../services/events';
import type { SendRecord } from '../../services/notifications/sends';
import type { AdminEventName } from '../admin-hints';
import type { Connection, Protocol } from '../hub';
import type { ApplicationWithCounts } from '../queries';

/**
 * Sends one new notification to one recipient's connection: prepared once for a whole batch (rendered or
 * serialised once), then called per connection with that recipient's id, its position (sort key: the id, or the
 * key it took when it woke; replay points follow it) and unread count. Returns the number of frames pushed.
 */
/** A notification with its position (sort key). */
export interface Positioned {
  n: NotificationJSON;
  position: number;
}

export type NewNotificationSender = (c: Connection, id: number, position: number, unreadCount: number) => number;

/**
 * Who an application push is for: the course's instructor (review row and counts), the candidate (everything that
 * shows their application), or another tab showing the course: `viewer` (its enrolled count) or `adminViewer`
 * (enrolled and pending).
 */
export type ApplicationAudience = 'instructor' | 'candidate' | 'viewer' | 'adminViewer';

/**
 * Who a recorded send's progress is for: its `sender` (every protocol), or on a page showing its course another of
 * the course's managers: an `admin` (may cancel it too) or the course's `instructor` (sees it, cannot cancel).
 */
export type SendAudience = 'sender' | 'admin' | 'instructor';

/**
 * A wire protocol: what the frames of one kind of socket look like. Delivery decides who gets what and when;
 * the protocol decides only the bytes. Optional members are what a protocol does not carry at all (its sockets
 * then get nothing for it, and delivery skips the reads that would feed it).
 */
export interface WireProtocol {
  readonly name: Protocol;
  /** Its read-state and snapshot frames show the bell's latest items, not only the count (one more read). */
  readonly showsBell: boolean;

  /** A new notification, prepared once for every recipient connection of this protocol. */
  newNotification(n: NotificationJSON): NewNotificationSender;
  /**
   * A new notification joined a group of more than one: the group's line, sent after the notification's frames.
   * None: the protocol shows every notification on its own (its sockets get nothing, and no group is read).
   */
  groupUpdated?(group: NotificationGroupJSON): string;
  /**
   * A new notification joined a group of more than one, for a protocol that shows the group's line INSTEAD of the
   * notification (the bell: one line, moved to the top, never a second card). `view` is the recipient's fresh bell.
   * Rendered per recipient: a grouped row has one recipient (a fan-out's rows are never grouped).
   */
  newGroupMember?(n: NotificationJSON, position: number, group: NotificationGroupJSON, view: BellView): string;
  /**
   * After a state change (read, done, undone, unread, snoozed, deleted) touched groups: each group's fresh line as
   * All shows it, or null when none of its members is left in the inbox. None: the protocol shows no groups.
   */
  groupLines?(lines: ReadonlyMap<string, PlacedGroup | null>): string[];
  /**
   * Notifications were read elsewhere (`all`: every one): frames for each of the user's tabs. `position`: the
   * change's place in delivery order (absent from an event of an older process), for protocols that replay states.
   */
  readState(view: BellView, ids: number[] | 'all', position?: number): string[];
  /** Notifications were deleted (by the user elsewhere, or by a moderator): frames for each of the user's tabs. */
  removed(view: BellView, ids: number[], position?: number): string[];
  /**
   * Notifications were done, undone, marked unread or snoozed elsewhere: frames for each of the user's tabs.
   * `returning`: for undone and unread, those of them now back in the inbox, each with its position, so a tab's
   * list that lacks them (it never had them, or showed them under Done) can take them in at their place. Read
   * only for protocols that show lists (`showsBell`).
   */
  stateChanged(view: BellView, ids: number[], state: NotificationState, returning: Positioned[], position?: number): string[];
  /** The first frame of a (re)connect. */
  snapshot(view: BellView): string;
  /**
   * One missed notification at its position, replayed after the snapshot (`?since=`, a bus resync). None: the
   * protocol never replays.
   */
  replay?(n: NotificationJSON, position: number): string;
  /**
   * Rows the resuming tab had whose state changed while it was away (`?since=`), all in one state now; `position`
   * only on a frame after which the tab may resume (see snapshots.ts). None: the protocol replays no states, and
   * its live state frames do not move its resume point. `returning`: for a protocol that shows lists (`showsBell`),
   * those of the rows now in the inbox, read or unread (they may have come back from Done), as they are now, so a
   * list that lacks them takes them in as after a live undone or unread; empty for the others (never read).
   */
  replayStates?(ids: number[], state: ReplayedState, position: number | undefined, returning: Positioned[]): string;
  /** An application arrived or was decided. None: its sockets hear of it through the notification only. */
  application?(change: ApplicationWithCounts, audience: ApplicationAudience, inserted: boolean): string;
  /**
   * A recorded send moved (started, a chunk committed, finished, cancelled), as it is now. Undefined: nothing for
   * this audience. None: its sockets never show sends.
   */
  sendProgress?(send: SendRecord, audience: SendAudience): string | undefined;
  /** The admin console's hint to refetch. None: its sockets are not the console. */
  adminHint?(name: AdminEventName): string;
  /**
   * The unread count on its own, as the answer to a "mark all as read" that changed nothing (no event follows, so
   * nothing else will answer). None: the protocol sends the count only with the change it belongs to.
   */
  unreadCount?(unreadCount: number): string;
  error(code: string, message: string): string;
  readonly pong: string;
}
