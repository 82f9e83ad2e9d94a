import type { Logger } from '../logger';
import type { Services } from '../services';
import { CloseCode } from './codes';
import type { Hub } from './hub';
import type { RealtimeQueries } from './queries';
import { PRESENCE_EVERY_MS, PRESENCE_STALE_MS } from './presence';

/**
 * The in-app channel's periodic chores, apart from delivery: re-checking the sessions (and access tokens) of open
 * sockets, reporting this process's socket count for the cluster-wide total, and recording which users have a
 * visible tab here (the push channel reads it). Timers are unref'd and stop with `stop()`.
 */
export class SocketChores {
  readonly #timers: NodeJS.Timeout[] = [];
  // One visibility write at a time, so a quick hide-then-show cannot land in the database in the wrong order.
  #visibleWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly d: {
      hub: Hub;
      queries: RealtimeQueries;
      tokens: Services['tokens'];
      logger: Logger;
      instanceId: string;
      sessionCheckMs: number;
    },
  ) {}

  async start(): Promise<void> {
    this.#every(this.d.sessionCheckMs, () => this.checkSessions());
    this.#every(PRESENCE_EVERY_MS, () => this.d.queries.reportPresence(this.d.instanceId, this.d.hub.size));
    await this.d.queries.reportPresence(this.d.instanceId, 0).catch(() => undefined);
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
  }

  recordVisible(userId: number, visible: boolean): void {
    this.#visibleWrites = this.#visibleWrites
      .then(() => this.d.queries.setVisible(this.d.instanceId, userId, visible))
      .catch((err: unknown) => this.d.logger.warn({ err }, 'visibility not recorded'));
  }

  /** Open sockets across all processes: ours live, the others' as last reported (stale reports are ignored). */
  async openSocketCount(): Promise<number> {
    return this.d.hub.size + (await this.d.queries.otherSockets(this.d.instanceId, PRESENCE_STALE_MS));
  }

  /** Sessions (and access tokens, under `token:<id>`) that ended without an event (expiry, pruning) close too. */
  async checkSessions(): Promise<void> {
    const { hub } = this.d;
    const isToken = (sid: string) => sid.startsWith('token:');
    const tokenIdOf = (sid: string) => Number(sid.slice('token:'.length));
    const tokenSids = hub.sessionIds().filter(isToken);
    const liveTokens = await this.d.tokens.live(tokenSids.map(tokenIdOf));
    for (const sid of tokenSids) if (!liveTokens.has(tokenIdOf(sid))) hub.closeSession(sid, CloseCode.Unauthorized, 'token ended');
    const sids = hub.sessionIds().filter((sid) => !isToken(sid));
    for (let i = 0; i < sids.length; i += 1000) {
      const chunk = sids.slice(i, i + 1000);
      const live = await this.d.queries.liveSessions(chunk);
      for (const sid of chunk) if (!live.has(sid)) hub.closeSession(sid, CloseCode.Unauthorized, 'session ended');
    }
  }

  #every(ms: number, fn: () => Promise<unknown>) {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => this.d.logger.warn({ err }, 'realtime chore failed'))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    this.#timers.push(t);
  }
}
