import WebSocket from 'ws';
import { nowMs } from './log';

export interface OpenOptions {
  /** ws://127.0.0.1:PORT/ws/notifications */
  url: string;
  /** The Origin header a browser on the server's own pages would send. */
  origin: string;
  cookies: string[];
  /** A loopback source address (127.0.0.2, ...): one address reaches only ~28,000 ports per destination. */
  localAddress?: string;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Offer permessage-deflate as browsers do (the server decides whether to accept it). */
  deflate: boolean;
  timeoutMs: number;
}

export interface OpenReport {
  established: number;
  failed: number;
  ms: number;
  errors: string[];
  /** unread_count of the first connection_established frame, to show the protocol was followed. */
  sampleFirstFrame?: string;
}

export interface Frame {
  index: number;
  at: number;
  msg: { type?: string; notification?: { id?: number; title?: string; application_id?: number | null } };
}

/**
 * N authenticated WebSockets, each counted as established only once the server's first frame
 * (`connection_established`) arrived: an upgrade the server accepted but never greeted is not a connection.
 */
export class SocketPool {
  readonly sockets: Array<WebSocket | undefined> = [];
  established = 0;
  closedUnexpectedly = 0;
  #closing = false;
  #onFrame: (f: Frame) => void = () => undefined;

  onFrame(fn: (f: Frame) => void): void {
    this.#onFrame = fn;
  }

  async open(o: OpenOptions): Promise<OpenReport> {
    const t0 = nowMs();
    const errors: string[] = [];
    let failed = 0;
    let next = 0;
    let sample: string | undefined;
    const deadline = Date.now() + o.timeoutMs;
    const one = (i: number) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(o.url, {
          headers: { cookie: o.cookies[i] },
          origin: o.origin,
          localAddress: o.localAddress,
          perMessageDeflate: o.deflate,
          handshakeTimeout: Math.max(1000, deadline - Date.now()),
        });
        this.sockets[i] = ws;
        let greeted = false;
        const fail = (why: string) => {
          if (greeted) return;
          greeted = true; // settle once
          failed++;
          if (errors.length < 5) errors.push(why);
          ws.terminate();
          resolve();
        };
        const timer = setTimeout(() => fail('no connection_established frame in time'), Math.max(1000, deadline - Date.now()));
        ws.on('unexpected-response', (_req, res) => {
          clearTimeout(timer);
          fail(`upgrade refused: HTTP ${res.statusCode}`);
        });
        ws.on('error', (err) => {
          clearTimeout(timer);
          fail(`error: ${err.message}`);
        });
        ws.on('close', (code) => {
          clearTimeout(timer);
          if (!greeted) fail(`closed before greeting: ${code}`);
          else if (!this.#closing) this.closedUnexpectedly++;
        });
        ws.on('message', (data) => {
          const at = nowMs();
          let msg: Frame['msg'];
          try {
            msg = JSON.parse(data.toString());
          } catch {
            return;
          }
          if (!greeted) {
            greeted = true;
            clearTimeout(timer);
            if (msg.type === 'connection_established') {
              this.established++;
              sample ??= data.toString().slice(0, 200);
            } else {
              failed++;
              if (errors.length < 5) errors.push(`first frame was ${data.toString().slice(0, 120)}`);
            }
            resolve();
            return;
          }
          this.#onFrame({ index: i, at, msg });
        });
      });
    const lanes = Array.from({ length: Math.min(o.concurrency, o.cookies.length) }, async () => {
      while (next < o.cookies.length && Date.now() < deadline) await one(next++);
    });
    await Promise.all(lanes);
    failed += o.cookies.length - next; // never attempted before the deadline
    return { established: this.established, failed, ms: nowMs() - t0, errors, sampleFirstFrame: sample };
  }

  get openCount(): number {
    return this.sockets.filter((s) => s?.readyState === WebSocket.OPEN).length;
  }

  /** Closes every socket; terminate() skips the closing handshake so tens of thousands go at once. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const s of this.sockets) s?.terminate();
  }
}
