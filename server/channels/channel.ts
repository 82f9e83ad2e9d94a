import type { HeraldEvent, NotificationState } from '../services/events';

/** New notifications: one for one recipient, or a whole fan-out batch (one statement wrote a row per recipient). */
export type NewNotifications =
  | { recipientId: number; id: number }
  /** A fan-out; `range`: one chunk of a recorded send, its recipients with ids in (after, upTo] only. */
  | { batchId: string; range?: { after: number; upTo: number } };

/** A recorded send's progress (issue 17): how many rows so far of how many, and its state (the event, as published). */
export type SendProgress = Omit<Extract<HeraldEvent, { type: 'broadcast.progress' }>, 'type'>;

/** Notifications of one user were read: these ids, or all of them ("mark all as read"). */
export interface ReadStateChange {
  recipientId: number;
  ids: number[] | 'all';
  /** The change's position in delivery order (see server/services/notifications/store/replay.ts). */
  position?: number;
}

/** Notifications of one user were done, undone, marked unread or snoozed. */
export interface StateChange {
  recipientId: number;
  ids: number[];
  state: NotificationState;
  position?: number;
}

/** A snoozed notification woke: unread again, on top of the lists. */
export interface Woken {
  recipientId: number;
  id: number;
}

/** Notifications of one user were deleted. */
export interface Removal {
  recipientId: number;
  ids: number[];
  /** The shared groups the rows were in (the first event of a delete carries them): their lines follow. */
  groupKeys?: string[];
  position?: number;
}

/** An application arrived or was decided; carries the two people it concerns. */
export type ApplicationChange = Omit<Extract<HeraldEvent, { type: 'application.changed' }>, 'type'>;

/** Sessions ended (a logout), or every session of one user did (deactivation, role change). */
export type SessionsEnded = { sessionIds: string[] } | { userId: number };

/**
 * One way of reaching people (in-app sockets today; email, Web Push, webhooks, an event stream next). The
 * dispatcher hands every committed event to every channel; each decides, set-based, who it concerns and what to
 * send. Every method gets `publishedAt` (epoch ms, when the event was published after its commit) for latency
 * metrics.
 *
 * The calls return at once: a channel queues the work itself (in order, in memory, for in-app; on the job queue
 * for durable channels), so a slow channel never holds up the others. `idle()` says when the queued work is done.
 */
export interface Channel {
  /** Short and stable: logs, metrics and (later) delivery records use it. */
  readonly name: string;
  /**
   * True when its sends must survive a restart and be retried (email, push, webhooks): it enqueues keyed jobs on
   * the PostgreSQL job queue instead of sending from the event. False for in-process delivery (sockets, streams).
   */
  readonly needsJobQueue: boolean;

  notify(n: NewNotifications, publishedAt: number): void;
  readStateChanged(change: ReadStateChange, publishedAt: number): void;
  removed(removal: Removal, publishedAt: number): void;
  /** The inbox states (issue 14). Channels that only deliver new notifications ignore them. */
  stateChanged?(change: StateChange, publishedAt: number): void;
  /** A snoozed notification is back: channels that show a list show it again (not a new delivery). */
  woken?(woken: Woken, publishedAt: number): void;
  applicationChanged(change: ApplicationChange, publishedAt: number): void;
  /** A recorded send moved (its sender's progress); channels with nothing to show for it ignore it. */
  sendProgress?(progress: SendProgress, publishedAt: number): void;
  /** Channels that hold connections for a session close them; the others ignore it. */
  sessionsEnded?(ended: SessionsEnded, publishedAt: number): void;
  /** The bus reconnected: events may have been missed. Channels that keep clients up to date send the truth again. */
  resync?(): void;

  /** Before the first event (timers, workers). */
  start(): Promise<void>;
  /** After the last event: the bus has stopped. Finishes the queued work. */
  stop(): Promise<void>;
  /** Resolves once every event handed over so far has been handled (tests, shutdown). */
  idle(): Promise<void>;
}
