import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Server } from 'node:http';
import type { RequestHandler, Response, Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { ApplicationChange, Channel, NewNotifications, ReadStateChange, Removal, SendProgress, SessionsEnded, StateChange, Woken } from '../channels/channel';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { Renderer } from '../web/render';
import { AdminHints } from './admin-hints';
import { ApplicationPushes } from './application-pushes';
import type { Bus } from './bus';
import { SocketChores } from './chores';
import { CloseCode } from './codes';
import { DeliveryQueue } from './delivery';
import { Connections } from './connections';
import { Hub, type Identity } from './hub';
import { RealtimeMetrics } from './metrics';
import { createProbes } from './probes';
import { createProtocols } from './protocols';
import { Pushes } from './pushes';
import { RealtimeQueries } from './queries';
import { SendProgressPushes } from './send-progress';
import { Snapshots } from './snapshots';
import { DEFAULT_SSE_LIMITS, openEventStream, type EventStreams, type SseLimits } from './sse';
import { attachWebSockets, DEFAULT_LIMITS, type WsLimits } from './ws';

export { createBus, LocalBus, PgBus, RedisBus, type Bus } from './bus';
export { CloseCode } from './codes';
export { Hub, Connection, type Socket, type Identity, type Protocol } from './hub';
export type { EventStreams } from './sse';

/** Everything the realtime layer needs from the process. */
export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  sequelize: Sequelize;
  services: Services;
  /** The bus the dispatcher listens on; here only for /readyz and the bus gauge. */
  bus: Bus;
  /** The express-session middleware the app uses; upgrades are authenticated with it. */
  session: RequestHandler;
  renderer?: Renderer;
  limits?: Partial<WsLimits>;
  /** Server-sent event streams: heartbeat, buffer bound. */
  sseLimits?: Partial<SseLimits>;
  /** How often open sockets' sessions are re-checked (expired or destroyed ones are closed). */
  sessionCheckMs?: number;
  /** Node's default process metrics on /metrics (off in tests, which build many registries). */
  defaultMetrics?: boolean;
  /** A fan-out's first read of rows, in connected users (pushes.ts FIRST_SLICE); tests make it small. */
  fanoutFirstSlice?: number;
}

/**
 * The in-app channel: the open tabs of this process. It takes events from the dispatcher (server/channels) into
 * its ordered queue and pushes them to the sockets it holds (hub, ws adapter), and runs the socket chores
 * (session re-checks, presence). The services never see it.
 */
export class Realtime implements Channel, EventStreams {
  readonly name = 'in-app';
  readonly needsJobQueue = false;
  readonly hub = new Hub();
  readonly metrics: RealtimeMetrics;
  /** The ordered queue every push goes through (`idle()` for tests and shutdown). */
  readonly delivery: DeliveryQueue;
  readonly bus: Bus;
  /** /metrics and /readyz, to pass to createApp as `probes`. */
  readonly probes: Router;
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #d: RealtimeDeps;
  readonly #queries: RealtimeQueries;
  readonly #hints: AdminHints;
  readonly #pushes: Pushes;
  readonly #applicationPushes: ApplicationPushes;
  readonly #snapshots: Snapshots;
  readonly #sendProgress: SendProgressPushes;
  readonly #limits: WsLimits;
  readonly #chores: SocketChores;
  /** The sink sockets and event streams arrive at (connections.ts). */
  readonly #connections: Connections;
  readonly #detach: Array<() => void | Promise<void>> = [];

