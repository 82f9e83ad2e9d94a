/** GET /api/notifications/stream/: the JSON protocol as server-sent events, read by a real HTTP client. */
import http from 'node:http';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { login, startServer } from '../support/realtime';

let ctx: TestContext;
let srv: Awaited<ReturnType<typeof startServer>>;
let url: string;
const streams: Stream[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  srv = await startServer(ctx, { sseLimits: { heartbeatMs: 100 } });
  url = srv.url;
});
afterAll(async () => {
  for (const s of streams) s.stop();
  await srv.close();
  await ctx.close();
});

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A plain HTTP client reading the stream as it arrives: events parsed, comments counted. */
class Stream {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  readonly ended: Promise<void>;
  #req: http.ClientRequest;
  #buffer = '';
  #wake: Array<() => void> = [];

  constructor(headers: Record<string, string>) {
    let done!: () => void;
    this.ended = new Promise((r) => (done = r));
    this.#req = http.get(`${url}/api/notifications/stream/`, { headers }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.#feed(chunk));
      res.on('end', () => {
        done();
        this.#notify();
      });
      this.#notify();
    });
    this.#req.on('error', () => done());
    streams.push(this);
  }

  #feed(chunk: string) {
    this.#buffer += chunk;
    let at: number;
    while ((at = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, at);
      this.#buffer = this.#buffer.slice(at + 2);
      const ev: SseEvent = { event: 'message', data: '' };
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments += 1;
        else if (line.startsWith('event: ')) ((ev.event = line.slice(7)), (fields += 1));
        else if (line.startsWith('id: ')) ((ev.id = line.slice(4)), (fields += 1));
        else if (line.startsWith('data: ')) ((ev.data = line.slice(6)), (fields += 1));
      }
      if (fields > 0 && ev.data) this.events.push(ev);
    }
    this.#notify();
  }

  #notify() {
    for (const w of this.#wake.splice(0)) w();
  }

  async next(pred: (e: SseEvent) => boolean, from = 0, timeoutMs = 3_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.#wake.push(() => (clearTimeout(t), r()));
      });
    }
  }

  stop() {
    this.#req.destroy();
  }
}

const notify = (user: User, title: string) =>
  ctx.notify({ recipientId: user.id, type: 'message', title, message: 'body' });

test('a cookie client gets the JSON protocol as named events, with ids on notifications, and keep-alive comments', async () => {
  const user = await ctx.createUser('candidate');
  const { cookie } = await login(url, user);
  const s = new Stream({ cookie });
  const hello = await s.next((e) => e.event === 'connection_established');
  expect(s.status).toBe(200);
  expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
  expect(s.headers['ratelimit-limit']).toBeDefined();
  expect(JSON.parse(hello.data)).toEqual({ type: 'connection_established', unread_count: 0 });
  const id = await notify(user, 'over SSE');
  const ev = await s.next((e) => e.event === 'notification');
  expect(ev.id).toBe(String(id));
  expect(JSON.parse(ev.data).notification).toMatchObject({ id, title: 'over SSE' });
  const count = await s.next((e) => e.event === 'unread_count');
  expect(JSON.parse(count.data)).toEqual({ type: 'unread_count', unread_count: 1 });
  await new Promise((r) => setTimeout(r, 250));
  expect(s.comments).toBeGreaterThanOrEqual(2);
});

test('resume with Last-Event-ID: the missed notifications first, oldest first, then live ones', async () => {
  const user = await ctx.createUser('candidate');
  const { token } = await ctx.services.tokens.create(user, { name: 'sse', scopes: ['notifications:read'], expiresInDays: null });
  const auth = { authorization: `Bearer ${token}` };
  const first = new Stream(auth);
  await first.next((e) => e.event === 'connection_established');
  const seen = await notify(user, 'seen');
  const last = await first.next((e) => e.event === 'notification');
  expect(last.id).toBe(String(seen));
  first.stop(); // the network drops
  const missed = [await notify(user, 'missed 1'), await notify(user, 'missed 2')];

  const again = new Stream({ ...auth, 'last-event-id': last.id! });
  await again.next((e) => e.event === 'connection_established');
  const replayed = await again.next((e) => e.event === 'notification' && e.id === String(missed[1]));
  const ids = again.events.filter((e) => e.event === 'notification').map((e) => Number(e.id));
  expect(ids).toEqual(missed);
  expect(JSON.parse(replayed.data).notification.title).toBe('missed 2');
  const live = await notify(user, 'live');
  await again.next((e) => e.event === 'notification' && e.id === String(live));
});

