import type { Logger } from '../logger';
import type { HeraldEvent } from '../services/events';
import { BELL_SIZE, type BellView, type NotificationJSON, type NotificationService } from '../services/notifications';
import type { Renderer } from '../web/render';
import { CloseCode } from './codes';
import type { Connection, Hub } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { RealtimeQueries } from './queries';

/** What the admin console is told to refetch. Names only: the console reloads through the admin API. */
export type AdminEventName = 'notification.created' | 'application.changed' | 'stats.changed';

/** Replay at most this many missed notifications on connect; past it the client should reload its list. */
const REPLAY_LIMIT = 500;
/** Admin events of one name go out at most once per this interval (a fan-out storm is one refresh). */
const ADMIN_COALESCE_MS = 1_000;

export interface DeliveryDeps {
  hub: Hub;
  notifications: NotificationService;
  queries: RealtimeQueries;
  renderer: Renderer;
  metrics: RealtimeMetrics;
  logger: Logger;
}

// --- JSON frames (the /ws/notifications protocol)
const json = {
  established: (unread: number) => `{"type":"connection_established","unread_count":${unread}}`,
  unread: (unread: number) => `{"type":"unread_count","unread_count":${unread}}`,
  notification: (n: NotificationJSON) => JSON.stringify({ type: 'notification', notification: n }),
  // "Read all": ids stays an array (the contract) and `all` says the list is not enumerated.
  read: (ids: number[] | 'all') =>
    ids === 'all' ? '{"type":"notification_read","ids":[],"all":true}' : JSON.stringify({ type: 'notification_read', ids }),
  error: (code: string, message: string) => JSON.stringify({ type: 'error', code, message }),
  pong: '{"type":"pong"}',
  admin: (event: AdminEventName) => JSON.stringify({ type: 'admin_event', event }),
};

interface CreatedEvent {
  recipientId: number;
  id: number;
  publishedAt: number;
}

/** One snapshot under way for one connection; a newer one for the same connection supersedes it. */
interface SnapshotPlan {
  /** Replay after this id (JSON only); undefined: no replay, the client starts from now. */
  from: number | undefined;
}

/**
 * A notification frame serialised once for a whole fan-out: only the id differs between recipients, and it is
 * the first key of the API shape, so each copy is two string concatenations instead of a JSON.stringify.
 */
function notificationFrameFactory(n: NotificationJSON): (id: number) => string {
  const { id: _id, ...rest } = n;
  const tail = JSON.stringify(rest).slice(1); // drop the "{"; rest is never empty
  return (id) => `{"type":"notification","notification":{"id":${id},${tail}}`;
}

/**
 * Turns bus events into pushes, builds snapshots and answers client messages. Events are handled one after the
 * other, so a user never sees "read" overtake the "new" it refers to.
 */
export class Delivery {
  readonly #d: DeliveryDeps;
  #chain: Promise<void> = Promise.resolve();
  /** `application.changed` pushes, in order among themselves (see enqueue). */
  #applications: Promise<void> = Promise.resolve();
  readonly #admin = new Map<AdminEventName, { timer: NodeJS.Timeout; pending: boolean }>();
  /** `notification.created` events waiting at the tail of the chain: handled together, in one pair of queries. */
  #created: CreatedEvent[] | null = null;
  /** The newest snapshot under way per connection (a resync can start while a connect's snapshot is running). */
  readonly #snapshots = new WeakMap<Connection, SnapshotPlan>();
  #closed = false;

  constructor(deps: DeliveryDeps) {
    this.#d = deps;
  }

