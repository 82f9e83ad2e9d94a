import { groupKeyOf, type NotificationService, type PlacedGroup, type StateEntry, type StatesSince } from '../services/notifications';
import type { NotificationJSON } from '../wire';
import { CloseCode } from './codes';
import type { Connection } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { Protocols } from './protocols';
import type { Positioned } from './protocols/protocol';
import type { RealtimeQueries } from './queries';

/** Replay at most this many missed notifications on connect; past it the client should reload its list. */
const REPLAY_LIMIT = 500;
/** And at most this many state changes of rows the client had (a read-all counts each row); likewise. */
const STATE_REPLAY_LIMIT = 5_000;
/** Ids per replayed `notification_state` frame, as in the live ones (a group action announces 500 at a time). */
const STATE_FRAME_IDS = 500;
/**
 * Replayed read and unread rows a list-showing protocol (the bell) gets as cards, newest first: five pages of the
 * list (a card older than the rows a page shows is dropped there anyway while "Load more" would bring it). Older
 * ones still get their read state; one undone while away beyond these comes back with the next reload. A bound
 * because a page's first connect resumes from its newest row and so replays every change made since that row.
 */
const RETURNING_CARDS = 100;

/** One snapshot under way for one connection; a newer one for the same connection supersedes it. */
interface SnapshotPlan {
  /** Replay after this position (protocols that replay); undefined: no replay, the client starts from now. */
  from: number | undefined;
}

/**
 * Snapshots for connections that just opened (`since` from the URL) or that may have missed events (a bus
 * reconnect: replay after the last id each was sent). Set-based: one statement for all counts and one for all
 * bells (their latest and their newest unread), plus one replay query per user that asked for one.
 *
 * Order on a replaying protocol: the snapshot frame, then the missed notifications oldest first with, on a protocol
 * that replays states, the state changes of rows the client already had between them (see #replay), then live frames.
 *
 * Before the first await every connection goes (back) to queueing and its replay point is fixed: a live push that
 * lands while the queries run waits behind the snapshot (and is dropped if the replay carried it) instead of
 * moving `lastPosition` past a notification the replay has yet to send. If the snapshot fails, its
 * connections are closed (1011: clients reconnect and get a new one) rather than left queueing for good.
 */
export interface SnapshotDeps {
  notifications: NotificationService;
  queries: RealtimeQueries;
  protocols: Protocols;
  metrics: RealtimeMetrics;
}

export class Snapshots {
  readonly #d: SnapshotDeps;
  /** The newest snapshot under way per connection (a resync can start while a connect's snapshot is running). */
  readonly #plans = new WeakMap<Connection, SnapshotPlan>();

  constructor(deps: SnapshotDeps) {
    this.#d = deps;
  }

