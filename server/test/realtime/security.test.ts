/** The upgrade's gatekeeping and the transport limits: origins, sessions, payload size, flooding, garbage. */
import express from 'express';
import request from 'supertest';
import { WebSocket } from 'ws';
import { wsSocket } from '../../realtime/ws';
import { Client, createServerContext, login, sleep, startServer, type ServerContext } from '../support/realtime';

let ctx: ServerContext;
let cookie: string;

beforeAll(async () => {
  ctx = await createServerContext({ limits: { rateBurst: 10, ratePerSecond: 5, pingIntervalMs: 150 } });
  cookie = (await login(ctx.srv.url, await ctx.createUser('candidate'))).cookie;
});
afterAll(() => ctx.close());

function connect(path: string, opts: ConstructorParameters<typeof Client>[1] = {}) {
  return ctx.srv.connect(path, opts);
}

test('no session, or a forged cookie: accepted, then closed with 4401 and nothing sent', async () => {
  for (const path of ['/ws/notifications', '/ws/bell']) {
    const anon = connect(path);
    expect(await anon.refused).toBeNull();
    expect((await anon.closed).code).toBe(4401);
    const forged = connect(path, { cookie: 'herald.sid=s%3Aforged.signature' });
    expect((await forged.closed).code).toBe(4401);
    expect([...anon.frames, ...forged.frames]).toEqual([]);
  }
});

test('a foreign, missing, null or look-alike Origin gets no connection (403)', async () => {
  const port = new URL(ctx.srv.url).port;
  const bad = [
    'http://evil.example',
    null,
    'null',
    `http://127.0.0.1:${port}.evil.com`,
    `http://127.0.0.1.evil.com:${port}`,
    `https://127.0.0.1:${port}`,
    `http://127.0.0.1:${port}/`,
    'http://allowed.example.evil.com',
  ];
  for (const origin of bad) {
    const c = connect('/ws/notifications', { cookie, origin });
    expect([origin, await c.refused]).toEqual([origin, 403]);
    expect(c.frames).toEqual([]);
  }
  // Our own origin and the configured one are fine.
  for (const origin of [ctx.srv.url, 'http://allowed.example']) {
    const c = connect('/ws/notifications', { cookie, origin });
    expect(await c.type('connection_established')).toBeDefined();
    c.close();
  }
});

test('unknown paths get a 404', async () => {
  expect(await connect('/ws/other', { cookie }).refused).toBe(404);
  expect(await connect('/ws/notifications/../admin', { cookie }).refused).not.toBeNull();
});

test('a frame over 64 KiB closes that socket with 1009; the server carries on', async () => {
  const c = connect('/ws/notifications', { cookie });
  await c.type('connection_established');
  c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(64 * 1024) }));
  expect((await c.closed).code).toBe(1009);
  const d = connect('/ws/notifications', { cookie });
  await d.type('connection_established');
  d.send({ type: 'ping', pad: 'x'.repeat(60 * 1024) }); // just under the limit is fine
  await d.type('pong');
});

test('flooding closes the socket with 1008', async () => {
  const c = connect('/ws/notifications', { cookie });
  await c.type('connection_established');
  for (let i = 0; i < 100; i++) c.send({ type: 'ping' });
  expect((await c.closed).code).toBe(1008);
  expect(c.frames.filter((f) => f.json?.type === 'pong').length).toBeLessThanOrEqual(11);
});

test('garbage and binary frames answer errors and never crash', async () => {
  const c = connect('/ws/notifications', { cookie });
  await c.type('connection_established');
  const junk = ['not json', '[]', 'null', '42', '"str"', '{"type":{"$ne":1}}', '{"__proto__":{"type":"ping"}}', '\u0000\uffff'];
  for (const j of junk) c.send(j);
  c.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
  c.send({ type: 'ping' });
  await c.type('pong');
  expect(c.frames.filter((f) => f.json?.type === 'error')).toHaveLength(junk.length + 1);
  // A raw socket writing an invalid frame (bad opcode) is dropped alone.
  const raw = connect('/ws/notifications', { cookie });
  await raw.type('connection_established');
  (raw.ws as unknown as { _socket: NodeJS.WritableStream })._socket.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
  expect((await raw.closed).code).toBe(1002); // protocol error, that socket only
  const after = connect('/ws/notifications', { cookie });
  await after.type('connection_established');
});

