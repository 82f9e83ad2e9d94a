import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Auth } from './auth';
import { AdminEventName, CLOSE_NOT_AUTHENTICATED, Live, WEB_SOCKET_FACTORY } from './live';

/** Just enough of a WebSocket for the service: it only assigns handlers and calls close(). */
class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.();
  }
  send(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code });
  }
}

describe('Live', () => {
  let sockets: FakeSocket[];
  let live: Live;
  let sessionLost: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    sessionLost = vi.fn();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        { provide: Auth, useValue: { sessionLost } },
        {
          provide: WEB_SOCKET_FACTORY,
          useValue: (url: string) => {
            const socket = new FakeSocket(url);
            sockets.push(socket);
            return socket as unknown as WebSocket;
          },
        },
      ],
    });
    live = TestBed.inject(Live);
  });

  afterEach(() => {
    live.disconnect();
    vi.useRealTimers();
  });

  it('connects to /ws/notifications on the page origin', () => {
    live.connect();
    expect(sockets[0].url).toBe(location.origin.replace(/^http/, 'ws') + '/ws/notifications');
    sockets[0].open();
    expect(live.status()).toBe('open');
  });

  it('tracks the unread count and passes admin events on', () => {
    const events: AdminEventName[] = [];
    live.changes$.subscribe((e) => events.push(e));
    live.connect();
    sockets[0].open();
    sockets[0].send({ type: 'connection_established', unread_count: 4 });
    sockets[0].send({ type: 'unread_count', unread_count: 3 });
    sockets[0].send({ type: 'admin_event', event: 'application.changed' });
    expect(live.unreadCount()).toBe(3);
    expect(events).toEqual(['application.changed']);
  });

  it('reconnects with growing delays and resyncs screens after a reconnect', () => {
    const events: AdminEventName[] = [];
    live.changes$.subscribe((e) => events.push(e));
    live.connect();
    sockets[0].open();
    sockets[0].send({ type: 'connection_established', unread_count: 0 });

    sockets[0].drop();
    expect(live.status()).toBe('offline');
    vi.advanceTimersByTime(250);
    expect(sockets.length).toBe(2);
    sockets[1].drop();
    vi.advanceTimersByTime(249);
    expect(sockets.length).toBe(2); // the second wait is 250-500 ms
    vi.advanceTimersByTime(251);
    expect(sockets.length).toBe(3);

    sockets[2].open();
    sockets[2].send({ type: 'connection_established', unread_count: 0 });
    expect(events).toEqual(['notification.created', 'application.changed', 'stats.changed']);
  });

  it('never waits more than 2 s between attempts, however long the server is down', () => {
    live.connect();
    for (let i = 0; i < 30; i++) {
      const before = sockets.length;
      sockets[before - 1].drop();
      vi.advanceTimersByTime(2000);
      expect(sockets.length).toBe(before + 1);
    }
  });

  it('retries at once when the browser is back online or the tab is shown again', () => {
    live.connect();
    for (let i = 0; i < 8; i++) {
      sockets[sockets.length - 1].drop();
      vi.advanceTimersByTime(2000);
    }
    const before = sockets.length;
    sockets[before - 1].drop();
    window.dispatchEvent(new Event('online'));
    expect(sockets.length).toBe(before + 1); // no wait
    sockets[before].drop();
    document.dispatchEvent(new Event('visibilitychange'));
    expect(sockets.length).toBe(before + 2);
    // An open socket is left alone, and the cancelled wait does not open a second one later.
    sockets[before + 1].open();
    window.dispatchEvent(new Event('online'));
    vi.advanceTimersByTime(5000);
    expect(sockets.length).toBe(before + 2);
  });

  it('stops retrying and hands over to login on close code 4401', () => {
    live.connect();
    sockets[0].drop(CLOSE_NOT_AUTHENTICATED);
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
    expect(sessionLost).toHaveBeenCalledOnce();
  });

  it('does not reconnect after disconnect()', () => {
    live.connect();
    live.disconnect();
    expect(sockets[0].closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
  });
});
