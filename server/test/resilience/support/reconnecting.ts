import { Client, type Frame } from '../../support/realtime';

/** Close codes after which a browser client (hx-ws, our JSON client) does not come back by design. */
const FINAL = new Set([1008, 1009, 4401]);

/**
 * A socket that behaves like the browser clients: reconnects after every non-final close with a short backoff,
 * and (JSON) asks for what it missed with `?since=<last id seen>`. Keeps every connection's frames apart, so a
 * test can look at "the first frame after the reconnect".
 */
export class ReconnectingClient {
  readonly connections: Client[] = [];
  readonly closes: number[] = [];
  /** Notification ids received over all connections, in order (duplicates kept, to be counted). */
  readonly ids: number[] = [];
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private base: () => string,
    readonly path: '/ws/notifications' | '/ws/bell',
    readonly cookie: string,
    readonly opts: { backoffMs?: number } = {},
  ) {
    this.#open();
  }

  get current(): Client {
    return this.connections[this.connections.length - 1];
  }

  get lastId(): number {
    return this.ids.length ? Math.max(...this.ids) : 0;
  }

  #open() {
    const since = this.path === '/ws/notifications' && this.ids.length ? `?since=${this.lastId}` : '';
    const c = new Client(this.base().replace(/^http/, 'ws') + this.path + since, { cookie: this.cookie });
    this.connections.push(c);
    c.ws.on('message', (data) => {
      if (this.path !== '/ws/notifications') return;
      try {
        const msg = JSON.parse(data.toString());
        if (msg.type === 'notification') this.ids.push(msg.notification.id);
      } catch {
        // not JSON: nothing to count
      }
    });
    void c.closed.then(({ code }) => {
      this.closes.push(code);
      if (this.#stopped || FINAL.has(code)) return;
      const wait = (this.opts.backoffMs ?? 150) * (1 + Math.random());
      this.#timer = setTimeout(() => this.#open(), wait);
    });
  }

  /** The first frame of the newest connection (its snapshot), once there is one. */
  async firstFrame(timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = this.current;
      if (c.frames.length > 0) return c.frames[0];
      if (Date.now() > deadline) throw new Error(`no snapshot on connection #${this.connections.length}; closes: ${this.closes}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.current?.close();
  }
}

/** The unread count a bell snapshot shows (the badge is hidden at zero). */
export function bellCount(html: string): number {
  const m = /<span id="bell-badge"[^>]*?>([^<]*)</.exec(html);
  if (!m) throw new Error(`no bell badge in: ${html.slice(0, 300)}`);
  if (/id="bell-badge"[^>]*\shidden/.test(html)) return 0;
  return m[1].trim() === '' ? 0 : Number(m[1].replace('+', ''));
}