test('keep-alive: a peer that stops answering pings is dropped; a live one stays', async () => {
  const live = connect('/ws/notifications', { cookie });
  const dead = connect('/ws/notifications', { cookie });
  await Promise.all([live.type('connection_established'), dead.type('connection_established')]);
  const before = ctx.srv.realtime.hub.size;
  // Stop reading: the server's pings go unanswered, as with a vanished laptop.
  (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const end = Date.now() + 3_000;
  while (ctx.srv.realtime.hub.size > before - 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  expect(ctx.srv.realtime.hub.size).toBe(before - 1);
  live.send({ type: 'ping' });
  await live.type('pong');
});

test('a socket whose send buffer outgrows the bound is closed (1013) instead of buffering', () => {
  const closed: number[] = [];
  const sent: string[] = [];
  const fake = {
    readyState: WebSocket.OPEN,
    bufferedAmount: 0,
    send: (d: string) => sent.push(d),
    close: (code: number) => closed.push(code),
    terminate: () => undefined,
  };
  const s = wsSocket(fake as unknown as WebSocket, { maxBufferedBytes: 1000 } as never, () => undefined);
  s.send('a');
  fake.bufferedAmount = 5000;
  s.send('b');
  expect(sent).toEqual(['a']);
  expect(closed).toEqual([1013]);
});

test('/metrics and /readyz', async () => {
  const u = await ctx.createUser('candidate');
  const c = connect('/ws/notifications', { cookie: (await login(ctx.srv.url, u)).cookie });
  await c.type('connection_established');
  await ctx.message(u, 'm');
  await c.type('notification');
  const app = express().use(ctx.srv.realtime.probes);
  const m = await request(app).get('/metrics').expect(200);
  expect(m.text).toMatch(/^herald_ws_open_sockets [1-9]/m);
  expect(m.text).toMatch(/^herald_ws_messages_pushed_total\{protocol="json"\} [1-9]/m);
  expect(m.text).toMatch(/^herald_ws_push_latency_seconds_count\{event="notification.created"\} [1-9]/m);
  expect(m.text).toMatch(/^herald_bus_lag_seconds_count [1-9]/m);
  expect(m.text).toMatch(/^herald_ws_closed_by_server_total\{code="4401"\} [1-9]/m);
  expect((await request(app).get('/readyz').expect(200)).body).toEqual({ status: 'ok', database: 'ok', bus: 'ok' });
});

test('too many sockets for one session or one user: the surplus one is closed with 1008 and says why', async () => {
  const capped = await startServer(ctx, { limits: { maxSocketsPerSession: 2, maxSocketsPerUser: 3 } });
  const u = await ctx.createUser('candidate');
  const [s1, s2] = [(await login(capped.url, u)).cookie, (await login(capped.url, u)).cookie];
  const open = (c: string, path = '/ws/notifications') => {
    return capped.connect(path, { cookie: c });
  };
  try {
    const [a, b] = [open(s1), open(s1, '/ws/bell')];
    await Promise.all([a.type('connection_established'), b.next(() => true)]);
    const third = open(s1);
    expect(await third.closed).toEqual({ code: 1008, reason: 'too many connections for this session' });
    expect(third.frames).toEqual([]);

    const other = open(s2); // another session of the same user: the user's third socket
    await other.type('connection_established');
    const fourth = open(s2);
    expect(await fourth.closed).toEqual({ code: 1008, reason: 'too many connections for this user' });

    // Closing one frees its place.
    a.close();
    await a.closed;
    const end = Date.now() + 2_000;
    while ((capped.realtime.hub.of(u.id)?.size ?? 0) > 2 && Date.now() < end) await sleep(20);
    expect(await open(s1).type('connection_established')).toBeDefined();
  } finally {
    await capped.close();
  }
});
