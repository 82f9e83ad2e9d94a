import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { BroadcastJSON, NotificationGroupJSON, NotificationGroupPage, NotificationJSON, NotificationPage } from '../../wire';
import type { EventPublisher } from '../events';
import { decodeCursor, keysetPage } from '../paging';
import { InboxActions, ownNotification } from './inbox';
import { parseSearch } from './query';
import { olderUnreadOf, type BellLine, type BellView, type FanOutResult, type ListOptions } from './views';
import { DEFAULT_SEND_LIMITS, type SendLimits } from './sends';
import type { SendStore } from './store/sends';
import { NotificationStore, type Audience, type FanOutContent, type NewNotification, type PlacedGroup, type StatesSince } from './store';

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
  type ReplayedState,
  type StateEntry,
  type StatesSince,
  groupKeyOf,
  GROUP_KEY_MAX,
  GROUP_KEY_RE,
} from './store';
export { encodeCursor } from '../paging';
export { parseSearch, searchWords, type ParsedSearch } from './query';
export { InboxActions, SNOOZE_MAX_MS } from './inbox';

export {
  olderUnreadOf,
  type BellLine,
  type BellView,
  type FanOutResult,
  type ListOptions,
} from './views';

/** How many notifications the bell's dropdown lists. */
export const BELL_SIZE = 5;

/**
 * Creates and reads a user's notifications through the store; what the user does to them (read, done, snooze,
 * delete, in bulk or by group) is `inbox`. Every change publishes an event after its transaction commits; the
 * realtime layer turns those into pushes. Nothing here knows about HTTP or sockets.
 */
export class NotificationService {
  readonly #store: NotificationStore;
  readonly #events: EventPublisher;

  readonly #sends: SendStore;
  readonly #inlineMax: number;

  /** The user's actions on their notifications (`services.notifications.inbox.markRead(...)`). */
  readonly inbox: InboxActions;

  constructor(deps: { store: NotificationStore; events: EventPublisher; sends: SendStore; limits?: SendLimits }) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#sends = deps.sends;
    this.#inlineMax = (deps.limits ?? DEFAULT_SEND_LIMITS).inlineMax;
    this.inbox = new InboxActions({ store: deps.store, events: deps.events });
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

  /** The bell: its latest lines (groups as one line, like the page's All list), the unread count, the newest unread. */
  async bell(userId: number): Promise<BellView> {
    return (await this.bells([userId])).get(userId)!;
  }

  /** Bells of many users (a socket snapshot, a bus resync, a fan-out's bell tabs): one statement for all of them. */
  async bells(userIds: number[]): Promise<Map<number, BellView>> {
    const rows = await this.#store.bells(userIds, BELL_SIZE);
    const out = new Map<number, BellView>();
    for (const [id, { groups, unread, newestUnread }] of rows) {
      const latest: BellLine[] = groups.map(({ group }) => (group.count > 1 ? { ...group.latest, group } : group.latest));
      out.set(id, { unreadCount: unread, latest, positions: groups.map((g) => g.sortKey), olderUnread: olderUnreadOf(latest, newestUnread) });
    }
    return out;
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

  /** One of the user's notifications; another user's id is a 404. */
  get(userId: number, id: number): Promise<NotificationJSON> {
    return ownNotification(this.#store, userId, id);
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

  /** The state changes a tab resuming from `after` missed, rows it had only, in delivery order (store/replay.ts). */
  statesSince(userId: number, after: number, limit: number): Promise<StatesSince> {
    return this.#store.statesSince(userId, after, limit);
  }

  /** The periodic prune of deletion tombstones older than `days` days; answers how many went. */
  /** The newest position taken so far (see store/replay.ts): a page's replay point, read before its list. */
  currentPosition(): Promise<number> {
    return this.#store.currentPosition();
  }

  pruneTombstones(days: number): Promise<number> {
    return this.#store.pruneTombstones(days);
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
}
