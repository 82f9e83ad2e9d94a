import { Redis } from 'ioredis';
import type { Logger } from '../../logger';
import type { HeraldEvent } from '../../services/events';
import { BaseBus, withTimeout } from './base';
import type { Bus } from './index';

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
