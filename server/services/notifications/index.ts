import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import { NotFound, ValidationError } from '../../errors';
import type { BroadcastJSON, NotificationGroupJSON, NotificationGroupPage, NotificationJSON, NotificationPage } from '../../wire';
import type { EventPublisher, NotificationState } from '../events';
import { decodeCursor, keysetPage } from '../paging';
import { parseSearch } from './query';
import { olderUnreadOf, type BellLine, type BellView, type FanOutResult, type ListOptions } from './views';
import { DEFAULT_SEND_LIMITS, type SendLimits } from './sends';
import type { SendStore } from './store/sends';
import { NotificationStore, type Audience, type FanOutContent, type NewNotification, type PlacedGroup, type StateAction } from './store';

export {
  LIST_STATUSES,
  STATE_ACTIONS,
  WAKE_TASK,
  type ListStatus,
  type StateAction,
  NOTIFICATION_SORTS,
  MODERATION_STATES,
  type ModerationState,
  type BatchRow,
  NotificationStore,
  toNotificationJSON,
  type NotificationFilter,
  type NotificationSort,
  type Audience,
  type FanOutContent,
  type NewNotification,
  type NotificationRow,
  type NotificationJobTiming,
  type PlacedGroup,
  groupKeyOf,
  GROUP_KEY_MAX,
  GROUP_KEY_RE,
} from './store';
export { encodeCursor } from '../paging';
export { parseSearch, searchWords, type ParsedSearch } from './query';

export {
  olderUnreadOf,
  type BellLine,
  type BellView,
  type FanOutResult,
  type ListOptions,
} from './views';

/** The longest snooze. */
export const SNOOZE_MAX_MS = 366 * 24 * 3600 * 1000;

/** The most ids one state event carries (see #announce). */
const ANNOUNCE_IDS = 500;

/** How many notifications the bell's dropdown lists. */
export const BELL_SIZE = 5;

/**
 * Creates, reads and marks a user's notifications through the store. Every change publishes an event after its
 * transaction commits; the realtime layer turns those into pushes. Nothing here knows about HTTP or sockets.
 */
export class NotificationService {
  readonly #store: NotificationStore;
  readonly #events: EventPublisher;

  readonly #sends: SendStore;
  readonly #inlineMax: number;

