import { EventEmitter } from 'node:events';
import type { NotificationType } from '../models';
import type { SendStatus } from '../wire/sends';

/**
 * What services announce after their transaction commits. Payloads stay small (ids, not rows): they cross
 * process boundaries on the bus, and PostgreSQL NOTIFY payloads are limited to 8 kB.
 */
export type HeraldEvent =
  | { type: 'notification.created'; recipientId: number; id: number }
  | {
      type: 'notification.fanout';
      batchId: string;
      count: number;
      courseId: number | null;
      notificationType: NotificationType;
      /** A chunk of a recorded send: only its recipients, ids in (after, upTo], get frames. Absent: the whole batch. */
      range?: { after: number; upTo: number };
    }
  /** A recorded send moved: started, a chunk committed, finished or cancelled (the sender's progress). */
  | {
      type: 'broadcast.progress';
      batchId: string;
      status: SendStatus;
      recipients: number;
      total: number | null;
      senderId: number | null;
      courseId: number | null;
    }
  // position (state changes): the change's place in delivery order (store/replay.ts); live frames carry it, so a
  // tab's resume point covers it. Optional: an event published by an older process has none.
  | { type: 'notification.read'; recipientId: number; ids: number[]; position?: number }
  | { type: 'notification.read_all'; recipientId: number; position?: number }
  // groupKeys: the shared groups the deleted rows were in (they can no longer say it), for the live group lines.
  | { type: 'notification.deleted'; recipientId: number; ids: number[]; groupKeys?: string[]; position?: number }
  /** Done, undone, marked unread or snoozed (read and deleted keep their own events above). */
  | { type: 'notification.state'; recipientId: number; ids: number[]; state: NotificationState; position?: number }
  /** A snoozed notification's time came: it is unread again, on top. Announced like a new one, by id. */
  | { type: 'notification.woken'; recipientId: number; id: number }
  /** Carries the two people it concerns, so a process with neither of them connected skips the read. */
  | {
      type: 'application.changed';
      applicationId: number;
      status: string;
      courseId: number;
      instructorId: number;
      candidateId: number;
    }
  /** A session ended (logout) or all of a user's sessions did (deactivation, role drop): close their sockets. */
  | { type: 'session.ended'; sessionIds: string[] }
  | { type: 'user.sessions_ended'; userId: number }
  /** Personal access tokens were revoked: the sockets and streams opened with them close. */
  | { type: 'token.revoked'; tokenIds: number[] };

/** The states `notification.state` announces. */
export type NotificationState = 'unread' | 'done' | 'undone' | 'snoozed';

/** The port services publish through. The realtime layer supplies a cross-process implementation. */
export interface EventPublisher {
  publish(event: HeraldEvent): void;
}

/** In-process publisher: enough for a single process and for tests; the bus wraps or replaces it. */
export class LocalEvents extends EventEmitter implements EventPublisher {
  publish(event: HeraldEvent): void {
    this.emit('event', event);
  }
  subscribe(fn: (event: HeraldEvent) => void): () => void {
    this.on('event', fn);
    return () => this.off('event', fn);
  }
}
