import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { Client, Pool } from 'pg';
import type { Logger } from '../logger';
import type { EventPublisher, HeraldEvent, LocalEvents } from '../services/events';

/** A received event and when its publisher sent it (epoch ms), for the latency metrics. */
export type BusHandler = (event: HeraldEvent, publishedAt: number) => void;

/**
 * Carries events from the committing process to every process, itself included. Services publish into it (it
 * is their EventPublisher); the realtime layer subscribes. Delivery is at most once: after a reconnect
 * `onResync` fires, because events may have been missed, and the hub answers with fresh snapshots.
 */
export interface Bus extends EventPublisher {
  readonly kind: 'pg' | 'redis' | 'local';
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribe(fn: BusHandler): () => void;
  onResync(fn: () => void): () => void;
  /** Connected and listening right now. */
  isHealthy(): boolean;
  /** Round trip to the broker; rejects when it is unreachable (readiness). */
  ping(): Promise<void>;
}

/** The wire format: the event plus its publish time. Kept tiny (NOTIFY payloads are capped at 8000 bytes). */
interface Envelope {
  t: number;
  e: HeraldEvent;
}

const MAX_PAYLOAD = 7_900;
/** At most this many NOTIFYs per statement (the PostgreSQL notify queue takes them all in one commit). */
const PUBLISH_BATCH = 500;

abstract class BaseBus extends EventEmitter {
  protected readonly log: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>;
  constructor(log: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>) {
    super();
    this.setMaxListeners(0);
    this.log = log;
  }
  subscribe(fn: BusHandler): () => void {
    this.on('event', fn);
    return () => this.off('event', fn);
  }
  onResync(fn: () => void): () => void {
    this.on('resync', fn);
    return () => this.off('resync', fn);
  }
  protected encode(event: HeraldEvent): string | null {
    const payload = JSON.stringify({ t: Date.now(), e: event } satisfies Envelope);
    if (payload.length > MAX_PAYLOAD) {
      // A bug upstream (payloads are ids), not a condition to limp through: say so loudly.
      this.log.error({ type: event.type, bytes: payload.length }, 'bus payload too large; event dropped');
      return null;
    }
    return payload;
  }
  protected receive(payload: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(payload) as Envelope;
    } catch {
      this.log.warn('unparseable bus message ignored');
      return;
    }
    if (!env || typeof env.e?.type !== 'string') return;
    try {
      this.emit('event', env.e, typeof env.t === 'number' ? env.t : Date.now());
    } catch (err) {
      this.log.error({ err, type: env.e.type }, 'bus handler failed');
    }
  }
}

/**
 * PostgreSQL LISTEN/NOTIFY: no extra infrastructure, works with the embedded database. One dedicated client
 * listens (a pooled connection could be handed back and lose the LISTEN); a one-connection pool notifies, which
 * also keeps one process's events in publish order.
 */
export class PgBus extends BaseBus implements Bus {
  readonly kind = 'pg' as const;
  static readonly CHANNEL = 'herald_events';
  readonly #url: string;
  readonly #publisher: Pool;
  #listener: Client | null = null;
  #healthy = false;
  #stopped = false;
  #everConnected = false;
  #attempt = 0;
  #retry: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  readonly #heartbeatMs: number;
  /** Payloads published while the previous NOTIFY was in flight. */
  #outbox: string[] = [];
  #flushing: Promise<void> | null = null;

  constructor(url: string, log: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>, opts: { heartbeatMs?: number } = {}) {
    super(log);
    this.#url = url;
    this.#heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.#publisher = new Pool({ connectionString: url, max: 1, application_name: 'herald-bus-pub' });
    this.#publisher.on('error', () => undefined); // an idle connection dropping is not fatal; the next query reconnects
  }

