import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Server } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { Renderer } from '../web/render';
import type { Bus } from './bus';
import { CloseCode } from './codes';
import { Delivery } from './delivery';
import { Hub, type Connection } from './hub';
import { RealtimeMetrics } from './metrics';
import { createProbes } from './probes';
import { RealtimeQueries } from './queries';
import { attachWebSockets, DEFAULT_LIMITS, type ConnectionSink, type WsLimits } from './ws';

export { createBus, LocalBus, PgBus, RedisBus, type Bus } from './bus';
export { CloseCode } from './codes';
export { Hub, Connection, type Socket, type Identity, type Protocol } from './hub';

/** Everything the realtime layer needs from the process. */
export interface RealtimeDeps {
  config: Config;
  logger: Logger;
  sequelize: Sequelize;
  services: Services;
  /** The same bus the services publish into. The realtime layer starts and stops it. */
  bus: Bus;
  /** The express-session middleware the app uses; upgrades are authenticated with it. */
  session: RequestHandler;
  renderer?: Renderer;
  limits?: Partial<WsLimits>;
  /** How often open sockets' sessions are re-checked (expired or destroyed ones are closed). */
  sessionCheckMs?: number;
  /** How often this process records its socket count for the cluster-wide total. */
  presenceMs?: number;
  /** Node's default process metrics on /metrics (off in tests, which build many registries). */
  defaultMetrics?: boolean;
}

/**
 * The realtime layer of one process: hub, delivery, ws adapter, probes and the periodic chores. Subscribes to the
 * bus; the services never see it.
 */
export class Realtime implements ConnectionSink {
  readonly hub = new Hub();
  readonly metrics: RealtimeMetrics;
  readonly delivery: Delivery;
  readonly bus: Bus;
  /** /metrics and /readyz, to pass to createApp as `probes`. */
  readonly probes: Router;
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #d: RealtimeDeps;
  readonly #queries: RealtimeQueries;
  readonly #limits: WsLimits;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #detach: Array<() => void | Promise<void>> = [];
  #stopping = false;

  constructor(deps: RealtimeDeps) {
    this.#d = deps;
    this.bus = deps.bus;
    this.#limits = { ...DEFAULT_LIMITS, ...deps.limits };
    this.#queries = new RealtimeQueries(deps.sequelize);
    this.metrics = new RealtimeMetrics(this.hub, { defaultMetrics: deps.defaultMetrics, busHealthy: () => deps.bus.isHealthy() });
    this.delivery = new Delivery({
      hub: this.hub,
      notifications: deps.services.notifications,
      queries: this.#queries,
      renderer: deps.renderer ?? new Renderer(),
      metrics: this.metrics,
      logger: deps.logger,
    });
    this.probes = createProbes({ sequelize: deps.sequelize, bus: deps.bus, metrics: this.metrics });
  }

  /** Connects the bus and starts the chores. Call before the server listens. */
  async start(): Promise<void> {
    this.#detach.push(
      this.bus.subscribe((event, publishedAt) => {
        this.metrics.busLag.observe(Math.max(0, Date.now() - publishedAt) / 1000);
        void this.delivery.enqueue(event, publishedAt);
      }),
      this.bus.onResync(() => {
        // Events may have been missed while the bus was down: everyone gets the truth again.
        this.delivery.snapshot([...this.hub.all()]).catch((err: unknown) => this.#d.logger.error({ err }, 'resync failed'));
      }),
    );
    await this.bus.start();
    this.#every(this.#d.sessionCheckMs ?? 30_000, () => this.#checkSessions());
    this.#every(this.#d.presenceMs ?? 5_000, () => this.#queries.reportPresence(this.instanceId, this.hub.size));
    await this.#queries.reportPresence(this.instanceId, 0).catch(() => undefined);
    current = this;
  }