  /**
   * Queues an event from the bus. Never throws: a failed push is logged and the next event still goes out.
   *
   * Consecutive `notification.created` events (approvals under load: one event per notice) join one batch while
   * it waits for its turn, and the batch is handled with one `byIds` and one `unreadCounts` for all of them
   * instead of two queries each. Any other event closes the batch, so the order users see never changes.
   */
  enqueue(event: HeraldEvent, publishedAt: number): Promise<void> {
    if (event.type === 'notification.created') {
      const item = { recipientId: event.recipientId, id: event.id, publishedAt };
      if (this.#created) {
        this.#created.push(item);
        return this.#chain; // the open batch is the tail of the chain
      }
      const batch = [item];
      this.#created = batch;
      return this.#run('notification.created', () => {
        if (this.#created === batch) this.#created = null; // from here on, new events start the next batch
        return this.#createdBatch(batch);
      });
    }
    if (event.type === 'application.changed') {
      // Its pushes (review row, counts, status chip) follow each other on their own chain, so a decision never
      // overtakes the arrival it refers to, while an approval's two events (created, then changed) do not split
      // every batch of created events. The bell's notice and the row are independent pieces of the page.
      this.#adminEvent('application.changed');
      this.#applications = this.#applications
        .then(() => this.#applicationChanged(event, publishedAt))
        .catch((err: unknown) => this.#d.logger.error({ err, type: event.type }, 'realtime push failed'));
      return this.#chain;
    }
    this.#created = null;
    return this.#run(event.type, () => this.#handle(event, publishedAt));
  }

  #run(type: string, fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#d.logger.error({ err, type }, 'realtime push failed'));
    return this.#chain;
  }

