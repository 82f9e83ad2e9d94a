import { NotFound } from '../../errors';
import type { EventPublisher } from '../events';
import type { Page, PageRequest } from '../paging';
import type { NotificationType } from '../../models';
import { parseSearch, searchWords } from './query';
import type { NotificationWithRecipient } from '../../wire';
import type { NotificationFilter, NotificationStore } from './store';

/** What a moderator asks for: the store's filter, with the search box's text as typed (`-type:x` and all). */
export interface ModerationQuery extends Omit<NotificationFilter, 'q' | 'types' | 'excludeTypes'> {
  q?: string;
  type?: NotificationType[];
  excludeType?: NotificationType[];
}

/** A page of the search, and the words to highlight in it (the search text without its operators). */
export interface ModerationPage {
  page: Page<NotificationWithRecipient>;
  words: string[];
}

// A PostgreSQL NOTIFY payload is limited to 8 kB; 500 bigint ids stay well below it.
const DELETED_IDS_PER_EVENT = 500;

/** Every user's notifications, as moderators (admins) search and delete them. */
export class ModerationService {
  readonly #store: NotificationStore;
  readonly #events: EventPublisher;

  constructor(deps: { store: NotificationStore; events: EventPublisher }) {
    this.#store = deps.store;
    this.#events = deps.events;
  }

  /**
   * The inbox's search over every user: `type:x` / `-type:x` in the text join `type` / `exclude_type`, the rest is
   * full text on the same index. One statement: the page and the total (count(*) OVER ()) together; a second only
   * for a page past the end.
   */
  async search(query: ModerationQuery, p: PageRequest): Promise<ModerationPage> {
    const { q, type = [], excludeType = [], ...rest } = query;
    const parsed = parseSearch(q);
    const page = await this.#store.search(
      {
        ...rest,
        types: [...type, ...parsed.types],
        excludeTypes: [...excludeType, ...parsed.excludeTypes],
        q: parsed.text || undefined,
      },
      p,
    );
    return { page, words: searchWords(parsed.text) };
  }

  async get(id: number): Promise<NotificationWithRecipient> {
    const found = await this.#store.withRecipient(id);
    if (!found) throw new NotFound('Notification');
    return found;
  }

  async remove(id: number): Promise<void> {
    if ((await this.#delete([id])) === 0) throw new NotFound('Notification');
  }

  /** One DELETE for the whole selection; ids already gone are skipped, so a retry is harmless. */
  removeMany(ids: number[]): Promise<number> {
    return this.#delete([...new Set(ids)]);
  }

  /** Deletes, then tells each recipient's open bells which of their rows went away. */
  async #delete(ids: number[]): Promise<number> {
    const rows = await this.#store.removeMany(ids);
    const byRecipient = new Map<number, { ids: number[]; keys: Set<string>; position: number }>();
    for (const r of rows) {
      let theirs = byRecipient.get(r.recipientId);
      // One statement, one position (its tombstones'): the recipients' tabs resume past it.
      if (!theirs) byRecipient.set(r.recipientId, (theirs = { ids: [], keys: new Set(), position: r.position }));
      theirs.ids.push(r.id);
      if (r.groupKey) theirs.keys.add(r.groupKey);
    }
    for (const [recipientId, { ids: theirs, keys, position }] of byRecipient) {
      theirs.sort((a, b) => a - b);
      for (let i = 0; i < theirs.length; i += DELETED_IDS_PER_EVENT) {
        // The first event names the groups the rows were in (a deleted row no longer can): their lines follow.
        const groupKeys = i === 0 && keys.size > 0 ? { groupKeys: [...keys] } : {};
        this.#events.publish({ type: 'notification.deleted', recipientId, ids: theirs.slice(i, i + DELETED_IDS_PER_EVENT), position, ...groupKeys });
      }
    }
    return rows.length;
  }
}
