import type http from 'node:http';
import { WebSocket } from 'ws';
import { Redis } from 'ioredis';
import { QueryTypes } from 'sequelize';
import { Dispatcher } from '../../channels';
import { createRealtime, LocalBus, type Bus, type Realtime } from '../../realtime';
import type { WsLimits } from '../../realtime/ws';
import type { SseLimits } from '../../realtime/sse';
import { createLogger } from '../../logger';
import type { Course, User } from '../../models';
import { createTestContext, listen, PASSWORD, type TestContext } from './harness';

/** A started server; `close()` also closes every client that `connect` opened. */
export interface TestServer {
  url: string;
  server: http.Server;
  realtime: Realtime;
  dispatcher: Dispatcher;
  /** A recording client on `path` (e.g. `/ws/bell?since=3`) of this server. */
  connect(path: string, opts?: ConstructorParameters<typeof Client>[1]): Client;
  /** `user`'s tab: logged in over HTTP, a JSON-protocol socket on it, its connection established. */
  tabOf(user: Pick<User, 'email'>): Promise<Client>;
  close(): Promise<void>;
}

export interface ServerOptions {
  limits?: Partial<WsLimits>;
  sseLimits?: Partial<SseLimits>;
  sessionCheckMs?: number;
  bus?: Bus;
  /** A fan-out's first read of rows (server/realtime/pushes.ts FIRST_SLICE), small to see several reads. */
  fanoutFirstSlice?: number;
}

/** A test context with a server over it; `close()` stops the server, then drops the database. */
export interface ServerContext extends TestContext {
  srv: TestServer;
}

/** What most realtime test files start from: a test context and one server over it, closed together. */
export async function createServerContext(opts: ServerOptions = {}): Promise<ServerContext> {
  const ctx = await createTestContext();
  const srv = await startServer(ctx, opts);
  const closeContext = ctx.close;
  return Object.assign(ctx, {
    srv,
    async close() {
      await srv.close();
      await closeContext();
    },
  });
}

/** The harness app on a real port with the realtime layer attached, over the in-process bus. */
export async function startServer(ctx: TestContext, opts: ServerOptions = {}): Promise<TestServer> {
  const logger = createLogger('silent');
  const bus = opts.bus ?? new LocalBus(ctx.events, logger);
  const realtime = createRealtime({
    config: ctx.config,
    logger,
    sequelize: ctx.sequelize,
    services: ctx.services,
    bus,
    session: ctx.session.middleware,
    limits: opts.limits,
    sseLimits: opts.sseLimits,
    sessionCheckMs: opts.sessionCheckMs,
    fanoutFirstSlice: opts.fanoutFirstSlice,
  });
  ctx.eventStreams.target = realtime;
  const dispatcher = new Dispatcher({ bus, logger, channels: [realtime] });
  await dispatcher.start();
  const { server, url } = await listen(ctx.app);
  realtime.attach(server);
  const clients: Client[] = [];
  const connect: TestServer['connect'] = (path, clientOpts) => {
    const c = new Client(wsUrl(url, path), clientOpts);
    clients.push(c);
    return c;
  };
  return {
    url,
    server,
    realtime,
    dispatcher,
    connect,
    async tabOf(user) {
      const c = connect('/ws/notifications', { cookie: (await login(url, user)).cookie });
      await c.type('connection_established');
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await realtime.closeSockets();
      if (ctx.eventStreams.target === realtime) ctx.eventStreams.target = undefined;
      await dispatcher.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Logs in over real HTTP and returns what a browser would hold: the cookie header and the CSRF token (`password`:
 * the harness's unless given, e.g. the demo logins').
 */
export async function login(baseUrl: string, user: Pick<User, 'email'>, password = PASSWORD): Promise<{ cookie: string; csrf: string }> {
  const a = await fetch(`${baseUrl}/api/auth/csrf`);
  let cookie = cookiesOf(a);
  const { csrf_token } = (await a.json()) as { csrf_token: string };
  const b = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token, cookie },
    body: JSON.stringify({ email: user.email, password }),
  });
  if (b.status !== 200) throw new Error(`login failed: ${b.status} ${await b.text()}`);
  cookie = mergeCookies(cookie, cookiesOf(b));
  const body = (await b.json()) as { csrf_token: string };
  return { cookie, csrf: body.csrf_token };
}

