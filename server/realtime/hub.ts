import { CloseCode } from './codes';

/**
 * The little the hub needs from a socket. The ws adapter implements it; tests can use a fake. Keeping `ws` out
 * of the hub keeps routing (who gets what) testable and transport-free.
 */
export interface Socket {
  /** Sends a text frame. Implementations drop frames for sockets that are not open. */
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Optional: hold the frames sent until `uncork` and write them together (one syscall instead of one each). */
  cork?(): void;
  uncork?(): void;
}

/** Which wire format a connection speaks: JSON for API clients and the admin console, HTML for hx-ws. */
export type Protocol = 'json' | 'bell';

/** Who is on the other end of a socket, fixed at upgrade time. */
export interface Identity {
  userId: number;
  /** The express-session id, so a logout can close exactly that session's sockets. */
  sessionId: string;
  isAdmin: boolean;
  protocol: Protocol;
}

/** How long snapshot ids are remembered to drop live duplicates that raced the snapshot query. */
const SEEN_TTL_MS = 10_000;
/** Live frames held while the snapshot is being built; past this the client is too far behind anyway. */
const MAX_PENDING = 1_000;

/**
 * One open socket and its delivery state. Until `open()` is called (after the snapshot went out) live pushes are
 * queued, so nothing committed while the snapshot query ran is lost and nothing arrives before the snapshot.
 */
export class Connection implements Identity {
  readonly userId: number;
  readonly sessionId: string;
  readonly isAdmin: boolean;
  readonly protocol: Protocol;
  readonly socket: Socket;
  /** Its tab said it is on screen (`{"type":"visibility"}`); false until it says so. Web Push skips such users. */
  visible = false;
  /**
   * Highest position (a notification's sort key: its id, or the key it took when it woke) this connection has been
   * sent (snapshot, replay or live): a resync replays after it. Positions, not ids, so a row that woke while this
   * connection was queueing or away is still ahead of it.
   */
  lastPosition = 0;
  #ready = false;
  /** Live frames held until the snapshot went out; allocated only if one arrives meanwhile (most never do). */
  #pending: Array<[string, number | undefined, boolean]> | undefined;
  /** Positions the snapshot carried, remembered for SEEN_TTL_MS; none (the usual case) allocates nothing. */
  #seen: Set<number> | undefined;
  #seenUntil = 0;
  #closed = false;
  /** Courses whose counts its page shows (`{"type":"watch"}`); kept by the hub, which indexes them. */
  watching: readonly number[] = [];

  constructor(identity: Identity, socket: Socket) {
    this.userId = identity.userId;
    this.sessionId = identity.sessionId;
    this.isAdmin = identity.isAdmin;
    this.protocol = identity.protocol;
    this.socket = socket;
  }

  get ready() {
    return this.#ready;
  }
  get closed() {
    return this.#closed;
  }

  /** Frames sent until `uncork` leave together (see Socket.cork). Always call both, in pairs. */
  cork(): void {
    this.socket.cork?.();
  }
  uncork(): void {
    this.socket.uncork?.();
  }

