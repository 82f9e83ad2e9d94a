import type { Logger } from '../logger';

/** One `notification.created`: the recipient, the notification and when its event was published. */
export interface CreatedItem {
  recipientId: number;
  id: number;
  publishedAt: number;
}

/**
 * The in-app channel's ordered queue: pushes go out one event at a time, in the order the bus delivered them, so a
 * user never sees "read" overtake the "new" it refers to. It knows nothing of sockets or frames: callers hand it
 * work, and it decides only the order and the batching.
 *
 * - `created(item)`: consecutive new notifications that queue up while earlier work runs join one batch, handed to
 *   `onCreated` at once (approvals under load: one pair of queries per batch instead of one per notice).
 * - `inOrder(fn)`: any other event; it closes the open batch, so what comes after it starts a new one.
 * - `beside(fn)`: a chain of its own, in order among its kind but never splitting a batch of the main chain
 *   (application rows and counts: independent pieces of the page).
 *
 * Never rejects: a failed step is logged and the next one still runs.
 */
export class DeliveryQueue {
  readonly #onCreated: (batch: CreatedItem[]) => Promise<void>;
  readonly #logger: Pick<Logger, 'error'>;
  #chain: Promise<void> = Promise.resolve();
  #beside: Promise<void> = Promise.resolve();
  /** The batch waiting at the tail of the chain, still open to new items. */
  #open: CreatedItem[] | null = null;

  constructor(deps: { onCreated: (batch: CreatedItem[]) => Promise<void>; logger: Pick<Logger, 'error'> }) {
    this.#onCreated = deps.onCreated;
    this.#logger = deps.logger;
  }

  created(item: CreatedItem): Promise<void> {
    if (this.#open) {
      this.#open.push(item);
      return this.#chain; // the open batch is the tail of the chain
    }
    const batch = [item];
    const done = this.inOrder('notification.created', () => {
      if (this.#open === batch) this.#open = null; // from here on, new items start the next batch
      return this.#onCreated(batch);
    });
    this.#open = batch;
    return done;
  }

  inOrder(type: string, fn: () => Promise<void>): Promise<void> {
    this.#open = null; // anything queued after this starts a new batch

    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#logger.error({ err, type }, 'realtime push failed'));
    return this.#chain;
  }

  beside(type: string, fn: () => Promise<void>): Promise<void> {
    this.#beside = this.#beside.then(fn).catch((err: unknown) => this.#logger.error({ err, type }, 'realtime push failed'));
    return this.#beside;
  }

  /** Resolves once everything queued so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([this.#chain, this.#beside]);
  }
}