test('Last-Event-ID is a position: a notification that woke from snooze while the stream was down comes back once', async () => {
  const user = await ctx.createUser('candidate');
  const { token } = await ctx.services.tokens.create(user, { name: 'sse', scopes: ['notifications:read'], expiresInDays: null });
  const auth = { authorization: `Bearer ${token}` };
  const first = new Stream(auth);
  await first.next((e) => e.event === 'connection_established');
  const sleeper = await notify(user, 'sleeper');
  const newer = await notify(user, 'newer');
  const last = await first.next((e) => e.event === 'notification' && e.id === String(newer));
  await ctx.services.notifications.inbox.snooze(user.id, sleeper, new Date(Date.now() + 3600_000));
  first.stop();
  // Its time comes while the stream is down: the wake-up job's work, with the time brought forward.
  await ctx.sequelize.query('UPDATE notifications SET snoozed_until = now() WHERE id = :id', { replacements: { id: sleeper } });
  expect(await ctx.services.notifications.inbox.wake(sleeper)).toBe(true);

  const again = new Stream({ ...auth, 'last-event-id': last.id! });
  await again.next((e) => e.event === 'connection_established');
  const woke = await again.next((e) => e.event === 'notification');
  expect(JSON.parse(woke.data).notification).toMatchObject({ id: sleeper, is_read: false });
  expect(Number(woke.id)).toBeGreaterThan(newer); // its position, not its id
  expect(JSON.parse(woke.data).position).toBe(Number(woke.id));
  expect(JSON.parse(last.data).position).toBeUndefined(); // a row that never woke: its id is its position
  await new Promise((r) => setTimeout(r, 300));
  expect(again.events.filter((e) => e.event === 'notification')).toHaveLength(1);
  again.stop();

  // Resuming from the woken one's event id replays nothing more.
  const third = new Stream({ ...auth, 'last-event-id': woke.id! });
  await third.next((e) => e.event === 'connection_established');
  await new Promise((r) => setTimeout(r, 300));
  expect(third.events.filter((e) => e.event === 'notification')).toEqual([]);
  third.stop();
});

test('without a session or with a token lacking notifications:read: 401 / 403, no stream', async () => {
  const anon = new Stream({});
  await anon.ended;
  expect(anon.status).toBe(401);
  const user = await ctx.createUser('candidate');
  const { token } = await ctx.services.tokens.create(user, { name: 'x', scopes: ['applications:read'], expiresInDays: null });
  const scoped = new Stream({ authorization: `Bearer ${token}` });
  await scoped.ended;
  expect(scoped.status).toBe(403);
});

test('revoking the token ends its stream with a close event (4401); a logout ends a cookie stream', async () => {
  const user = await ctx.createUser('candidate');
  const { id, token } = await ctx.services.tokens.create(user, { name: 'x', scopes: ['notifications:read'], expiresInDays: null });
  const s = new Stream({ authorization: `Bearer ${token}` });
  await s.next((e) => e.event === 'connection_established');
  await ctx.services.tokens.revoke(id, user.id);
  const close = await s.next((e) => e.event === 'close');
  expect(JSON.parse(close.data).code).toBe(4401);
  await s.ended;

  const { cookie, csrf } = await login(url, user);
  const c = new Stream({ cookie });
  await c.next((e) => e.event === 'connection_established');
  await fetch(`${url}/api/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
  expect(JSON.parse((await c.next((e) => e.event === 'close')).data).code).toBe(4401);
});

test('a bad resume point is a 400 before any stream opens, on a process that serves streams', async () => {
  const user = await ctx.createUser('candidate');
  const { cookie } = await login(url, user);
  for (const [query, headers] of [
    ['?since=abc', {}],
    ['?since=-1', {}],
    ['?since[a]=1', {}],
    ['', { 'Last-Event-ID': 'x1' }],
  ] as const) {
    const res = await fetch(`${url}/api/notifications/stream/${query}`, { headers: { cookie, ...headers } });
    // `since[a]` is not a `since` at all under the plain query parser: the stream opens, as with no resume point.
    if (query === '?since[a]=1') {
      expect(res.status).toBe(200);
      await res.body?.cancel();
      continue;
    }
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_error');
  }
});