  /** Sends now, bypassing the pending queue: for the snapshot and replies to the client's own messages. */
  sendNow(frame: string, position?: number): void {
    if (this.#closed) return;
    if (position !== undefined && position > this.lastPosition) this.lastPosition = position;
    this.socket.send(frame);
  }

  /**
   * A live push. `position` marks frames that announce one notification at one place (its sort key), so a copy the
   * snapshot already carried is dropped instead of shown twice, while the same row woken later (a new position) is not.
   * `dedupe` false (a state change's frames): never dropped, only moving the resume point. The replay says each
   * row's state at the time of its query, and a change it already holds may come again: applied in order, the
   * later pushes still leave the row as it is; dropping one by position could keep an older state instead.
   */
  push(frame: string, position?: number, dedupe = true): void {
    if (this.#closed) return;
    if (!this.#ready) {
      const pending = (this.#pending ??= []);
      if (pending.length >= MAX_PENDING) return this.close(CloseCode.TryAgainLater, 'too far behind');
      pending.push([frame, position, dedupe]);
      return;
    }
    if (dedupe && position !== undefined && this.#seen) {
      if (Date.now() >= this.#seenUntil) this.#seen = undefined;
      else if (this.#seen.has(position)) return;
    }
    this.sendNow(frame, position);
  }

  /**
   * Back to queueing until the next `open()`: a resync is rebuilding this connection's snapshot, and a live push
   * sent meanwhile would advance `lastPosition` past notifications the replay has yet to send.
   */
  pause(): void {
    this.#ready = false;
  }

  /** The snapshot went out (it carried these positions): flush what queued up meanwhile and go live. */
  open(seenPositions: Iterable<number> = []): void {
    const seen = new Set(seenPositions);
    this.#seen = seen.size > 0 ? seen : undefined;
    this.#seenUntil = Date.now() + SEEN_TTL_MS;
    this.#ready = true;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) for (const [frame, id, dedupe] of pending) this.push(frame, id, dedupe);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = undefined;
    this.socket.close(code, reason);
  }

  /** The transport reported the socket gone. */
  markClosed(): void {
    this.#closed = true;
    this.#pending = undefined;
  }
}

/**
 * Every open connection of this process, indexed by user (a Set: many tabs, many devices) and by session (a
 * logout closes exactly that session's sockets).
 */
export class Hub {
  readonly #byUser = new Map<number, Set<Connection>>();
  readonly #bySession = new Map<string, Set<Connection>>();
  readonly #admins = new Set<Connection>();
  /** Course id → connections whose page shows that course's counts (catalog cards, a course page). */
  readonly #byCourse = new Map<number, Set<Connection>>();
  #size = 0;

  add(c: Connection): void {
    addTo(this.#byUser, c.userId, c);
    addTo(this.#bySession, c.sessionId, c);
    if (c.isAdmin) this.#admins.add(c);
    this.#size += 1;
  }

  remove(c: Connection): void {
    if (!removeFrom(this.#byUser, c.userId, c)) return;
    removeFrom(this.#bySession, c.sessionId, c);
    this.#admins.delete(c);
    for (const id of c.watching) removeFrom(this.#byCourse, id, c);
    this.#size -= 1;
  }

  /** The courses a connection's page shows now (replaces what it showed before: a search, a new page). */
  watch(c: Connection, courseIds: readonly number[]): void {
    if (c.closed || !this.#byUser.get(c.userId)?.has(c)) return;
    for (const id of c.watching) removeFrom(this.#byCourse, id, c);
    c.watching = courseIds;
    for (const id of courseIds) addTo(this.#byCourse, id, c);
  }

  /** Connections whose page shows this course's counts. */
  watching(courseId: number): ReadonlySet<Connection> | undefined {
    return this.#byCourse.get(courseId);
  }

  /** Open sockets in this process. */
  get size(): number {
    return this.#size;
  }

  /** Users with at least one open socket here. */
  get userCount(): number {
    return this.#byUser.size;
  }

  of(userId: number): ReadonlySet<Connection> | undefined {
    return this.#byUser.get(userId);
  }

  /** Open sockets of one session here. */
  sessionSize(sessionId: string): number {
    return this.#bySession.get(sessionId)?.size ?? 0;
  }

  /** Records a tab's visibility; true when that changed whether its user has a visible tab here. */
  setVisible(c: Connection, visible: boolean): boolean {
    const before = this.isVisible(c.userId);
    c.visible = visible;
    return !c.closed && before !== this.isVisible(c.userId);
  }

  /** Whether any of the user's sockets here reported its tab visible. */
  isVisible(userId: number): boolean {
    for (const c of this.#byUser.get(userId) ?? []) if (c.visible) return true;
    return false;
  }

  hasUser(userId: number): boolean {
    return this.#byUser.has(userId);
  }

  userIds(): number[] {
    return [...this.#byUser.keys()];
  }

  sessionIds(): string[] {
    return [...this.#bySession.keys()];
  }

  admins(): ReadonlySet<Connection> {
    return this.#admins;
  }

  *all(): IterableIterator<Connection> {
    for (const set of this.#byUser.values()) yield* set;
  }

  closeSession(sessionId: string, code: number, reason: string): number {
    return closeEach(this.#bySession.get(sessionId), code, reason);
  }

  closeUser(userId: number, code: number, reason: string): number {
    return closeEach(this.#byUser.get(userId), code, reason);
  }

  closeAll(code: number, reason: string): number {
    let n = 0;
    for (const set of [...this.#byUser.values()]) n += closeEach(set, code, reason);
    return n;
  }
}

function addTo<K>(map: Map<K, Set<Connection>>, key: K, c: Connection) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(c);
}

function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, c: Connection): boolean {
  const set = map.get(key);
  if (!set || !set.delete(c)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}

function closeEach(set: Set<Connection> | undefined, code: number, reason: string): number {
  if (!set) return 0;
  const list = [...set]; // closing may remove from the set synchronously
  for (const c of list) c.close(code, reason);
  return list.length;
}