  constructor(deps: { store: NotificationStore; events: EventPublisher; sends: SendStore; limits?: SendLimits }) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#sends = deps.sends;
    this.#inlineMax = (deps.limits ?? DEFAULT_SEND_LIMITS).inlineMax;
  }

  /**
   * Inserts one notification inside the caller's transaction (so it commits or rolls back with the change
   * that caused it) and announces it once that transaction commits.
   */
  async create(n: NewNotification, transaction: Transaction): Promise<number> {
    const id = await this.#store.insert(n, transaction);
    transaction.afterCommit(() => this.#events.publish({ type: 'notification.created', recipientId: n.recipientId, id }));
    return id;
  }

  /**
   * Sends one notification to a whole audience with a single statement (see `NotificationStore.insertForAudience`).
   * The event names the batch, not the recipients. With an `idempotencyKey` (per sender; ignored without one) a
   * repeated send writes nothing and returns the first send's result with `replayed: true`, so a retry after a
   * lost answer never delivers a second copy.
   */
  async fanOut(audience: Audience, content: FanOutContent, opts: { idempotencyKey?: string } = {}): Promise<FanOutResult> {
    const batch = { batchId: randomUUID(), idempotencyKey: opts.idempotencyKey ?? null };
    // The decision sits in the fan-out statement itself (it counts the audience up to SEND_INLINE_MAX + 1, never a
    // million), so an inline send stays one statement; both senders (admin compose, notify-students) pass here.
    // Above it the statement wrote nothing: the send is recorded and answered at once, and a queued job writes it
    // in chunks (SendService).
    const inline = await this.#store.insertForAudience(audience, content, { ...batch, inlineMax: this.#inlineMax });
    if (inline.tooLarge) {
      const { send, replayed } = await this.#sends.record(audience, content, batch);
      if (!replayed) {
        const { id: batchId, status, recipients, total, senderId, courseId } = send;
        this.#events.publish({ type: 'broadcast.progress', batchId, status, recipients, total, senderId, courseId });
      }
      return { recipients: send.recipients, batchId: send.id, replayed, recorded: send.recorded ? send : null };
    }
    // A key first used by a recorded send (the audience has shrunk since) answers that send, progress and all.
    const first = inline.replayed ? await this.#sends.get(inline.batchId) : undefined;
    if (first?.recorded) return { recipients: first.recipients, batchId: first.id, replayed: true, recorded: first };
    const result = { ...inline, recorded: null };
    if (!result.replayed && result.recipients > 0) {
      this.#events.publish({
        type: 'notification.fanout',
        batchId: result.batchId,
        count: result.recipients,
        courseId: content.courseId ?? null,
        notificationType: content.type,
      });
    }
    return result;
  }

  /** A course's latest broadcasts, newest first, with their senders. */
  courseBroadcasts(courseId: number, limit = 20): Promise<BroadcastJSON[]> {
    return this.#store.courseBroadcasts(courseId, limit);
  }

  /** How many users an audience reaches right now (the admin's confirmation step). */
  audienceSize(audience: Audience): Promise<number> {
    return this.#store.audienceSize(audience);
  }

  async list(userId: number, opts: ListOptions): Promise<NotificationPage> {
    const rows = await this.#store.own(userId, this.#listQuery(opts));
    // The cursor holds the last row's sort key (its id unless it woke from a snooze).
    const page = keysetPage(rows, opts.limit, (r) => r.sortKey);
    return { results: page.results.map((r) => r.n), next_cursor: page.nextCursor, unread_count: await this.unreadCount(userId) };
  }

  /**
   * The same list as groups (same filters, same cursor form): each line a group of notifications of the same kind
   * about the same thing, placed by its newest member; one statement per page (a second only for an empty page).
   */
  async listGroups(userId: number, opts: ListOptions): Promise<NotificationGroupPage> {
    const { groups, unread } = await this.#store.groups(userId, this.#listQuery(opts));
    const page = keysetPage(groups, opts.limit, (g) => g.sortKey);
    return {
      results: page.results.map((g) => g.group),
      next_cursor: page.nextCursor,
      unread_count: unread ?? (await this.unreadCount(userId)),
    };
  }

  #listQuery(opts: ListOptions) {
    const search = parseSearch(opts.q);
    const types = [...(opts.type === undefined ? [] : [opts.type].flat()), ...search.types];
    return {
      status: opts.status,
      types,
      excludeTypes: [...(opts.excludeType ?? []), ...search.excludeTypes],
      q: search.text || undefined,
      groupKey: opts.groupKey,
      courseId: opts.courseId,
      from: opts.from,
      to: opts.to,
      until: opts.until,
      before: opts.cursor ? decodeCursor(opts.cursor) : undefined,
      limit: opts.limit + 1,
    };
  }

  /**
   * The bell: its latest lines (groups as one line, like the page's All list) and the unread count in one statement
   * (ownGroups; an empty inbox has nothing unread: unread rows are always in the inbox), beside the newest unread
   * ones for the Unread tab.
   */
  async bell(userId: number): Promise<BellView> {
    const [{ groups, unread }, newestUnread] = await Promise.all([
      this.#store.groups(userId, { status: 'all', limit: BELL_SIZE }),
      this.#store.unreadFor([userId], BELL_SIZE).then((m) => m.get(userId) ?? []),
    ]);
    const latest: BellLine[] = groups.map(({ group }) => (group.count > 1 ? { ...group.latest, group } : group.latest));
    return {
      unreadCount: unread ?? 0,
      latest,
      positions: groups.map((g) => g.sortKey),
      olderUnread: olderUnreadOf(latest, newestUnread),
    };
  }

  /**
   * Bells of many users (a socket snapshot, a bus resync). One statement per user, run side by side: the grouped
   * bell has no set-based form yet (ownGroups is per user), and the snapshots of one connect burst are few.
   */
  async bells(userIds: number[]): Promise<Map<number, BellView>> {
    return new Map(await Promise.all(userIds.map(async (id) => [id, await this.bell(id)] as const)));
  }

  /**
   * The lines of the user's groups that the rows `ids` (and the deleted rows' groups `keys`) are in, as All shows
   * them now; null for a group no longer in the inbox. For the live lines after a state change.
   */
  groupLines(userId: number, ids: readonly number[], keys: readonly string[] = []): Promise<Map<string, PlacedGroup | null>> {
    return this.#store.groupLines(userId, ids, keys);
  }

  /** Whether the user has a notification in the group `key` (a group's actions answer 404 otherwise). */
  hasGroup(userId: number, key: string): Promise<boolean> {
    return this.#store.hasGroup(userId, key);
  }

  async get(userId: number, id: number): Promise<NotificationJSON> {
    const found = await this.#store.ownOne(userId, id);
    if (!found) throw new NotFound('Notification');
    return found;
  }

  /**
   * Rows by id, whoever their recipient, each saying whether it is silent (written read: in_app off): for the
   * realtime layer, which routes each row to its recipient.
   */
  byIds(ids: number[]): Promise<Array<NotificationJSON & { recipient_id: number; silent: boolean; position: number }>> {
    return this.#store.byIds(ids);
  }

  /**
   * Everything in the user's inbox after position `after` (a sort key: the socket's `?since=`, SSE's Last-Event-ID),
   * in delivery order, bounded; each with its position. See NotificationReads.since.
   */
  since(userId: number, after: number, limit = 200): Promise<Array<{ n: NotificationJSON; position: number }>> {
    return this.#store.since(userId, after, limit);
  }

  /**
   * The group lines new notifications joined, by notification id, as each recipient's All list shows them: one
   * statement for a batch; only groups of more than one (for the live `group_updated` frame).
   */
  groupsFor(ids: number[]): Promise<Map<number, NotificationGroupJSON>> {
    return this.#store.groupsFor(ids);
  }

  unreadCount(userId: number): Promise<number> {
    return this.#store.unreadCount(userId);
  }

  /** Unread counts for many users in one statement (a fan-out's pushes need every recipient's badge). */
  unreadCounts(userIds: number[]): Promise<Map<number, number>> {
    return this.#store.unreadCounts(userIds);
  }

  /** Marks one of the user's notifications read; idempotent. Another user's id is a 404. */
  markRead(userId: number, id: number): Promise<NotificationJSON> {
    return this.act(userId, id, 'read');
  }

  /** One UPDATE for all of the user's unread notifications. */
  async markAllRead(userId: number): Promise<number> {
    const n = await this.#store.markAllRead(userId);
    if (n > 0) this.#events.publish({ type: 'notification.read_all', recipientId: userId });
    return n;
  }

  /**
   * One action over many of the user's notifications (the bulk endpoint, the page's selection): one statement.
   * `groupKeys` add every member of those groups of the user's. Ids and keys that are not the user's are silently
   * left alone and not counted. Answers how many changed.
   */
  async bulk(userId: number, ids: number[], action: StateAction, groupKeys: string[] = []): Promise<number> {
    return (await this.bulkChanged(userId, ids, action, groupKeys)).ids.length;
  }

  /**
   * `bulk`, answering the ids it changed and the shared groups they are (or were) in: the page's answer removes or
   * updates exactly those rows and re-renders those groups' lines.
   */
  async bulkChanged(userId: number, ids: number[], action: StateAction, groupKeys: string[] = []): Promise<{ ids: number[]; keys: string[] }> {
    const changed = await this.#store.transitions.applyWithKeys(userId, [...new Set(ids)], action, groupKeys);
    if (changed.ids.length > 0) this.#announce(userId, changed.ids, action, changed.keys);
    return changed;
  }

  /**
   * Snoozes whole groups of the user's (a group line's snooze; `groupKeys` as `group_key` says them) until `until`:
   * every member in the inbox, each with its wake-up job, in one statement. Answers the ids snoozed (none: the
   * keys name nothing of the user's in the inbox).
   */
  async snoozeGroups(userId: number, groupKeys: string[], until: Date): Promise<number[]> {
    this.#checkSnooze(until);
    const ids = await this.#store.transitions.snoozeMany(userId, [], groupKeys, until);
    for (let i = 0; i < ids.length; i += ANNOUNCE_IDS) {
      this.#events.publish({ type: 'notification.state', recipientId: userId, ids: ids.slice(i, i + ANNOUNCE_IDS), state: 'snoozed' });
    }
    return ids;
  }

  /** One action on one of the user's notifications; idempotent; another user's id is a 404. */
  async act(userId: number, id: number, action: Exclude<StateAction, 'delete'>): Promise<NotificationJSON> {
    const changed = await this.#store.transitions.apply(userId, [id], action);
    const notification = await this.get(userId, id);
    if (changed.length > 0) this.#announce(userId, changed, action);
    return notification;
  }

  /**
   * Snoozes one of the user's notifications: it leaves every list and the badge until `until`, when a queued job
   * (not a timer: it survives restarts) wakes it, unread and on top. Any future time up to a year ahead.
   */
  async snooze(userId: number, id: number, until: Date): Promise<NotificationJSON> {
    this.#checkSnooze(until);
    if (!(await this.#store.transitions.snooze(userId, id, until))) throw new NotFound('Notification');
    this.#events.publish({ type: 'notification.state', recipientId: userId, ids: [id], state: 'snoozed' });
    return this.get(userId, id);
  }

  #checkSnooze(until: Date): void {
    const now = Date.now();
    if (!(until.getTime() > now)) throw new ValidationError('Choose a time in the future.', { field: 'until' });
    if (until.getTime() > now + SNOOZE_MAX_MS) throw new ValidationError('Snooze for at most a year.', { field: 'until' });
  }

  /** The wake-up job's work: announces the notification again when it woke (a stale job changes nothing). */
  async wake(id: number): Promise<boolean> {
    const recipientId = await this.#store.transitions.wake(id);
    if (recipientId === null) return false;
    this.#events.publish({ type: 'notification.woken', recipientId, id });
    return true;
  }

  #announce(recipientId: number, changed: number[], action: StateAction, groupKeys: string[] = []): void {
    // NOTIFY payloads are bounded (8 kB): 500 ids fit in one event, and a group action may change more (a course's
    // applications), so it goes out as several events of at most ANNOUNCE_IDS ids.
    for (let i = 0; i < changed.length; i += ANNOUNCE_IDS) {
      const ids = changed.slice(i, i + ANNOUNCE_IDS);
      if (action === 'read') this.#events.publish({ type: 'notification.read', recipientId, ids });
      // Deleted rows no longer say which group they were in: the first event carries the groups (a few keys).
      else if (action === 'delete') {
        this.#events.publish({ type: 'notification.deleted', recipientId, ids, ...(i === 0 && groupKeys.length > 0 ? { groupKeys } : {}) });
      }
      else this.#events.publish({ type: 'notification.state', recipientId, ids, state: action satisfies NotificationState });
    }
  }

  /** Deletes one of the user's notifications; another user's id (or one already gone) is a 404. */
  async remove(userId: number, id: number): Promise<void> {
    const changed = await this.#store.transitions.applyWithKeys(userId, [id], 'delete');
    if (changed.ids.length === 0) throw new NotFound('Notification');
    this.#announce(userId, changed.ids, 'delete', changed.keys);
  }
}
