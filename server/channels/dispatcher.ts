import type { Logger } from '../logger';
import type { Bus } from '../realtime/bus';
import type { HeraldEvent } from '../services/events';
import type { Channel } from './channel';

/**
 * The session id under which a connection opened with an access token is held (sockets, event streams): revoking
 * the token ends that "session" exactly like a logout ends a cookie session's.
 */
export const tokenSessionId = (tokenId: number) => `token:${tokenId}`;

/**
 * The one subscriber of the bus: every committed event, as it arrives from the bus, is handed to each channel in
 * the order the channels were registered. Channels queue their own work, so a slow or failing channel never holds
 * up another; a channel that throws is logged and the others still get the event.
 *
 * It also owns the bus's lifecycle: the bus starts after the channels (no event arrives before a channel is ready)
 * and stops before them (their queues then drain what already arrived).
 */
export class Dispatcher {
  readonly #bus: Bus;
  readonly #channels: readonly Channel[];
  readonly #logger: Logger;
  readonly #detach: Array<() => void> = [];

  constructor(deps: { bus: Bus; channels: Channel[]; logger: Logger }) {
    this.#bus = deps.bus;
    this.#channels = [...deps.channels];
    this.#logger = deps.logger;
  }

  get channels(): readonly Channel[] {
    return this.#channels;
  }

  /** Whether any registered channel sends through the job queue (then the process must run its workers). */
  get needsJobQueue(): boolean {
    return this.#channels.some((c) => c.needsJobQueue);
  }

  /** Starts the channels, then listens. Call before the HTTP server listens. */
  async start(): Promise<void> {
    for (const c of this.#channels) await c.start();
    this.#detach.push(
      this.#bus.subscribe((event, publishedAt) => this.dispatch(event, publishedAt)),
      this.#bus.onResync(() => {
        for (const c of this.#channels) this.#each(c, 'resync', () => c.resync?.());
      }),
    );
    await this.#bus.start();
  }

  /** Hands one event to every channel. Never throws. */
  dispatch(event: HeraldEvent, publishedAt: number): void {
    for (const c of this.#channels) this.#each(c, event.type, () => route(c, event, publishedAt));
  }

  /**
   * After the HTTP server drained (a request still running commits and publishes, and other processes must still
   * hear of it): the bus stops, then each channel finishes what it queued.
   */
  async stop(): Promise<void> {
    await this.#bus.stop();
    for (const off of this.#detach.splice(0)) off();
    for (const c of this.#channels) {
      await c.stop().catch((err: unknown) => this.#logger.error({ err, channel: c.name }, 'channel stop failed'));
    }
  }

  /** Resolves once every channel handled every event handed over so far. */
  async idle(): Promise<void> {
    await Promise.all(this.#channels.map((c) => c.idle()));
  }

  #each(c: Channel, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#logger.error({ err, channel: c.name, type: what }, 'channel failed to take an event');
    }
  }
}

/** Which channel method an event is. Exhaustive: a new event type does not compile until it is routed here. */
function route(c: Channel, e: HeraldEvent, at: number): void {
  switch (e.type) {
    case 'notification.created':
      return c.notify({ recipientId: e.recipientId, id: e.id }, at);
    case 'notification.fanout':
      return c.notify(e.range ? { batchId: e.batchId, range: e.range } : { batchId: e.batchId }, at);
    case 'notification.read':
      return c.readStateChanged({ recipientId: e.recipientId, ids: e.ids, position: e.position }, at);
    case 'notification.read_all':
      return c.readStateChanged({ recipientId: e.recipientId, ids: 'all', position: e.position }, at);
    case 'notification.deleted':
      return c.removed({ recipientId: e.recipientId, ids: e.ids, groupKeys: e.groupKeys, position: e.position }, at);
    case 'notification.state':
      return c.stateChanged?.({ recipientId: e.recipientId, ids: e.ids, state: e.state, position: e.position }, at);
    case 'notification.woken':
      return c.woken?.({ recipientId: e.recipientId, id: e.id }, at);
    case 'application.changed': {
      const { type: _type, ...change } = e;
      return c.applicationChanged(change, at);
    }
    case 'broadcast.progress': {
      const { type: _type, ...progress } = e;
      return c.sendProgress?.(progress, at);
    }
    case 'session.ended':
      return c.sessionsEnded?.({ sessionIds: e.sessionIds }, at);
    case 'user.sessions_ended':
      return c.sessionsEnded?.({ userId: e.userId }, at);
    case 'token.revoked':
      return c.sessionsEnded?.({ sessionIds: e.tokenIds.map(tokenSessionId) }, at);
    default: {
      const unknown: never = e;
      return unknown;
    }
  }
}
