import type { User } from '../../models';
import { NotFound } from '../../errors';
import type { EventPublisher } from '../events';
import type { SendRecord, SendStore } from './store/sends';

export { SEND_STATUSES, SEND_TASK, type SendRecord, type SendStatus } from './store/sends';

/** Where a send switches from one statement to recorded chunks, and how big a chunk is. */
export interface SendLimits {
  /** SEND_INLINE_MAX: an audience up to this size is one statement (all or none), above it a recorded send. */
  inlineMax: number;
  /** SEND_CHUNK_SIZE: recipients per chunk transaction. */
  chunkSize: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = { inlineMax: 10_000, chunkSize: 1_000 };

/** Test seams: where a simulated crash can happen in a chunk (a throw here is what a kill -9 leaves behind). */
export interface SendHooks {
  /** Inside the chunk's transaction, after its statement: a throw rolls the chunk back. */
  beforeCommit?: (chunk: number) => Promise<void>;
  /** After the chunk committed, before its frames are published. */
  afterCommit?: (chunk: number) => Promise<void>;
}

/**
 * Recorded sends (issue 17): the job's work, chunk by chunk, and what their senders see and do (status, cancel).
 * Every chunk commits before anything is published; the broadcast row's cursor is the only memory a resumed job
 * needs, whichever process runs it.
 */
export class SendService {
  readonly #store: SendStore;
  readonly #events: EventPublisher;
  readonly #limits: SendLimits;

  constructor(deps: { store: SendStore; events: EventPublisher; limits: SendLimits }) {
    this.#store = deps.store;
    this.#events = deps.events;
    this.#limits = deps.limits;
  }

  /**
   * The job: runs a recorded send to its end (or its cancel), from wherever its last committed chunk left it.
   * Safe to run again at any point: a chunk's rows are unique per (send, recipient), its cursor commits with them,
   * and a chunk committed but perhaps not published (`pushed_to` behind `cursor`) is published again first (the
   * realtime layer drops a chunk it already pushed).
   */
  async run(batchId: string, hooks: SendHooks = {}): Promise<SendRecord | undefined> {
    let send = await this.#store.start(batchId);
    if (!send) return undefined;
    if (send.pushedTo < send.cursor) {
      this.#publishChunk(send, send.pushedTo, send.cursor);
      await this.#store.markPushed(send.id, send.cursor);
    }
    // Started now, or already over (a job that died after the last chunk: its "finished" may never have gone out).
    if (send.status !== 'running') {
      send = await this.#counted(send);
      this.#progress(send);
      return send;
    }
    this.#progress(send);
    for (let n = 1; ; n++) {
      const chunk = await this.#store.chunk(batchId, this.#limits.chunkSize, {
        beforeCommit: hooks.beforeCommit && (() => hooks.beforeCommit!(n)),
      });
      if (!chunk) return this.#store.get(batchId); // cancelled (or deleted) meanwhile
      send = chunk.send;
      await hooks.afterCommit?.(n);
      // A chunk that wrote nothing (every row existed, or nobody there) has no frame to send.
      if (chunk.inserted > 0) this.#publishChunk(send, chunk.after, chunk.upTo);
      // The first frames are out: now the audience is counted, for the progress.
      send = await this.#counted(send);
      if (send.status !== 'running') {
        await this.#store.markPushed(send.id, send.cursor);
        this.#progress(send);
        return send;
      }
      this.#progress(send);
    }
  }

  /** A send as it is now, with no actor scope: the realtime layer decides who hears of it (its sender, the course's managers). */
  find(id: string): Promise<SendRecord | undefined> {
    return this.#store.get(id);
  }

  /** A send's progress: an admin sees any, anyone else only their own (another's is a 404). */
  async status(user: User, id: string): Promise<SendRecord> {
    const send = await this.#store.get(id);
    if (!send || (user.role !== 'admin' && send.senderId !== user.id)) throw new NotFound('Send');
    return send;
  }

  /** Stops further chunks; what was written stays. A finished send answers as it is. */
  async cancel(user: User, id: string): Promise<SendRecord> {
    await this.status(user, id);
    const send = await this.#store.cancel(id);
    if (!send) throw new NotFound('Send');
    if (send.status === 'cancelled') this.#progress(send);
    return send;
  }

  /** The send with its audience counted (once per send, see SendStore.count). */
  async #counted(send: SendRecord): Promise<SendRecord> {
    return send.total === null ? ((await this.#store.count(send.id)) ?? send) : send;
  }

  #publishChunk(send: SendRecord, after: number, upTo: number): void {
    this.#events.publish({
      type: 'notification.fanout',
      batchId: send.id,
      count: send.recipients,
      courseId: send.courseId,
      notificationType: send.type,
      range: { after, upTo },
    });
  }

  #progress(send: SendRecord): void {
    this.#events.publish({
      type: 'broadcast.progress',
      batchId: send.id,
      status: send.status,
      recipients: send.recipients,
      total: send.total,
      senderId: send.senderId,
      courseId: send.courseId,
    });
  }
}
