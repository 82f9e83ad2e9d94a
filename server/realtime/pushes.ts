import type { ReadStateChange, Removal, StateChange } from '../channels/channel';
import type { BellView, NotificationService, PlacedGroup } from '../services/notifications';
import { groupKeyOf } from '../services/notifications';
import type { NotificationGroupJSON, NotificationJSON } from '../wire';
import type { CreatedItem } from './delivery';
import type { Connection, Hub, Protocol } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { NewNotificationSender, Positioned, Protocols } from './protocols';
import type { RealtimeQueries } from './queries';

/** Whether a protocol shows groups at all (and so whether a batch's group lines are worth reading). */
const showsGroups = (p: Protocols[Protocol]) => p.groupUpdated !== undefined || p.newGroupMember !== undefined;

/** How many chunk keys a process remembers: a republished chunk arrives right after the original, never later. */
const CHUNKS_REMEMBERED = 10_000;

/** The connected users a fan-out asks about in its first read of rows (fanout: the later reads double it). */
export const FIRST_SLICE = 250;

/** `ids` cut into slices of `first`, 2 * first, 4 * first ... (the last one what remains). */
export function doublingSlices<T>(ids: readonly T[], first: number): T[][] {
  const out: T[][] = [];
  for (let at = 0, size = Math.max(1, first); at < ids.length; at += size, size *= 2) out.push(ids.slice(at, at + size));
  return out;
}

/**
 * Resolves once the statements asked for so far have been written to their connections: Sequelize takes a
 * connection and sends through a few promise steps, which all run before a macrotask.
 */
const dispatched = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface PushDeps {
  hub: Hub;
  notifications: NotificationService;
  queries: RealtimeQueries;
  protocols: Protocols;
  metrics: RealtimeMetrics;
  /** The first slice of a fan-out's reads of rows (FIRST_SLICE; tests make it small to see several). */
  firstSlice?: number;
}

/**
 * What the in-app channel pushes for each kind of notification event, to the connections of this process (an
 * application's own pushes: application-pushes.ts). Set-based: the
 * reads are per batch, not per recipient, and nothing is read when nobody concerned is connected here. The frames
 * come from each connection's protocol; this module decides only who gets what.
 */
export class Pushes {
  readonly #d: PushDeps;
  /** The recorded sends' chunks pushed lately, oldest first (a Set keeps insertion order). */
  readonly #chunksSeen = new Set<string>();

  readonly #firstSlice: number;

  constructor(deps: PushDeps) {
    this.#d = deps;
    this.#firstSlice = deps.firstSlice ?? FIRST_SLICE;
  }

