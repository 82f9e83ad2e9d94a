import { DOCUMENT } from '@angular/common';
import { inject, Injectable, InjectionToken, signal } from '@angular/core';
import { Observable, Subject } from 'rxjs';
import { Notification } from './api.types';
import { Auth } from './auth';

/** Lets tests hand the service a fake socket. */
export const WEB_SOCKET_FACTORY = new InjectionToken<(url: string) => WebSocket>(
  'WEB_SOCKET_FACTORY',
  { providedIn: 'root', factory: () => (url: string) => new WebSocket(url) },
);

/** Close code the server uses when the session cookie is missing or expired. */
export const CLOSE_NOT_AUTHENTICATED = 4401;
/**
 * Reconnect waits: full jitter under a ceiling that doubles from 250 ms and stops at 2 s, so a restarted server is
 * reached within about 2 s of answering again (issue 16) while the consoles' retries still spread out.
 */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;

export type LiveStatus = 'offline' | 'connecting' | 'open';

/** What an admin event says changed; the console refetches what shows it. */
export type AdminEventName = 'notification.created' | 'application.changed' | 'stats.changed';

/** Messages the server pushes on `/ws/notifications` (not part of the OpenAPI document, which is HTTP only). */
export type LiveMessage =
  | { type: 'connection_established'; unread_count: number }
  | { type: 'notification'; notification: Notification }
  | { type: 'unread_count'; unread_count: number }
  /** After "mark all as read", `ids` is empty and `all` is true: treat every notification shown as read. */
  | { type: 'notification_read'; ids: number[]; all?: true }
  | { type: 'admin_event'; event: AdminEventName };

/**
 * The console's one WebSocket to `/ws/notifications`. Screens subscribe to {@link changes$}
 * and refetch; the socket never carries data they render directly, so a missed message only
 * costs freshness, not correctness.
 */
@Injectable({ providedIn: 'root' })
export class Live {
  private readonly createSocket = inject(WEB_SOCKET_FACTORY);
  private readonly auth = inject(Auth);
  private readonly document = inject(DOCUMENT);
  private readonly window = this.document.defaultView;

  readonly status = signal<LiveStatus>('offline');
  /** The admin's own unread count, as the server last reported it. */
  readonly unreadCount = signal(0);

  private readonly changes = new Subject<AdminEventName>();
  /** Admin events; after a reconnect every event fires once, since some may have been missed. */
  readonly changes$: Observable<AdminEventName> = this.changes.asObservable();

  private socket?: WebSocket;
  private wanted = false;
  private attempt = 0;
  private everOpened = false;
  private retryTimer?: ReturnType<typeof setTimeout>;

  /** Back online, or the tab shown again: a wait under way is cut short. */
  private readonly retryNow = () => {
    if (!this.wanted || this.socket || this.document.hidden) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open();
  };

  connect(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.everOpened = false;
    this.window?.addEventListener('online', this.retryNow);
    this.document.addEventListener('visibilitychange', this.retryNow);
    this.open();
  }

  disconnect(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.window?.removeEventListener('online', this.retryNow);
    this.document.removeEventListener('visibilitychange', this.retryNow);
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'signed out');
    this.status.set('offline');
  }

  private open(): void {
    const origin = this.window?.location.origin ?? '';
    const socket = this.createSocket(origin.replace(/^http/, 'ws') + '/ws/notifications');
    this.socket = socket;
    this.status.set('connecting');

    socket.onopen = () => {
      this.attempt = 0;
      this.status.set('open');
    };
    socket.onmessage = (event: MessageEvent) => this.receive(event.data);
    socket.onclose = (event: CloseEvent) => {
      // A socket we already replaced or closed on purpose has nothing more to say.
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.status.set('offline');
      if (event.code === CLOSE_NOT_AUTHENTICATED) {
        this.wanted = false;
        this.auth.sessionLost();
      } else if (this.wanted) {
        this.scheduleReconnect();
      }
    };
  }

  private scheduleReconnect(): void {
    // Jittered (half to all of the ceiling), so a restarted server is not hit by every console at the same instant.
    const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      if (this.wanted) this.open();
    }, delay);
  }

  private receive(raw: unknown): void {
    let message: LiveMessage;
    try {
      message = JSON.parse(String(raw)) as LiveMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case 'connection_established':
        this.unreadCount.set(message.unread_count);
        if (this.everOpened) {
          for (const name of ['notification.created', 'application.changed', 'stats.changed'] as const) {
            this.changes.next(name);
          }
        }
        this.everOpened = true;
        break;
      case 'unread_count':
        this.unreadCount.set(message.unread_count);
        break;
      case 'admin_event':
        this.changes.next(message.event);
        break;
      default:
        // 'notification' and 'notification_read' concern the admin's own bell, which the
        // server follows with an unread_count; the console has no bell list to update.
        break;
    }
  }
}