  async send(conns: Connection[], since?: Map<Connection, number>): Promise<void> {
    const live = conns.filter((c) => !c.closed);
    if (live.length === 0) return;
    const plans = new Map<Connection, SnapshotPlan>();
    const replayFrom = new Map<number, number>(); // user -> smallest position to replay after
    for (const c of live) {
      const plan: SnapshotPlan = { from: this.#d.protocols[c.protocol].replay ? this.#replayPoint(c, since) : undefined };
      plans.set(c, plan);
      this.#plans.set(c, plan);
      c.pause();
      if (plan.from !== undefined) replayFrom.set(c.userId, Math.min(plan.from, replayFrom.get(c.userId) ?? Infinity));
    }
    try {
      await this.#send(plans, replayFrom);
    } catch (err) {
      for (const [c, plan] of plans) {
        if (this.#plans.get(c) !== plan) continue;
        this.#plans.delete(c);
        c.close(CloseCode.InternalError, 'snapshot failed');
      }
      throw err;
    }
  }

  /** Where a connection replays from: the URL's ?since= on connect, else what it has been sent so far. */
  #replayPoint(c: Connection, since: Map<Connection, number> | undefined): number | undefined {
    if (since?.has(c)) return since.get(c);
    // Its previous snapshot has not gone out yet (this one supersedes it): replay from where that one would have.
    const previous = this.#plans.get(c);
    if (previous) return previous.from;
    // Open: it has seen everything up to lastPosition (0 too: the user had none when it connected).
    return c.ready ? c.lastPosition : undefined;
  }

  async #send(plans: Map<Connection, SnapshotPlan>, replayFrom: Map<number, number>): Promise<void> {
    const { queries, notifications, protocols, metrics } = this.#d;
    const conns = [...plans.keys()];
    const users = [...new Set(conns.map((c) => c.userId))];
    const bellUsers = [...new Set(conns.filter((c) => protocols[c.protocol].showsBell).map((c) => c.userId))];
    // State changes are read per (user, replay point): which rows a tab had depends on where it resumes.
    const stateFroms = new Map<string, [number, number]>();
    for (const [c, { from }] of plans) if (from !== undefined && protocols[c.protocol].replayStates) stateFroms.set(`${c.userId}:${from}`, [c.userId, from]);
    const [states, latest, replays, stateReplays] = await Promise.all([
      queries.states(users),
      // The bell shows groups as one line (issue 14), as the page renders it: one statement for every bell user.
      notifications.bells(bellUsers),
      Promise.all(
        [...replayFrom].map(async ([uid, from]) => [uid, await notifications.since(uid, from, REPLAY_LIMIT)] as const),
      ).then((pairs) => new Map(pairs)),
      Promise.all(
        [...stateFroms].map(async ([key, [uid, from]]) => [key, await notifications.statesSince(uid, from, STATE_REPLAY_LIMIT)] as const),
      ).then((pairs) => new Map(pairs)),
    ]);
    // A protocol that shows a group as one line (the bell) replays a missed member as its group's line, not as a
    // card: one more read per user whose replay holds grouped rows (only when such a tab replays).
    const linesOf = new Map<number, Map<string, PlacedGroup | null>>();
    const groupingUsers = new Set(conns.filter((c) => protocols[c.protocol].newGroupMember && protocols[c.protocol].replay).map((c) => c.userId));
    // After replayed state changes, a protocol that shows groups gets the fresh lines of the groups those rows are
    // (or, deleted, were) in, as after a live change: one more read per replay that touched a group.
    const stateLinesOf = new Map<string, Map<string, PlacedGroup | null>>();
    const groupingFroms = new Set([...plans].filter(([c]) => protocols[c.protocol].groupLines).map(([c, { from }]) => `${c.userId}:${from}`));
    // A protocol that shows lists (the bell) also gets the replayed read and unread rows as cards, as the live undone
    // and unread pushes bring them, so a list takes back a row undone while the tab slept: one more read per replay
    // that holds such rows, only when such a tab replays.
    const cardsOf = new Map<string, Map<number, Positioned>>();
    const listFroms = new Set(
      [...plans].filter(([c]) => protocols[c.protocol].showsBell && protocols[c.protocol].replayStates).map(([c, { from }]) => `${c.userId}:${from}`),
    );
    await Promise.all([
      ...[...stateReplays].map(async ([key, { entries }]) => {
        const inInbox = entries.filter((e) => e.state === 'read' || e.state === 'unread').map((e) => e.id);
        if (inInbox.length === 0 || !listFroms.has(key)) return;
        const uid = stateFroms.get(key)![0];
        const rows = await notifications.byIds(inInbox.sort((a, b) => b - a).slice(0, RETURNING_CARDS));
        // As they are by now, only the user's own and only those still in the inbox (a later change has its own push).
        const mine = rows.filter((r) => r.recipient_id === uid && r.done_at === null && r.snoozed_until === null);
        cardsOf.set(key, new Map(mine.map(({ recipient_id: _r, silent: _s, position, ...n }) => [n.id, { n, position }])));
      }),
      ...[...replays].map(async ([uid, rows]) => {
        const keys = [...new Set(rows.map((r) => groupKeyOf(r.n)).filter((k): k is string => k !== null))];
        if (keys.length > 0 && groupingUsers.has(uid)) linesOf.set(uid, await notifications.groupLines(uid, [], keys));
      }),
      ...[...stateReplays].map(async ([key, { entries }]) => {
        const keys = [...new Set(entries.map((e) => e.groupKey).filter((k): k is string => k !== null))];
        if (keys.length > 0 && groupingFroms.has(key)) stateLinesOf.set(key, await notifications.groupLines(stateFroms.get(key)![0], [], keys));
      }),
    ]);
    /** One snapshot frame per user and protocol, however many tabs. */
    const frames = new Map<string, string>();
    for (const [c, plan] of plans) {
      // Superseded by a newer snapshot of the same connection (which sends everything), or gone.
      if (this.#plans.get(c) !== plan) continue;
      this.#plans.delete(c);
      if (c.closed) continue;
      const p = protocols[c.protocol];
      const state = states.get(c.userId) ?? { unread: 0, maxPosition: 0 };
      const bell = p.showsBell ? latest.get(c.userId) : undefined;
      const key = `${p.name}:${c.userId}`;
      let frame = frames.get(key);
      // The count is the one read with the positions (states), so a snapshot never shows two different counts.
      if (frame === undefined) {
        frames.set(key, (frame = p.snapshot({ unreadCount: state.unread, latest: bell?.latest ?? [], olderUnread: bell?.olderUnread ?? [] })));
      }
      c.sendNow(frame);
      let sent = 1;
      // What this connection now shows: live copies of these are dropped (see Connection.open).
      const seen = [...(bell?.positions ?? [])];
      const { from } = plan;
      if (from !== undefined && p.replay) {
        const lines = p.newGroupMember ? linesOf.get(c.userId) : undefined;
        const missed = stateReplays.get(`${c.userId}:${from}`) ?? { entries: [], latest: 0 };
        const stateLines = stateLinesOf.get(`${c.userId}:${from}`);
        const cards = returningCards(cardsOf.get(`${c.userId}:${from}`), stateLines);
        const replayed = this.#replay(c, from, replays.get(c.userId) ?? [], missed, lines, seen, cards);
        sent += replayed.frames;
        if (replayed.states > 0) {
          // As after every live state change: the count follows (the one the snapshot frame showed; the bell's came
          // with its snapshot), then the lines.
          if (p.unreadCount) {
            c.sendNow(p.unreadCount(state.unread));
            sent += 1;
          }
          const lineFrames = stateLines && p.groupLines ? p.groupLines(stateLines) : [];
          for (const f of lineFrames) c.sendNow(f);
          sent += lineFrames.length;
        }
        if (lines && p.groupLines) {
          for (const f of p.groupLines(lines)) c.sendNow(f, Math.max(0, ...[...lines.values()].map((l) => l?.position ?? 0)));
          sent += 1;
        }
      }
      // Without a replay the client starts from "now": a later resync replays from the newest position at this moment.
      if (p.replay && c.lastPosition < state.maxPosition && from === undefined) c.lastPosition = state.maxPosition;
      c.open(seen);
      metrics.pushed.inc({ protocol: p.name }, sent);
    }
  }

  /**
   * The missed notifications after `from` and, between them, the state changes of rows the client had, all in
   * delivery order, so that whatever prefix of it a client receives before a drop, the highest position it saw
   * leaves nothing unsent behind it. Between two notifications the state changes go one frame per state (at most
   * STATE_FRAME_IDS ids each), and only the last of those frames carries a position (the highest among them): a
   * drop in the middle makes the client ask again for changes it may have, never skip one. The very last state
   * frame carries `latest` too when higher (changes of rows newer than `from`, which went whole, as they are now), so
   * a client never asks again about them. Both reads are bounded; past either bound neither goes further than the
   * other. Returns the frames sent, and how many of them were state frames.
   */
  #replay(
    c: Connection,
    from: number,
    rows: ReadonlyArray<{ n: NotificationJSON; position: number }>,
    { entries: allEntries, latest }: StatesSince,
    lines: Map<string, PlacedGroup | null> | undefined,
    seen: number[],
    cards: ReadonlyMap<number, Positioned>,
  ): { frames: number; states: number } {
    const p = this.#d.protocols[c.protocol];
    const cap = Math.min(rows.length === REPLAY_LIMIT ? rows[rows.length - 1].position : Infinity, stateCap(allEntries));
    const entries = allEntries.filter((e) => e.position <= cap);
    let sent = 0;
    let stateFrames = 0;
    let k = 0;
    const statesBefore = (position: number) => {
      const gap: StateEntry[] = [];
      while (k < entries.length && entries[k].position < position) gap.push(entries[k++]);
      const final = position === Infinity;
      if (gap.length === 0 || !p.replayStates) return;
      const byState = new Map<StateEntry['state'], number[]>();
      for (const e of gap) {
        const ids = byState.get(e.state);
        if (ids) ids.push(e.id);
        else byState.set(e.state, [e.id]);
      }
      const frames: Array<[number[], StateEntry['state']]> = [];
      for (const [state, ids] of byState) for (let i = 0; i < ids.length; i += STATE_FRAME_IDS) frames.push([ids.slice(i, i + STATE_FRAME_IDS), state]);
      const last = Math.max(gap[gap.length - 1].position, final ? Math.min(cap, latest) : 0);
      frames.forEach(([ids, state], i) => {
        const at = i === frames.length - 1 ? last : undefined;
        const returning = cards.size === 0 ? [] : ids.flatMap((id) => cards.get(id) ?? []);
        c.sendNow(p.replayStates!(ids, state, at, returning), at);
      });
      sent += frames.length;
      stateFrames += frames.length;
    };
    for (const { n, position } of rows) {
      // Another tab of the user may have asked to replay from further back: skip what this one already has.
      if (position <= from) continue;
      if (position > cap) break;
      statesBefore(position);
      seen.push(position);
      if (lines?.has(groupKeyOf(n) ?? '')) continue; // within its group's line, after the replay
      c.sendNow(p.replay!(n, position), position);
      sent += 1;
    }
    statesBefore(Infinity);
    return { frames: sent, states: stateFrames };
  }
}

/**
 * The cards of replayed rows back in (or still in) the inbox, less those of a group whose line the tab is sent
 * after the states (they come back within it, as after a live change).
 */
function returningCards(cards: Map<number, Positioned> | undefined, lines: Map<string, PlacedGroup | null> | undefined): Map<number, Positioned> {
  if (!cards || !lines) return cards ?? new Map();
  return new Map([...cards].filter(([, { n }]) => !lines.has(groupKeyOf(n) ?? '')));
}

/**
 * How far a state replay that hit its bound may go: up to its last position, but not into it when an earlier one
 * is there (the bound may have cut that statement's rows short, and a position sent is a position the client will
 * not ask for again); a single statement above the bound is sent as far as it goes.
 */
function stateCap(entries: StateEntry[]): number {
  if (entries.length < STATE_REPLAY_LIMIT) return Infinity;
  const last = entries[entries.length - 1].position;
  return entries[0].position < last ? last - 1 : last;
}
