import type { Logger } from '../../logger';
import type { HeraldEvent, LocalEvents } from '../../services/events';
import { BaseBus } from './base';
import type { Bus } from './index';

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