/** A JSON API call as the logged-in browser. */
export async function api(baseUrl: string, who: { cookie: string; csrf: string }, method: string, path: string, body?: object) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-csrf-token': who.csrf, cookie: who.cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function cookiesOf(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}
function mergeCookies(a: string, b: string): string {
  const m = new Map<string, string>();
  for (const part of [...a.split('; '), ...b.split('; ')].filter(Boolean)) m.set(part.split('=')[0], part);
  return [...m.values()].join('; ');
}

export interface Frame {
  text: string;
  json?: Record<string, unknown>;
}

/** A ws client that records every frame and can wait for one that matches. */
export class Client {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The HTTP status when the upgrade was refused. */
  readonly refused: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(url: string, opts: { cookie?: string; origin?: string | null; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    const httpOrigin = new URL(url.replace(/^ws/, 'http')).origin;
    if (opts.origin !== null) headers.origin = opts.origin ?? httpOrigin;
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
    this.refused = new Promise((resolve) => {
      this.ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        this.ws.terminate();
      });
      this.ws.once('open', () => resolve(null));
      this.ws.once('close', () => resolve(null));
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#wake();
      }),
    );
    this.ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.frames.push({ text, json });
      this.#wake();
    });
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first frame (from index `from`) matching `pred`. */
  async next(pred: (f: Frame) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<Frame> {
    const deadline = Date.now() + (opts.timeoutMs ?? 3_000);
    let i = opts.from ?? 0;
    for (;;) {
      for (; i < this.frames.length; i++) if (pred(this.frames[i])) return this.frames[i];
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame; frames: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  type(type: string, opts?: { from?: number; timeoutMs?: number }) {
    return this.next((f) => f.json?.type === type, opts).then((f) => f.json!);
  }

  send(msg: unknown) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  describe() {
    return JSON.stringify(this.frames.map((f) => f.text.slice(0, 200)));
  }

  close() {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}

/**
 * `count` members of one group (issue 14: applications to one course) for `recipientId`, written in one statement as
 * the application statement writes them, with no event (no socket hears of them). Answers their ids, oldest first.
 */
export async function groupMembers(ctx: TestContext, recipientId: number, courseId: number, count: number): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: string }>(
    `INSERT INTO notifications (recipient_id, type, title, course_id)
     SELECT :u, 'application_submitted', 'applied ' || i, :c FROM generate_series(1, :count) AS i ORDER BY i RETURNING id`,
    { replacements: { u: recipientId, c: courseId, count }, type: QueryTypes.SELECT },
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function wsUrl(httpUrl: string, path: string) {
  return httpUrl.replace(/^http/, 'ws') + path;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the Redis tests can run. In CI (CI=true) Redis is part of the machine, so its absence is a failure;
 * elsewhere the Redis tests return early with a note.
 */
export async function redisAvailable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`Redis is required in CI but ${REDIS_URL} is unreachable: ${String(err)}`);
    console.warn(`Redis at ${REDIS_URL} is unreachable: the Redis bus test did nothing (it runs when CI=true).`);
    return false;
  } finally {
    r.disconnect();
  }
}

/** An instructor's course and open tabs: one JSON and one bell socket of one session, both past their snapshot. */
export interface InstructorTabs {
  user: User;
  who: { cookie: string; csrf: string };
  json: Client;
  bell: Client;
  course: Course;
  /** The group key of the course's applications. */
  key: string;
}

/** A new instructor with a course of their own, looking at it in two tabs (the grouping tests' start). */
export async function instructorTabs(ctx: ServerContext): Promise<InstructorTabs> {
  const user = await ctx.createUser('instructor');
  const course = await ctx.createCourse(user, { title: 'PostgreSQL in Practice' });
  const who = await login(ctx.srv.url, user);
  const json = ctx.srv.connect('/ws/notifications', { cookie: who.cookie });
  const bell = ctx.srv.connect('/ws/bell', { cookie: who.cookie });
  await Promise.all([json.type('connection_established'), bell.next(() => true)]);
  return { user, who, json, bell, course, key: `application_submitted:course:${course.id}` };
}
