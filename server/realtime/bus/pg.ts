import { Client, Pool } from 'pg';
import type { Logger } from '../../logger';
import type { HeraldEvent } from '../../services/events';
import { BaseBus, withTimeout } from './base';
import type { Bus } from './index';

/** At most this many NOTIFYs per statement (the PostgreSQL notify queue takes them all in one commit). */
const PUBLISH_BATCH = 500;

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
