import type { Sequelize } from 'sequelize';
import type { Logger } from '../../logger';
import type { ApplicationChange, Channel, NewNotifications, ReadStateChange, SendProgress } from '../channel';
import { enqueueWebhookEvent } from './enqueue';
import { applicationEvent, notificationEvent, readEvent, type WebhookEvent } from './events';

/**
 * The webhooks channel: each event becomes one statement that writes a delivery and a keyed job per matching
 * endpoint (see `enqueueWebhookEvent`); the worker sends them (`webhook:deliver`). Every process's dispatcher
 * hands it the same events; the outbox's unique (endpoint, event id) keeps that to one delivery.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhooks';
  readonly needsJobQueue = true;
  readonly #db: Sequelize;
  readonly #logger: Pick<Logger, 'error'>;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: { sequelize: Sequelize; logger: Pick<Logger, 'error'> }) {
    this.#db = deps.sequelize;
    this.#logger = deps.logger;
  }

  notify(n: NewNotifications, publishedAt: number): void {
    // A recorded send's chunks are not the broadcast: it is announced once, whole, when it finishes (below).
    if ('range' in n && n.range) return;
    this.#enqueue(notificationEvent(n, publishedAt));
  }

  /** A recorded send that finished is `broadcast.sent`, with every recipient counted (same event id as inline). */
  sendProgress(p: SendProgress, publishedAt: number): void {
    if (p.status === 'finished') this.#enqueue(notificationEvent({ batchId: p.batchId }, publishedAt));
  }

  readStateChanged(change: ReadStateChange, publishedAt: number): void {
    this.#enqueue(readEvent(change, publishedAt));
  }

  /** Deleting one's notifications is no event a webhook offers. */
  removed(): void {}

  applicationChanged(change: ApplicationChange, publishedAt: number): void {
    this.#enqueue(applicationEvent(change, publishedAt));
  }

  async start(): Promise<void> {}

  stop(): Promise<void> {
    return this.idle();
  }

  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all(this.#pending);
  }

  #enqueue(event: WebhookEvent): void {
    const p = enqueueWebhookEvent(this.#db, event).then(
      () => undefined,
      (err: unknown) => this.#logger.error({ err, eventType: event.type, eventId: event.id }, 'webhook enqueue failed'),
    );
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}