  /**
   * New notifications, one per item, for recipients connected here: two queries for the whole batch (three with
   * group lines). A silent one (in_app off) is never pushed; one read before its push went out still is, as read,
   * so that a tab keeping a list (or `?since=` later) misses nothing, and without an alert (push-new.njk).
   */
  async created(batch: CreatedItem[]): Promise<void> {
    const { hub, notifications, protocols, metrics } = this.#d;
    const mine = batch.filter((e) => hub.hasUser(e.recipientId));
    if (mine.length > 0) {
      // The group lines are read (with the rows, one statement for the batch) only when a tab speaks a protocol
      // that shows groups. JSON: each follows its notification's frames. The bell: the line replaces the
      // notification's own pieces, with the recipient's fresh bell (read once per recipient of the batch whose row
      // joined a group, after the rows: only those recipients need it).
      const grouping = mine.filter((e) => this.#conns(e.recipientId).some((c) => showsGroups(protocols[c.protocol])));
      const [rows, counts, groups] = await Promise.all([
        notifications.byIds(mine.map((e) => e.id)),
        notifications.unreadCounts([...new Set(mine.map((e) => e.recipientId))]),
        grouping.length > 0 ? notifications.groupsFor(grouping.map((e) => e.id)) : undefined,
      ]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const bellUsers = new Set<number>();
      for (const e of mine) {
        if (groups?.has(e.id) && this.#conns(e.recipientId).some((c) => protocols[c.protocol].newGroupMember)) bellUsers.add(e.recipientId);
      }
      const bells = bellUsers.size > 0 ? await notifications.bells([...bellUsers]) : undefined;
      for (const e of mine) {
        const row = byId.get(e.id);
        if (!row || row.recipient_id !== e.recipientId) continue; // deleted meanwhile, or a forged event: push nothing
        if (row.silent) continue;
        const { recipient_id: _r, silent: _s, position, ...n } = row;
        const group = groups?.get(e.id);
        const view = bells?.get(e.recipientId);
        // A woken row (notification.woken comes here too) goes out at its new position, above what arrived meanwhile.
        this.#pushNew(n, [{ id: e.id, position, recipientId: e.recipientId, readAt: null }], counts, group && view ? { group, view } : undefined);
        if (group) this.#pushGroup(e.recipientId, group);
      }
    }
    const now = Date.now();
    for (const e of batch) metrics.pushLatency.observe({ event: 'notification.created' }, (now - e.publishedAt) / 1000);
  }

  /**
   * A fan-out: this process's connected recipients' rows of the batch with their unread counts, and (at the same
   * time) the shared content; each protocol prepares its frame once for all of them.
   *
   * The rows are read in slices of the connected users, each twice the last (FIRST_SLICE, then 2x, 4x ...: a few
   * statements for 10,000), the next one asked for before the frames of this one are written. PostgreSQL reads it on
   * the other core while this process writes, and the first recipients' frames do not wait for the last recipients'
   * rows: for 10,000 connected, one statement took 25-35 ms before the first write.
   */
  async fanout(batchId: string, range?: { after: number; upTo: number }): Promise<void> {
    const { hub, queries } = this.#d;
    if (range) {
      // A recorded send's chunk may be published twice (its job died between publishing and recording that it
      // had, and the resumed job publishes again); this process pushes each chunk once.
      const key = `${batchId}:${range.after}:${range.upTo}`;
      if (this.#chunksSeen.has(key)) return;
      this.#chunksSeen.add(key);
      if (this.#chunksSeen.size > CHUNKS_REMEMBERED) this.#chunksSeen.delete(this.#chunksSeen.values().next().value!);
    }
    if (hub.userCount === 0) return;
    // A chunk's recipients are the connected users in its id range: only those are asked about.
    const ids = range ? hub.userIds().filter((id) => id > range.after && id <= range.upTo) : hub.userIds();
    if (ids.length === 0) return;
    const slices = doublingSlices(ids, this.#firstSlice);
    let [rows, first] = await Promise.all([queries.batchRows(batchId, slices[0], range), queries.batchContent(batchId)]);
    if (!first) return; // no row of the batch exists (deleted meanwhile): nothing to announce
    for (let i = 1; ; i++) {
      // Asked for now, and on its way before the writes below start (they hold the event loop until done).
      const next = i < slices.length ? queries.batchRows(batchId, slices[i], range) : undefined;
      if (next) {
        next.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
        await dispatched();
      }
      const counts = new Map<number, number>();
      for (const r of rows) counts.set(r.recipientId, r.unread);
      // A fan-out's rows are new: none has woken, so each one's position is its id.
      this.#pushNew(first, rows.map((r) => ({ ...r, position: r.id })), counts);
      if (!next) return;
      rows = await next;
    }
  }

  /**
   * `n` as its recipients see it, one frame per protocol for them all; a row already read (`readAt`, rare: read
   * in another tab between its commit and this push) gets a frame of its own that says so.
   */
  #pushNew(
    n: NotificationJSON,
    rows: Array<{ id: number; position: number; recipientId: number; readAt: string | null }>,
    counts: Map<number, number>,
    joined?: { group: NotificationGroupJSON; view: BellView; frames?: Map<Protocol, string> },
  ): void {
    const { hub, protocols, metrics } = this.#d;
    // Prepared on first need only: a process whose recipients all use the JSON protocol renders no HTML.
    const senders = new Map<Protocol, { send: NewNotificationSender; frames: number }>();
    for (const { id, position, recipientId, readAt } of rows) {
      const conns = hub.of(recipientId);
      if (!conns) continue;
      const unread = counts.get(recipientId) ?? 0;
      for (const c of conns) {
        // It joined a group this protocol shows as one line: the line instead (one recipient: rendered here, once).
        const member = joined && protocols[c.protocol].newGroupMember;
        if (member) {
          let frame = joined.frames?.get(c.protocol);
          if (frame === undefined) (joined.frames ??= new Map()).set(c.protocol, (frame = member(n, position, joined.group, joined.view)));
          c.push(frame, position);
          metrics.pushed.inc({ protocol: c.protocol });
          continue;
        }
        let s = senders.get(c.protocol);
        if (!s) senders.set(c.protocol, (s = { send: protocols[c.protocol].newNotification(n), frames: 0 }));
        if (readAt === null) s.frames += s.send(c, id, position, unread);
        else s.frames += protocols[c.protocol].newNotification({ ...n, is_read: true, read_at: readAt })(c, id, position, unread);
      }
    }
    for (const [protocol, s] of senders) metrics.pushed.inc({ protocol }, s.frames);
  }

  /** A group's new line to every tab of its recipient whose protocol shows groups. */
  #pushGroup(recipientId: number, group: NotificationGroupJSON): void {
    const { hub, protocols, metrics } = this.#d;
    const frames = new Map<Protocol, string>();
    for (const c of hub.of(recipientId) ?? []) {
      const render = protocols[c.protocol].groupUpdated;
      if (!render) continue;
      let frame = frames.get(c.protocol);
      if (frame === undefined) frames.set(c.protocol, (frame = render(group)));
      c.push(frame);
      metrics.pushed.inc({ protocol: c.protocol });
    }
  }

  /** Read elsewhere: every tab of the user gets the new read state and count. */
  async readState(change: ReadStateChange): Promise<void> {
    // "All read" re-renders no line: every line's unread control turns to "Read" with the cards' (push-read.njk).
    const lines = change.ids === 'all' ? undefined : await this.#groupLines(change.recipientId, change.ids);
    await this.#toEveryTab(change.recipientId, (p, view) => p.readState(view, change.ids, change.position), change.position);
    this.#pushLines(change.recipientId, lines);
  }

  /** Deleted elsewhere (or by a moderator): every tab of the user drops those rows and gets the fresh count (and bell). */
  async removed(removal: Removal): Promise<void> {
    // The rows are gone: their groups are the ones the event names.
    const lines = removal.groupKeys?.length ? await this.#groupLines(removal.recipientId, [], removal.groupKeys) : undefined;
    await this.#toEveryTab(removal.recipientId, (p, view) => p.removed(view, removal.ids, removal.position), removal.position);
    this.#pushLines(removal.recipientId, lines);
  }

  /**
   * Done, undone, unread or snoozed elsewhere: every tab of the user follows, with the fresh count (and bell). Undone
   * and unread bring rows back to the inbox: a tab showing lists gets them too (one more read, for those tabs only),
   * as they are now, so another tab's All list takes them in without a reload.
   */
  async stateChanged(change: StateChange): Promise<void> {
    const { hub, notifications, protocols } = this.#d;
    const { recipientId, ids, state } = change;
    let returning: Positioned[] = [];
    const showsLists = [...(hub.of(recipientId) ?? [])].some((c) => protocols[c.protocol].showsBell);
    const returns = showsLists && (state === 'undone' || state === 'unread');
    const [rows, lines] = await Promise.all([returns ? notifications.byIds(ids) : [], this.#groupLines(recipientId, ids)]);
    if (returns) {
      // As they are by now (a later change may have moved them on: its own push follows), only the user's own; a
      // row of a group comes back within its group's line (below), not as a card of its own.
      returning = rows
        .filter((r) => r.recipient_id === recipientId && r.done_at === null && r.snoozed_until === null)
        .filter((r) => !lines?.has(groupKeyOf(r) ?? ''))
        .map(({ recipient_id: _r, silent: _s, position, ...n }) => ({ n, position }));
    }
    await this.#toEveryTab(recipientId, (p, view) => p.stateChanged(view, ids, state, returning, change.position), change.position);
    this.#pushLines(recipientId, lines);
  }

  /** The connections of a user here (none: empty). */
  #conns(userId: number): Connection[] {
    return [...(this.#d.hub.of(userId) ?? [])];
  }

  /**
   * The lines of the user's groups that `ids` (or the deleted rows' `keys`) are in, read only when a tab of the
   * user shows groups after a state change, and only the groups touched (one or two statements, see groupLines).
   */
  async #groupLines(userId: number, ids: number[], keys: string[] = []): Promise<Map<string, PlacedGroup | null> | undefined> {
    const { notifications, protocols } = this.#d;
    if (!this.#conns(userId).some((c) => protocols[c.protocol].groupLines)) return undefined;
    const lines = await notifications.groupLines(userId, ids, keys);
    return lines.size > 0 ? lines : undefined;
  }

  /** Those lines to every tab of the user whose protocol shows groups, after the change's own frames. */
  #pushLines(userId: number, lines: Map<string, PlacedGroup | null> | undefined): void {
    const { protocols, metrics } = this.#d;
    if (!lines) return;
    const byProtocol = new Map<Protocol, string[]>();
    for (const c of this.#conns(userId)) {
      const render = protocols[c.protocol].groupLines;
      if (!render) continue;
      let list = byProtocol.get(c.protocol);
      if (!list) byProtocol.set(c.protocol, (list = render(lines)));
      for (const f of list) c.push(f);
      metrics.pushed.inc({ protocol: c.protocol }, list.length);
    }
  }

  /**
   * One read for all the user's tabs (the bell's latest items only if a tab shows them), one frame set per protocol.
   * `position` (a state change's) moves the resume point of tabs whose protocol replays states; the others' resume
   * point stays a notification's, as their replay is notifications only.
   */
  async #toEveryTab(userId: number, frames: (p: Protocols[Protocol], view: BellView) => string[], position?: number): Promise<void> {
    const { hub, notifications, protocols, metrics } = this.#d;
    const conns = hub.of(userId);
    if (!conns) return;
    const showsBell = [...conns].some((c) => protocols[c.protocol].showsBell);
    const view: BellView = showsBell
      ? await notifications.bell(userId)
      : { unreadCount: await notifications.unreadCount(userId), latest: [], olderUnread: [] };
    const byProtocol = new Map<Protocol, string[]>();
    for (const c of hub.of(userId) ?? []) {
      let list = byProtocol.get(c.protocol);
      if (!list) byProtocol.set(c.protocol, (list = frames(protocols[c.protocol], view)));
      const at = protocols[c.protocol].replayStates ? position : undefined;
      for (const f of list) c.push(f, at, false);
      metrics.pushed.inc({ protocol: c.protocol }, list.length);
    }
  }
}
