import { NotFound, ValidationError } from '../../errors';
import type { NotificationJSON } from '../../wire';
import type { EventPublisher, NotificationState } from '../events';
import type { NotificationStore, StateAction, StateChanged } from './store';

/** The longest snooze. */
export const SNOOZE_MAX_MS = 366 * 24 * 3600 * 1000;

/** The most ids one state event carries (see #announce). */
const ANNOUNCE_IDS = 500;

/** One of the user's notifications, or a 404 (another user's id, or one that is gone). */
export async function ownNotification(store: NotificationStore, userId: number, id: number): Promise<NotificationJSON> {
  const found = await store.ownOne(userId, id);
  if (!found) throw new NotFound('Notification');
  return found;
}

/**
 * What a user does to their own notifications: read, unread, done, undone, snooze, delete; one at a time, in bulk,
 * or a whole group at once; and the snooze's wake-up. Each change is one statement through the store's transitions,
 * announced after it commits (the realtime layer turns the events into pushes). `NotificationService.inbox`.
 */
export class InboxActions {
  readonly #store: NotificationStore;
  readonly #events: EventPublisher;

  constructor(deps: { store: NotificationStore; events: EventPublisher }) {
    this.#store = deps.store;
    this.#events = deps.events;
  }

  /** Marks one of the user's notifications read; idempotent. Another user's id is a 404. */
  markRead(userId: number, id: number): Promise<NotificationJSON> {
    return this.act(userId, id, 'read');
  }

  /** One UPDATE for all of the user's unread notifications. */
  async markAllRead(userId: number): Promise<number> {
    const { count, position } = await this.#store.markAllRead(userId);
    if (position !== null) this.#events.publish({ type: 'notification.read_all', recipientId: userId, position });
    return count;
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
    if (changed.ids.length > 0) this.#announce(userId, changed, action);
    return { ids: changed.ids, keys: changed.keys };
  }

  /**
   * Snoozes whole groups of the user's (a group line's snooze; `groupKeys` as `group_key` says them) until `until`:
   * every member in the inbox, each with its wake-up job, in one statement. Answers the ids snoozed (none: the
   * keys name nothing of the user's in the inbox).
   */
  async snoozeGroups(userId: number, groupKeys: string[], until: Date): Promise<number[]> {
    this.#checkSnooze(until);
    const { ids, position } = await this.#store.transitions.snoozeMany(userId, [], groupKeys, until);
    for (let i = 0; i < ids.length; i += ANNOUNCE_IDS) {
      this.#events.publish({ type: 'notification.state', recipientId: userId, ids: ids.slice(i, i + ANNOUNCE_IDS), state: 'snoozed', position: position ?? undefined });
    }
    return ids;
  }

  /** One action on one of the user's notifications; idempotent; another user's id is a 404. */
  async act(userId: number, id: number, action: Exclude<StateAction, 'delete'>): Promise<NotificationJSON> {
    const changed = await this.#store.transitions.applyWithKeys(userId, [id], action);
    const notification = await ownNotification(this.#store, userId, id);
    if (changed.ids.length > 0) this.#announce(userId, changed, action);
    return notification;
  }

  /**
   * Snoozes one of the user's notifications: it leaves every list and the badge until `until`, when a queued job
   * (not a timer: it survives restarts) wakes it, unread and on top. Any future time up to a year ahead.
   */
  async snooze(userId: number, id: number, until: Date): Promise<NotificationJSON> {
    this.#checkSnooze(until);
    const position = await this.#store.transitions.snooze(userId, id, until);
    if (position === null) throw new NotFound('Notification');
    this.#events.publish({ type: 'notification.state', recipientId: userId, ids: [id], state: 'snoozed', position });
    return ownNotification(this.#store, userId, id);
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

  /** Deletes one of the user's notifications; another user's id (or one already gone) is a 404. */
  async remove(userId: number, id: number): Promise<void> {
    const changed = await this.#store.transitions.applyWithKeys(userId, [id], 'delete');
    if (changed.ids.length === 0) throw new NotFound('Notification');
    this.#announce(userId, changed, 'delete');
  }

  #announce(recipientId: number, { ids: changed, keys: groupKeys, position: at }: StateChanged, action: StateAction): void {
    const position = at ?? undefined;
    // NOTIFY payloads are bounded (8 kB): 500 ids fit in one event, and a group action may change more (a course's
    // applications), so it goes out as several events of at most ANNOUNCE_IDS ids.
    for (let i = 0; i < changed.length; i += ANNOUNCE_IDS) {
      const ids = changed.slice(i, i + ANNOUNCE_IDS);
      if (action === 'read') this.#events.publish({ type: 'notification.read', recipientId, ids, position });
      // Deleted rows no longer say which group they were in: the first event carries the groups (a few keys).
      else if (action === 'delete') {
        this.#events.publish({ type: 'notification.deleted', recipientId, ids, position, ...(i === 0 && groupKeys.length > 0 ? { groupKeys } : {}) });
      }
      else this.#events.publish({ type: 'notification.state', recipientId, ids, state: action satisfies NotificationState, position });
    }
  }
}