  constructor(deps: RealtimeDeps) {
    this.#d = deps;
    this.bus = deps.bus;
    this.#limits = { ...DEFAULT_LIMITS, ...deps.limits };
    const queries = (this.#queries = new RealtimeQueries(deps.sequelize));
    const notifications = deps.services.notifications;
    const metrics = (this.metrics = new RealtimeMetrics(this.hub, { defaultMetrics: deps.defaultMetrics, busHealthy: () => deps.bus.isHealthy() }));
    const protocols = createProtocols(deps.renderer ?? new Renderer());
    this.#hints = new AdminHints({ hub: this.hub, protocols, metrics });
    this.#pushes = new Pushes({ hub: this.hub, notifications, queries, protocols, metrics, firstSlice: deps.fanoutFirstSlice });
    this.#applicationPushes = new ApplicationPushes({ hub: this.hub, queries, protocols, metrics });
    this.#snapshots = new Snapshots({ notifications, queries, protocols, metrics });
    this.delivery = new DeliveryQueue({
      logger: deps.logger,
      onCreated: (batch) => {
        this.#hints.hint('notification.created'); // coalesced anyway: once per batch says the same
        return this.#pushes.created(batch);
      },
    });
    this.probes = createProbes({ sequelize: deps.sequelize, bus: deps.bus, metrics });
    this.#chores = new SocketChores({
      hub: this.hub,
      queries,
      tokens: deps.services.tokens,
      logger: deps.logger,
      instanceId: this.instanceId,
      sessionCheckMs: deps.sessionCheckMs ?? 30_000,
    });
    const { sends, courses } = deps.services;
    this.#sendProgress = new SendProgressPushes({ hub: this.hub, protocols, metrics, delivery: this.delivery, sends, courses });
    this.#connections = new Connections({
      hub: this.hub,
      limits: this.#limits,
      snapshots: this.#snapshots,
      chores: this.#chores,
      protocols,
      metrics,
      notifications,
      logger: deps.logger,
    });
  }

  // --- Channel: called by the dispatcher for every event, in bus order
  notify(n: NewNotifications, publishedAt: number): void {
    this.#received(publishedAt);
    if (!('batchId' in n)) {
      void this.delivery.created({ recipientId: n.recipientId, id: n.id, publishedAt });
      return;
    }
    this.#inOrder('notification.fanout', publishedAt, async () => {
      this.#hints.hint('notification.created');
      await this.#pushes.fanout(n.batchId, n.range);
    });
  }

  /**
   * A recorded send moved: admins' consoles refetch its progress (a hint, coalesced like the others); its sender's
   * tabs and the pages showing its course get it as it is now (coalesced per send).
   */
  sendProgress(progress: SendProgress, publishedAt: number): void {
    this.#received(publishedAt);
    this.#hints.hint('send.progress');
    this.#sendProgress.progress(progress);
  }

  readStateChanged(change: ReadStateChange, publishedAt: number): void {
    this.#received(publishedAt);
    const type = change.ids === 'all' ? 'notification.read_all' : 'notification.read';
    this.#inOrder(type, publishedAt, async () => {
      if (this.hub.hasUser(change.recipientId)) await this.#pushes.readState(change);
    });
  }

  removed(removal: Removal, publishedAt: number): void {
    this.#received(publishedAt);
    this.#inOrder('notification.deleted', publishedAt, async () => {
      if (this.hub.hasUser(removal.recipientId)) await this.#pushes.removed(removal);
    });
  }

  stateChanged(change: StateChange, publishedAt: number): void {
    this.#received(publishedAt);
    this.#inOrder('notification.state', publishedAt, async () => {
      if (this.hub.hasUser(change.recipientId)) await this.#pushes.stateChanged(change);
    });
  }

  /** A woken notification is pushed exactly as a new one (unread, on top), in order with them. */
  woken(w: Woken, publishedAt: number): void {
    this.#received(publishedAt);
    void this.delivery.created({ recipientId: w.recipientId, id: w.id, publishedAt });
  }

  /**
   * Its pushes (review row, counts, status chip) follow each other beside the main queue, so a decision never
   * overtakes the arrival it refers to, while an approval's two events (created, then changed) do not split every
   * batch of created events. The bell's notice and the row are independent pieces of the page.
   */
  applicationChanged(change: ApplicationChange, publishedAt: number): void {
    this.#received(publishedAt);
    this.#hints.hint('application.changed');
    void this.delivery.beside('application.changed', () => this.#applicationPushes.applicationChanged(change, publishedAt));
  }

  sessionsEnded(ended: SessionsEnded, publishedAt: number): void {
    this.#received(publishedAt);
    const ofUser = 'userId' in ended;
    void this.delivery.inOrder(ofUser ? 'user.sessions_ended' : 'session.ended', async () => {
      const { Unauthorized } = CloseCode;
      const closed = ofUser
        ? this.hub.closeUser(ended.userId, Unauthorized, 'session ended')
        : ended.sessionIds.reduce((n, sid) => n + this.hub.closeSession(sid, Unauthorized, 'session ended'), 0);
      if (closed > 0) this.metrics.closed.inc({ code: String(Unauthorized) }, closed);
      if (ofUser) this.#hints.hint('stats.changed');
    });
  }

  /** Events may have been missed while the bus was down: every socket here gets the truth again. */
  resync(): void {
    this.#snapshots.send([...this.hub.all()]).catch((err: unknown) => this.#d.logger.error({ err }, 'resync failed'));
  }

  /** Starts the socket chores. The dispatcher calls it before the bus starts, before the server listens. */
  async start(): Promise<void> {
    await this.#chores.start();
    current = this;
  }

  /** After the bus stopped (the sockets closed earlier, see closeSockets): the queue finishes. */
  async stop(): Promise<void> {
    await this.delivery.idle();
    if (current === this) current = undefined;
  }

  idle(): Promise<void> {
    return this.delivery.idle();
  }

  #received(publishedAt: number): void {
    this.metrics.busLag.observe(Math.max(0, Date.now() - publishedAt) / 1000);
  }

  /** Queued behind everything before it; its latency is observed once it has been handled. */
  #inOrder(type: string, publishedAt: number, fn: () => Promise<void>): void {
    void this.delivery.inOrder(type, async () => {
      await fn();
      this.metrics.pushLatency.observe({ event: type }, (Date.now() - publishedAt) / 1000);
    });
  }

  /** Serves /ws/notifications and /ws/bell on this HTTP server's upgrade event. */
  attach(server: Server): void {
    const ws = attachWebSockets(server, {
      config: this.#d.config,
      session: this.#d.session,
      auth: this.#d.services.auth,
      tokens: this.#d.services.tokens,
      sink: this.#connections,
      logger: this.#d.logger,
      limits: this.#limits,
    });
    this.#detach.push(() => ws.close());
  }

  /** `GET /api/notifications/stream/`: one more kind of connection, fed exactly like a JSON socket. */
  open(res: Response, identity: Omit<Identity, 'protocol'>, since: number | undefined): void {
    openEventStream(this.#connections, res, identity, since, { ...DEFAULT_SSE_LIMITS, ...this.#d.sseLimits });
  }

  /** Open sockets across all processes: ours live, the others' as last reported (stale reports are ignored). */
  openSocketCount(): Promise<number> {
    return this.#chores.openSocketCount();
  }

  /**
   * Graceful stop, first half: clients are told 1012 (hx-ws reconnects, to another process if there is one), no
   * new socket is accepted and the presence row goes away. The bus stays up: call this before waiting for the
   * HTTP server to drain, then stop the dispatcher (bus, then channels).
   */
  async closeSockets(): Promise<void> {
    this.#connections.stop();
    this.#chores.stop();
    this.hub.closeAll(CloseCode.ServiceRestart, 'server restart');
    this.#hints.close();
    await Promise.all(this.#detach.splice(0).map((off) => off()));
    await this.delivery.idle();
    await this.#queries.removePresence(this.instanceId).catch(() => undefined);
  }
}

export function createRealtime(deps: RealtimeDeps): Realtime {
  return new Realtime(deps);
}

let current: Realtime | undefined;

/**
 * Open WebSocket connections across the whole deployment, for the admin API. Each process records its count in
 * `realtime_presence` every few seconds; this sums the fresh rows plus this process's live count. Answers 0 in a
 * process without a started realtime layer (tests of the API alone).
 */
export async function openSocketCount(): Promise<number> {
  return current ? current.openSocketCount() : 0;
}
