import { groupKeyOf, type NotificationService, type PlacedGroup } from '../services/notifications';
import { CloseCode } from './codes';
import type { Connection } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { Protocols } from './protocols';
import type { RealtimeQueries } from './queries';

/** Replay at most this many missed notifications on connect; past it the client should reload its list. */
const REPLAY_LIMIT = 500;

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
 * Order on a replaying protocol: the snapshot frame, then the missed notifications oldest first, then live frames.
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
    const [states, latest, replays] = await Promise.all([
      queries.states(users),
      // The bell shows groups as one line (issue 14), as the page renders it: one statement for every bell user.
      notifications.bells(bellUsers),
      Promise.all(
        [...replayFrom].map(async ([uid, from]) => [uid, await notifications.since(uid, from, REPLAY_LIMIT)] as const),
      ).then((pairs) => new Map(pairs)),
    ]);
    // A protocol that shows a group as one line (the bell) replays a missed member as its group's line, not as a
    // card: one more read per user whose replay holds grouped rows (only when such a tab replays).
    const linesOf = new Map<number, Map<string, PlacedGroup | null>>();
    const groupingUsers = new Set(conns.filter((c) => protocols[c.protocol].newGroupMember && protocols[c.protocol].replay).map((c) => c.userId));
    await Promise.all(
      [...replays].map(async ([uid, rows]) => {
        const keys = [...new Set(rows.map((r) => groupKeyOf(r.n)).filter((k): k is string => k !== null))];
        if (keys.length > 0 && groupingUsers.has(uid)) linesOf.set(uid, await notifications.groupLines(uid, [], keys));
      }),
    );
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
        // Another tab of the user may have asked to replay from further back: skip what this one already has.
        const lines = p.newGroupMember ? linesOf.get(c.userId) : undefined;
        for (const { n, position } of replays.get(c.userId) ?? []) {
          if (position <= from) continue;
          seen.push(position);
          if (lines?.has(groupKeyOf(n) ?? '')) continue; // within its group's line, below
          c.sendNow(p.replay(n, position), position);
          sent += 1;
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
}
