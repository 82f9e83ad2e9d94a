/**
 * What NotificationService takes and answers, as plain types (and the one pure function over them), beside the
 * wire shapes (`server/wire/`) that pages, htmx answers, socket pushes and the API render. Kept apart so the service
 * is only its behaviour.
 */
import type { NotificationType } from '../../models';
import type { NotificationGroupJSON, NotificationJSON } from '../../wire';
import { groupKeyOf, type ListStatus } from './store';
import type { SendRecord } from './store/sends';

/** What a fan-out did. `batchId` is also the id of its broadcast row. */
export interface FanOutResult {
  /** Rows written: all of them for an inline send, so far (0 when just recorded) for a recorded one. */
  recipients: number;
  batchId: string;
  /** True when an earlier send with the same idempotency key answered instead: nothing was sent this time. */
  replayed: boolean;
  /** Above SEND_INLINE_MAX: the recorded send a job is writing (its status, progress); null for an inline send. */
  recorded: SendRecord | null;
}

export interface ListOptions {
  status: ListStatus;
  /** One type, or several (any of them). */
  type?: NotificationType | NotificationType[];
  /** None of these types. */
  excludeType?: NotificationType[];
  /** Search text; `type:x` and `-type:x` in it filter by type too (see parseSearch). */
  q?: string;
  /** Only the members of this group (a group line expanded; its key as `group_key` says it). */
  groupKey?: string;
  /** Only notifications about this course. */
  courseId?: number;
  /** created_at >= from */
  from?: Date;
  /** created_at <= to */
  to?: Date;
  /** created_at < until (a whole day given as a date ends at the next midnight) */
  until?: Date;
  limit: number;
  cursor?: string;
}

/** What the bell shows: the badge and the latest few. Pages, htmx answers and socket pushes all render it. */
export interface BellView {
  unreadCount: number;
  /**
   * The latest lines, newest first: each a notification, with `group` when it is the newest of a group of more
   * than one in the inbox (the line then speaks for the group: partials/bell-group.njk).
   */
  latest: BellLine[];
  /** Each line's position (its sort key), where known: what a socket's snapshot carried. */
  positions?: number[];
  /**
   * Unread ones older than all of `latest` and not standing in one of its group lines, newest first, so that
   * `latest` followed by these holds the newest unread ones too (the Unread tab). Empty when `latest` holds them all.
   */
  olderUnread: NotificationJSON[];
}

/**
 * The bell's `olderUnread` from its latest lines and the user's newest unread ones: those neither shown nor in a
 * shown group's line. Every unread row is in the inbox, so any of them missing from the latest is older than all.
 */
export function olderUnreadOf(latest: readonly BellLine[], newestUnread: readonly NotificationJSON[]): NotificationJSON[] {
  const shown = new Set(latest.map((n) => n.id));
  const groups = new Set(latest.map((n) => n.group?.group_key).filter((k): k is string => k !== undefined));
  return newestUnread.filter((n) => !shown.has(n.id) && !groups.has(groupKeyOf(n) ?? ''));
}

/** One line of the bell: a notification, or the newest member of a group standing for it. */
export type BellLine = NotificationJSON & { group?: NotificationGroupJSON };

