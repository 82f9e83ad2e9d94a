import type { Response } from 'express';
import { CloseCode } from './codes';
import { Connection, type Identity, type Socket } from './hub';

/** Stream settings. Defaults suit production; tests shrink the timer. */
export interface SseLimits {
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** A stream whose unsent bytes exceed this is ended (the client reconnects with Last-Event-ID). */
  maxBufferedBytes: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = { heartbeatMs: 25_000, maxBufferedBytes: 1024 * 1024 };

/** What a new stream is handed to: the same sink as a socket's (Realtime). */
export interface StreamSink {
  connected(c: Connection, since: number | undefined): void;
  disconnected(c: Connection): void;
  closedByServer(code: number): void;
}

/** The API's view of the in-app channel's streams (`GET /api/notifications/stream/`). */
export interface EventStreams {
  /** Takes over `res` for as long as the client stays: the JSON protocol's frames as events. */
  open(res: Response, identity: Omit<Identity, 'protocol'>, since: number | undefined): void;
}

/**
 * A server-sent event stream as the hub's `Socket`: the JSON protocol's frames, each as an event named by its
 * `type`, with `id:` = the frame's position (`position`, else the notification id) on notification frames and on
 * the state frames that carry one (so a browser's EventSource resumes with Last-Event-ID by itself, exactly as
 * `?since=` does on the socket). No second delivery path: the hub, the ordered queue, snapshots and replay are the
 * socket's. Closing sends a `close` event with the socket's code.
 */
class SseSocket implements Socket {
  readonly #res: Response;
  readonly #limits: SseLimits;
  readonly #onServerClose: (code: number) => void;

  constructor(res: Response, limits: SseLimits, onServerClose: (code: number) => void) {
    this.#res = res;
    this.#limits = limits;
    this.#onServerClose = onServerClose;
  }

  send(frame: string): void {
    const res = this.#res;
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this.#limits.maxBufferedBytes) return this.close(CloseCode.TryAgainLater, 'slow consumer');
    res.write(eventOf(frame));
  }

  cork(): void {
    this.#res.cork();
  }
  uncork(): void {
    this.#res.uncork();
  }

  /** A comment: ignored by clients, keeps intermediaries from timing the stream out. */
  heartbeat(): void {
    if (!this.#res.writableEnded) this.#res.write(': keep-alive\n\n');
  }

  close(code: number, reason: string): void {
    const res = this.#res;
    if (res.writableEnded) return;
    this.#onServerClose(code);
    res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
  }
}

/** One frame as one event. The frames are compact JSON (no newlines), so each is one `data:` line. */
function eventOf(frame: string): string {
  const parsed = JSON.parse(frame) as { type?: unknown; position?: unknown; notification?: { id?: unknown } };
  const type = typeof parsed.type === 'string' ? parsed.type : 'message';
  // The frame's position, else a notification's id (the same number): a row that woke keeps its id but comes back
  // further on, and Last-Event-ID must resume after that place. State changes carry theirs (notification_state),
  // so a stream resumed after one is not told it again, and one resumed before it is.
  const at = typeof parsed.position === 'number' ? parsed.position : type === 'notification' ? parsed.notification?.id : undefined;
  const id = typeof at === 'number' ? `id: ${at}\n` : '';
  return `${id}event: ${type}\ndata: ${frame}\n\n`;
}

/** Opens one stream on `res` and registers it with the sink like a socket speaking the JSON protocol. */
export function openEventStream(
  sink: StreamSink,
  res: Response,
  identity: Omit<Identity, 'protocol'>,
  since: number | undefined,
  limits: SseLimits,
): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx and similar buffer responses by default; an event must leave at once.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  // Tells EventSource how long to wait before reconnecting after a drop.
  res.write('retry: 2000\n\n');
  const socket = new SseSocket(res, limits, (code) => sink.closedByServer(code));
  const conn = new Connection({ ...identity, protocol: 'json' }, socket);
  const heartbeat = setInterval(() => socket.heartbeat(), limits.heartbeatMs);
  heartbeat.unref();
  res.on('close', () => {
    clearInterval(heartbeat);
    conn.markClosed();
    sink.disconnected(conn);
  });
  sink.connected(conn, since);
}
