import type { Logger } from '../../logger';
import type { EventPublisher, HeraldEvent } from '../../services/events';
import { PgBus } from './pg';
import { RedisBus } from './redis';

export { LocalBus } from './local';
export { PgBus } from './pg';
export { RedisBus } from './redis';

/** A received event and when its publisher sent it (epoch ms), for the latency metrics. */
export type BusHandler = (event: HeraldEvent, publishedAt: number) => void;

/**
 * Carries events from the committing process to every process, itself included. Services publish into it (it
 * is their EventPublisher); the dispatcher (server/channels) subscribes. Delivery is at most once: after a
 * reconnect `onResync` fires, because events may have been missed, and the channels send the truth again.
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

/** PostgreSQL unless REDIS_URL is configured. */
export function createBus(opts: { databaseUrl: string; redisUrl?: string; logger: Pick<Logger, 'warn' | 'error' | 'info' | 'debug'> }): Bus {
  if (!opts.redisUrl) return new PgBus(opts.databaseUrl, opts.logger);
  return new RedisBus(opts.redisUrl, opts.logger, new URL(opts.databaseUrl).pathname.slice(1) || 'herald');
}
