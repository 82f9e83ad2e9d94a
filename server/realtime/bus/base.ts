import { EventEmitter } from 'node:events';
import type { Logger } from '../../logger';
import type { HeraldEvent } from '../../services/events';
import type { BusHandler } from './index';

/** The wire format: the event plus its publish time. Kept tiny (NOTIFY payloads are capped at 8000 bytes). */
export interface Envelope {
  t: number;
  e: HeraldEvent;
}

const MAX_PAYLOAD = 7_900;

export abstract class BaseBus extends EventEmitter {
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

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