  /**
   * A NOTIFY costs a transaction commit (PostgreSQL assigns it an xid and flushes the commit record), one at a
   * time on the publishing connection: at about 1,000 events/s (approvals under load, two events each) that
   * commit was the queue frames waited in. So the first event goes out at once, and whatever is published
   * while a NOTIFY is in flight goes out with the next one: many pg_notify calls in one statement, in publish
   * order, one commit. (PostgreSQL folds identical payloads on one channel within one transaction; a payload
   * carries its publish time in ms, so only the same event published twice in one millisecond could fold, and
   * every event here is idempotent.)
   */
  publish(event: HeraldEvent): void {
    const payload = this.encode(event);
    if (payload === null) return;
    this.#outbox.push(payload);
    this.#flushing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#outbox.length > 0) {
        const batch = this.#outbox.splice(0, PUBLISH_BATCH);
        try {
          if (batch.length === 1) await this.#publisher.query('SELECT pg_notify($1, $2)', [PgBus.CHANNEL, batch[0]]);
          else await this.#publisher.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [PgBus.CHANNEL, batch]);
        } catch (err) {
          this.log.error({ err, events: batch.length }, 'bus publish failed');
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new Client({ connectionString: this.#url, application_name: 'herald-bus', keepAlive: true });
    const lost = (err?: unknown) => {
      if (this.#listener !== client) return;
      this.#listener = null;
      this.#healthy = false;
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      client.end().catch(() => undefined);
      if (this.#stopped) return;
      this.log.warn({ err }, 'bus connection lost; reconnecting');
      this.#scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      if (msg.channel === PgBus.CHANNEL && msg.payload) this.receive(msg.payload);
    });
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${PgBus.CHANNEL}`);
    } catch (err) {
      if (this.#listener === client) {
        this.#listener = null;
        client.end().catch(() => undefined);
      }
      if (!this.#everConnected && this.#attempt === 0 && !this.#stopped) throw err; // boot fails loudly
      if (!this.#stopped) this.#scheduleReconnect();
      return;
    }
    const wasReconnect = this.#everConnected;
    this.#everConnected = true;
    this.#healthy = true;
    this.#attempt = 0;
    this.#heartbeat = setInterval(() => {
      // A half-open TCP connection never errors by itself; a query that does not come back exposes it.
      withTimeout(client.query('SELECT 1'), 5_000).catch((err) => lost(err));
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
    if (wasReconnect) {
      this.log.info('bus reconnected; resending snapshots');
      this.emit('resync');
    }
  }

  #scheduleReconnect(): void {
    if (this.#retry || this.#stopped) return;
    this.#attempt += 1;
    const delay = Math.min(100 * 2 ** (this.#attempt - 1), 5_000) * (0.8 + Math.random() * 0.4);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#connect();
    }, delay);
  }

  isHealthy(): boolean {
    return this.#healthy;
  }

  async ping(): Promise<void> {
    if (!this.#healthy || !this.#listener) throw new Error('bus not connected');
    await withTimeout(this.#listener.query('SELECT 1'), 2_000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#healthy = false;
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const l = this.#listener;
    this.#listener = null;
    // Events published just before stopping still go out (as they did when each was its own pool query).
    if (this.#flushing) await withTimeout(this.#flushing, 2_000).catch(() => undefined);
    await Promise.allSettled([l?.end(), this.#publisher.end()]);
  }
}

/**
 * Redis pub/sub, when REDIS_URL is set. ioredis reconnects by itself (and resubscribes); a second `ready` on the
 * subscriber means we were cut off, so it triggers a resync.
 */
export class RedisBus extends BaseBus implements Bus {
  readonly kind = 'redis' as const;
  readonly channel: string;
  readonly #sub: Redis;
  readonly #pub: Redis;
  #everReady = false;

  /**
   * `namespace` separates deployments (and test databases) sharing one Redis: processes on the same database
   * share a channel, others never see each other's events. PostgreSQL channels are per-database already.
   */
  constructor(url: string, log: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>, namespace = 'herald') {
    super(log);
    this.channel = `herald:events:${namespace}`;
    const opts = {
      lazyConnect: true,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 5_000),
      // Publishes wait in ioredis's offline queue (in order) while reconnecting instead of failing after 20 tries.
      maxRetriesPerRequest: null,
      connectionName: `herald-bus-${process.pid}`,
    };
    this.#sub = new Redis(url, opts);
    this.#pub = new Redis(url, opts);
    for (const r of [this.#sub, this.#pub]) r.on('error', (err) => this.log.debug({ err }, 'redis bus error'));
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    this.#sub.on('ready', () => {
      if (this.#everReady) {
        this.log.info('bus reconnected; resending snapshots');
        this.emit('resync');
      }
      this.#everReady = true;
    });
    this.#sub.on('close', () => {
      if (this.#everReady) this.log.warn('bus connection lost; reconnecting');
    });
  }

  publish(event: HeraldEvent): void {
    const payload = this.encode(event);
    if (payload === null) return;
    this.#pub.publish(this.channel, payload).catch((err: unknown) => this.log.error({ err, type: event.type }, 'bus publish failed'));
  }

  async start(): Promise<void> {
    await Promise.all([this.#sub.connect(), this.#pub.connect()]);
    await this.#sub.subscribe(this.channel);
  }

  isHealthy(): boolean {
    return this.#sub.status === 'ready' && this.#pub.status === 'ready';
  }

  async ping(): Promise<void> {
    if (!this.isHealthy()) throw new Error('bus not connected');
    await withTimeout(this.#pub.ping(), 2_000);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.#sub.quit(), this.#pub.quit()]);
    this.#sub.disconnect();
    this.#pub.disconnect();
  }
}

/** In-process bus over LocalEvents: a single process without cross-process delivery, and the in-process tests. */
export class LocalBus extends BaseBus implements Bus {
  readonly kind = 'local' as const;
  readonly #local: LocalEvents;
  #off: (() => void) | null = null;

  constructor(local: LocalEvents, log: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'>) {
    super(log);
    this.#local = local;
  }
  publish(event: HeraldEvent): void {
    this.#local.publish(event);
  }
  async start(): Promise<void> {
    this.#off ??= this.#local.subscribe((e) => {
      try {
        this.emit('event', e, Date.now());
      } catch (err) {
        this.log.error({ err, type: e.type }, 'bus handler failed');
      }
    });
  }
  async stop(): Promise<void> {
    this.#off?.();
    this.#off = null;
  }
  isHealthy(): boolean {
    return this.#off !== null;
  }
  async ping(): Promise<void> {}
}

/** PostgreSQL unless REDIS_URL is configured. */
export function createBus(opts: { databaseUrl: string; redisUrl?: string; logger: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'> }): Bus {
  if (!opts.redisUrl) return new PgBus(opts.databaseUrl, opts.logger);
  return new RedisBus(opts.redisUrl, opts.logger, new URL(opts.databaseUrl).pathname.slice(1) || 'herald');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