  /** Serves /ws/notifications and /ws/bell on this HTTP server's upgrade event. */
  attach(server: Server): void {
    const ws = attachWebSockets(server, {
      config: this.#d.config,
      session: this.#d.session,
      auth: this.#d.services.auth,
      sink: this,
      logger: this.#d.logger,
      limits: this.#limits,
    });
    this.#detach.push(() => ws.close());
  }

  // --- ConnectionSink: called by the ws adapter
  connected(c: Connection, since: number | undefined): void {
    if (this.#stopping) return c.close(CloseCode.ServiceRestart, 'server restart');
    // A reload loop or a runaway script must not pin unbounded sockets (and memory) here. Counted per process.
    // 1008: hx-ws does not retry it, so a surplus tab stays quiet instead of knocking again and again.
    if (this.hub.sessionSize(c.sessionId) >= this.#limits.maxSocketsPerSession) {
      return c.close(CloseCode.PolicyViolation, 'too many connections for this session');
    }
    if ((this.hub.of(c.userId)?.size ?? 0) >= this.#limits.maxSocketsPerUser) {
      return c.close(CloseCode.PolicyViolation, 'too many connections for this user');
    }
    this.hub.add(c);
    // A failed snapshot closes its connection itself (1011: hx-ws retries, and the retry gets a new snapshot).
    this.delivery
      .snapshot([c], since === undefined ? undefined : new Map([[c, since]]))
      .catch((err: unknown) => this.#d.logger.error({ err }, 'snapshot failed'));
  }

  message(c: Connection, text: string): void {
    this.delivery.message(c, text).catch((err: unknown) => {
      this.#d.logger.error({ err }, 'websocket message failed');
      c.sendNow('{"type":"error","code":"internal","message":"Something went wrong."}');
    });
  }

  disconnected(c: Connection): void {
    this.hub.remove(c);
  }

  closedByServer(code: number): void {
    this.metrics.closed.inc({ code: String(code) });
  }

  /** Open sockets across all processes: ours live, the others' as last reported (stale reports are ignored). */
  async openSocketCount(): Promise<number> {
    const staleMs = Math.max(15_000, 3 * (this.#d.presenceMs ?? 5_000));
    return this.hub.size + (await this.#queries.otherSockets(this.instanceId, staleMs));
  }

  /** Sessions that expired or were destroyed without an event (store pruning, a DELETE by hand) close too. */
  async #checkSessions(): Promise<void> {
    const sids = this.hub.sessionIds();
    for (let i = 0; i < sids.length; i += 1000) {
      const chunk = sids.slice(i, i + 1000);
      const live = await this.#queries.liveSessions(chunk);
      for (const sid of chunk) if (!live.has(sid)) this.hub.closeSession(sid, CloseCode.Unauthorized, 'session ended');
    }
  }

  #every(ms: number, fn: () => Promise<unknown>) {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => this.#d.logger.warn({ err }, 'realtime chore failed'))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    this.#timers.push(t);
  }

  /**
   * Graceful stop, first half: clients are told 1012 (hx-ws reconnects, to another process if there is one), no
   * new socket is accepted and the presence row goes away. The bus stays up: call this before waiting for the
   * HTTP server to drain, then `stopBus()`.
   */
  async closeSockets(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    this.hub.closeAll(CloseCode.ServiceRestart, 'server restart');
    this.delivery.close();
    await Promise.all(this.#detach.splice(0).map((off) => off()));
    await this.delivery.idle();
    await this.#queries.removePresence(this.instanceId).catch(() => undefined);
  }

  /**
   * Graceful stop, second half: after the HTTP server drained, because requests still running commit and then
   * publish, and on a stopped bus their events would be dropped for every process. Before the pools close.
   */
  async stopBus(): Promise<void> {
    await this.bus.stop();
    if (current === this) current = undefined;
  }

  /** Both halves at once, for a process with no requests to drain (tests, tools). */
  async close(): Promise<void> {
    await this.closeSockets();
    await this.stopBus();
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