  /** Resolves once every event queued so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([this.#chain, this.#applications]);
  }

  async #handle(e: HeraldEvent, publishedAt: number): Promise<void> {
    const { hub, metrics } = this.#d;
    // notification.created and application.changed never get here: enqueue batches or handles them.
    switch (e.type) {
      case 'notification.fanout':
        this.#adminEvent('notification.created');
        if (hub.userCount > 0) await this.#fanout(e.batchId);
        break;
      case 'notification.read':
        if (hub.hasUser(e.recipientId)) await this.#readState(e.recipientId, e.ids, 'read');
        break;
      case 'notification.read_all':
        if (hub.hasUser(e.recipientId)) await this.#readState(e.recipientId, 'all', 'read');
        break;
      case 'notification.deleted':
        if (hub.hasUser(e.recipientId)) await this.#readState(e.recipientId, e.ids, 'deleted');
        break;
      case 'session.ended':
        for (const sid of e.sessionIds) this.#countClose(hub.closeSession(sid, CloseCode.Unauthorized, 'session ended'));
        return;
      case 'user.sessions_ended':
        this.#countClose(hub.closeUser(e.userId, CloseCode.Unauthorized, 'session ended'));
        this.#adminEvent('stats.changed');
        return;
      default:
        return;
    }
    metrics.pushLatency.observe({ event: e.type }, (Date.now() - publishedAt) / 1000);
  }

  #countClose(n: number) {
    if (n > 0) this.#d.metrics.closed.inc({ code: String(CloseCode.Unauthorized) }, n);
  }

  /** New notifications, one per event, for recipients connected here: two queries for the whole batch. */
  async #createdBatch(batch: CreatedEvent[]): Promise<void> {
    const { hub, notifications, metrics } = this.#d;
    this.#adminEvent('notification.created'); // coalesced anyway: once per batch says the same
    const mine = batch.filter((e) => hub.hasUser(e.recipientId));
    if (mine.length > 0) {
      const [rows, counts] = await Promise.all([
        notifications.byIds(mine.map((e) => e.id)),
        notifications.unreadCounts([...new Set(mine.map((e) => e.recipientId))]),
      ]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const e of mine) {
        const row = byId.get(e.id);
        if (!row || row.recipient_id !== e.recipientId) continue; // deleted meanwhile, or a forged event: push nothing
        const { recipient_id: _r, ...n } = row;
        this.#pushNew(n, [{ id: e.id, recipientId: e.recipientId }], counts);
      }
    }
    const now = Date.now();
    for (const e of batch) metrics.pushLatency.observe({ event: 'notification.created' }, (now - e.publishedAt) / 1000);
  }

  /**
   * A fan-out: ONE query for this process's connected recipients' rows of the batch with their unread counts, and
   * (at the same time) one for the shared content; then the HTML is rendered once and the JSON serialised once.
   */
  async #fanout(batchId: string): Promise<void> {
    const { hub, queries } = this.#d;
    const [rows, first] = await Promise.all([queries.batchRows(batchId, hub.userIds()), queries.batchContent(batchId)]);
    if (rows.length === 0 || !first) return;
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(r.recipientId, r.unread);
    this.#pushNew(first, rows, counts);
  }

  #pushNew(n: NotificationJSON, rows: Array<{ id: number; recipientId: number }>, counts: Map<number, number>): void {
    const { hub, renderer, metrics } = this.#d;
    let jsonFrame: ((id: number) => string) | undefined;
    let bellFrame: ((id: number, unread: number) => string) | undefined;
    let sentJson = 0;
    let sentBell = 0;
    // Most recipients of a fan-out share a handful of counts: one string per count, not one per recipient.
    const unreadFrames: string[] = [];
    for (const { id, recipientId } of rows) {
      const conns = hub.of(recipientId);
      if (!conns) continue;
      const unread = counts.get(recipientId) ?? 0;
      for (const c of conns) {
        if (c.protocol === 'json') {
          jsonFrame ??= notificationFrameFactory(n);
          // Both frames leave in one write: one syscall per recipient instead of two.
          c.cork();
          c.push(jsonFrame(id), id);
          c.push((unreadFrames[unread] ??= json.unread(unread)));
          c.uncork();
          sentJson += 2;
        } else {
          // Rendered on first need only: a process whose recipients all use the JSON protocol renders nothing.
          bellFrame ??= renderer.newNotificationPush(n);
          c.push(bellFrame(id, unread), id);
          sentBell += 1;
        }
      }
    }
    if (sentJson) metrics.pushed.inc({ protocol: 'json' }, sentJson);
    if (sentBell) metrics.pushed.inc({ protocol: 'bell' }, sentBell);
  }

  /**
   * Read (or deleted) elsewhere: every tab of the user gets the new read state and count. For "read all" the JSON
   * frame is `{"ids":[],"all":true}` instead of listing ids: this process does not know which ids the client
   * holds, and the list could be long; clients treat `all` as "mark everything you show as read". A fresh
   * unread_count (usually 0, unless something arrived meanwhile) follows it.
   */
  async #readState(userId: number, ids: number[] | 'all', kind: 'read' | 'deleted'): Promise<void> {
    const { hub, notifications, renderer, metrics } = this.#d;
    const conns = hub.of(userId);
    if (!conns) return;
    const needBell = [...conns].some((c) => c.protocol === 'bell');
    const view: BellView = needBell
      ? await notifications.bell(userId)
      : { unreadCount: await notifications.unreadCount(userId), latest: [] };
    let bellHtml: string | undefined;
    for (const c of hub.of(userId) ?? []) {
      if (c.protocol === 'json') {
        if (kind === 'read') c.push(json.read(ids));
        c.push(json.unread(view.unreadCount));
        metrics.pushed.inc({ protocol: 'json' }, kind === 'read' ? 2 : 1);
      } else {
        bellHtml ??= kind === 'read' ? renderer.readPush(view, ids) : renderer.bell(view, { oob: true });
        c.push(bellHtml);
        metrics.pushed.inc({ protocol: 'bell' });
      }
    }
  }

  /**
   * An application arrived or was decided: its course's instructor gets the review row (on top of the list when
   * new, in place when decided) and the course's counts; on a decision the candidate gets the status chip. Bell
   * sockets only (the JSON protocol hears of it through `notification.created`). ONE read for the event, one
   * render per audience, and nothing at all when neither person has a bell socket here.
   */
  async #applicationChanged(e: Extract<HeraldEvent, { type: 'application.changed' }>, publishedAt: number): Promise<void> {
    const { hub, queries, renderer, metrics } = this.#d;
    const decided = e.status !== 'pending';
    const bellsOf = (userId: number) => [...(hub.of(userId) ?? [])].filter((c) => c.protocol === 'bell');
    const instructorConns = bellsOf(e.instructorId);
    const candidateConns = decided ? bellsOf(e.candidateId) : [];
    if (instructorConns.length === 0 && candidateConns.length === 0) return;
    const row = await queries.application(e.applicationId);
    // Deleted meanwhile, or an event that does not match the row: push nothing rather than to the wrong people.
    if (!row || row.application.course.instructor_id !== e.instructorId || row.application.candidate.id !== e.candidateId) return;
    if (instructorConns.length > 0) {
      const html = renderer.applicationPush(row.application, row, !decided);
      for (const c of instructorConns) c.push(html);
      metrics.pushed.inc({ protocol: 'bell' }, instructorConns.length);
    }
    if (candidateConns.length > 0) {
      const html = renderer.statusPush(row.application);
      for (const c of candidateConns) c.push(html);
      metrics.pushed.inc({ protocol: 'bell' }, candidateConns.length);
    }
    metrics.pushLatency.observe({ event: e.type }, (Date.now() - publishedAt) / 1000);
  }

  /** Leading edge now, then at most one trailing copy per interval however many events came in between. */
  #adminEvent(name: AdminEventName): void {
    if (this.#closed || this.#d.hub.admins().size === 0) return;
    const slot = this.#admin.get(name);
    if (slot) {
      slot.pending = true;
      return;
    }
    this.#sendAdmin(name);
    const tick = () => {
      const s = this.#admin.get(name);
      if (s?.pending && !this.#closed) {
        s.pending = false;
        this.#sendAdmin(name);
        s.timer = setTimeout(tick, ADMIN_COALESCE_MS);
        s.timer.unref();
      } else this.#admin.delete(name);
    };
    const timer = setTimeout(tick, ADMIN_COALESCE_MS);
    timer.unref();
    this.#admin.set(name, { timer, pending: false });
  }

  #sendAdmin(name: AdminEventName): void {
    const frame = json.admin(name);
    let n = 0;
    for (const c of this.#d.hub.admins()) {
      if (c.protocol !== 'json') continue;
      c.push(frame);
      n += 1;
    }
    if (n) this.#d.metrics.pushed.inc({ protocol: 'json' }, n);
  }

  /**
   * Snapshots for connections that just opened (`since` from the URL) or that may have missed events (a bus
   * reconnect: replay after the last id each was sent). Set-based: one statement for all counts and one for all
   * bells, plus one replay query per user that asked for one.
   *
   * JSON order: connection_established, then the missed notifications oldest first, then live frames.
   *
   * Before the first await every connection goes (back) to queueing and its replay point is fixed: a live push
   * that lands while the queries run waits behind the snapshot (and is dropped if the replay carried it) instead
   * of moving `lastNotificationId` past a notification the replay has yet to send. If the snapshot fails, its
   * connections are closed (1011: clients reconnect and get a new one) rather than left queueing for good.
   */
  async snapshot(conns: Connection[], since?: Map<Connection, number>): Promise<void> {
    const live = conns.filter((c) => !c.closed);
    if (live.length === 0) return;
    const plans = new Map<Connection, SnapshotPlan>();
    const replayFrom = new Map<number, number>(); // user -> smallest id to replay after
    for (const c of live) {
      const plan: SnapshotPlan = { from: c.protocol === 'json' ? this.#replayPoint(c, since) : undefined };
      plans.set(c, plan);
      this.#snapshots.set(c, plan);
      c.pause();
      if (plan.from !== undefined) replayFrom.set(c.userId, Math.min(plan.from, replayFrom.get(c.userId) ?? Infinity));
    }
    try {
      await this.#sendSnapshots(plans, replayFrom);
    } catch (err) {
      for (const [c, plan] of plans) {
        if (this.#snapshots.get(c) !== plan) continue;
        this.#snapshots.delete(c);
        c.close(CloseCode.InternalError, 'snapshot failed');
      }
      throw err;
    }
  }

  /** Where a JSON connection replays from: the URL's ?since= on connect, else what it has been sent so far. */
  #replayPoint(c: Connection, since: Map<Connection, number> | undefined): number | undefined {
    if (since?.has(c)) return since.get(c);
    // Its previous snapshot has not gone out yet (this one supersedes it): replay from where that one would have.
    const previous = this.#snapshots.get(c);
    if (previous) return previous.from;
    // Open: it has seen everything up to lastNotificationId (0 too: the user had none when it connected).
    return c.ready ? c.lastNotificationId : undefined;
  }

  async #sendSnapshots(plans: Map<Connection, SnapshotPlan>, replayFrom: Map<number, number>): Promise<void> {
    const { queries, notifications, renderer, metrics } = this.#d;
    const conns = [...plans.keys()];
    const users = [...new Set(conns.map((c) => c.userId))];
    const bellUsers = [...new Set(conns.filter((c) => c.protocol === 'bell').map((c) => c.userId))];
    const [states, latest, replays] = await Promise.all([
      queries.states(users),
      queries.latestFor(bellUsers, BELL_SIZE),
      Promise.all(
        [...replayFrom].map(async ([uid, from]) => [uid, await notifications.since(uid, from, REPLAY_LIMIT)] as const),
      ).then((pairs) => new Map(pairs)),
    ]);
    const bells = new Map<number, string>();
    for (const [c, plan] of plans) {
      // Superseded by a newer snapshot of the same connection (which sends everything), or gone.
      if (this.#snapshots.get(c) !== plan) continue;
      this.#snapshots.delete(c);
      if (c.closed) continue;
      const state = states.get(c.userId) ?? { unread: 0, maxId: 0 };
      if (c.protocol === 'bell') {
        let html = bells.get(c.userId);
        const items = latest.get(c.userId) ?? [];
        if (html === undefined) bells.set(c.userId, (html = renderer.bell({ unreadCount: state.unread, latest: items }, { oob: true })));
        c.sendNow(html);
        c.open(items.map((n) => n.id));
        metrics.pushed.inc({ protocol: 'bell' });
        continue;
      }
      c.sendNow(json.established(state.unread));
      let sent = 1;
      const { from } = plan;
      const replayed: number[] = [];
      if (from !== undefined) {
        // Another tab of the user may have asked to replay from further back: skip what this one already has.
        for (const n of replays.get(c.userId) ?? []) {
          if (n.id <= from) continue;
          c.sendNow(json.notification(n), n.id);
          replayed.push(n.id);
          sent += 1;
        }
      }
      // Without a replay the client starts from "now": a later resync replays from the newest id at this moment.
      if (c.lastNotificationId < state.maxId && from === undefined) c.lastNotificationId = state.maxId;
      c.open(replayed);
      metrics.pushed.inc({ protocol: 'json' }, sent);
    }
  }

  /** Answers one client text frame. Every action is scoped to the connection's own user. */
  async message(c: Connection, text: string): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return c.sendNow(json.error('invalid_json', 'Messages must be JSON objects.'));
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return c.sendNow(json.error('invalid_message', 'Messages must be JSON objects.'));
    }
    const m = msg as Record<string, unknown>;
    switch (m.type) {
      case 'ping':
        return c.sendNow(json.pong);
      case 'mark_as_read': {
        // hx-ws sends form values as strings; the JSON protocol sends numbers. Accept both, nothing else.
        const id = typeof m.id === 'number' ? m.id : typeof m.id === 'string' && /^\d{1,15}$/.test(m.id) ? Number(m.id) : NaN;
        if (!Number.isSafeInteger(id) || id <= 0) return c.sendNow(json.error('invalid_id', 'id must be a positive integer.'));
        try {
          // The service publishes notification.read, which updates this tab and every other one.
          await this.#d.notifications.markRead(c.userId, id);
        } catch (err) {
          if ((err as { status?: number }).status === 404) {
            return c.sendNow(json.error('not_found', 'Notification not found.'));
          }
          throw err;
        }
        return;
      }
      case 'mark_all_as_read': {
        const n = await this.#d.notifications.markAllRead(c.userId);
        // Nothing changed means no event: answer this socket directly so it still hears back.
        if (n === 0 && c.protocol === 'json') c.sendNow(json.unread(await this.#d.notifications.unreadCount(c.userId)));
        return;
      }
      default:
        return c.sendNow(json.error('unknown_type', 'Unknown message type.'));
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#admin.values()) clearTimeout(s.timer);
    this.#admin.clear();
  }
}
