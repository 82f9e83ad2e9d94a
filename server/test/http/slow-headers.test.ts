import net from 'node:net';
import { createTestContext, type TestContext } from '../support/harness';
import { spawnServer, type ServerProcess } from '../resilience/support/processes';

/**
 * Slowloris against the real process (server/main.ts): clients that trickle their request head, upgrades
 * included, are cut once the head timeout passes, one address cannot hold more than its share of such
 * connections, and everybody else is served all along. Loopback only; the trickling clients come from other
 * 127.0.0.x addresses than the one checking /healthz.
 */
const HEAD_TIMEOUT_S = 2;
const CAP = 20;
const SOURCES = 10; // 127.0.0.2 ..: CAP trickling sockets each

let ctx: TestContext;
let server: ServerProcess;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  ctx = await createTestContext();
  server = await spawnServer({
    databaseUrl: ctx.dbUrl,
    env: { HEADERS_TIMEOUT_SECONDS: String(HEAD_TIMEOUT_S), MAX_PENDING_CONNECTIONS_PER_IP: String(CAP) },
  });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server?.kill('SIGTERM');
  await ctx?.close();
});

interface Trickler {
  openedAt: number;
  /** When the server closed it (ms after openedAt), or null if it was still open when we stopped waiting. */
  closed: Promise<number | null>;
}

/** A client that starts a request head and then sends one more header line every 300 ms, never finishing. */
function trickle(localAddress: string, head: string, waitMs: number): Trickler {
  const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress });
  sockets.add(socket);
  const openedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => socket.write(`X-Slow-${Date.now()}: a\r\n`), 300);
  });
  socket.on('error', () => undefined);
  socket.resume();
  const closed = new Promise<number | null>((resolve) => {
    const give = setTimeout(() => resolve(null), waitMs);
    socket.once('close', () => {
      clearTimeout(give);
      clearInterval(timer);
      sockets.delete(socket);
      resolve(Date.now() - openedAt);
    });
  });
  return { openedAt, closed };
}

const UPGRADE_HEAD = 'GET /ws/notifications HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
const GET_HEAD = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';

async function healthzDuring(ms: number): Promise<number[]> {
  const statuses: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    statuses.push(await fetch(`${server.url}/healthz`).then((r) => r.status, () => 0));
    await new Promise((r) => setTimeout(r, 200));
  }
  return statuses;
}

describe('10.10 slow-header connections are cut', () => {
  test(`${SOURCES * CAP} trickling heads (upgrades and plain GETs) are closed within the bound; /healthz answers throughout`, async () => {
    const bound = (HEAD_TIMEOUT_S + 2) * 1000;
    const clients: Trickler[] = [];
    for (let i = 0; i < SOURCES; i++) {
      for (let j = 0; j < CAP; j++) clients.push(trickle(`127.0.0.${i + 2}`, j % 2 ? GET_HEAD : UPGRADE_HEAD, bound + 3_000));
    }
    const [closedAfter, health] = await Promise.all([Promise.all(clients.map((c) => c.closed)), healthzDuring(bound)]);
    expect(closedAfter.filter((t) => t === null)).toHaveLength(0);
    expect(Math.max(...(closedAfter as number[]))).toBeLessThanOrEqual(bound);
    expect(health.length).toBeGreaterThan(5);
    expect(health.every((s) => s === 200)).toBe(true);
  }, 30_000);

  test('one address gets at most MAX_PENDING_CONNECTIONS_PER_IP connections without a complete head; the rest are refused at once', async () => {
    const clients = Array.from({ length: CAP + 10 }, () => trickle('127.0.0.200', UPGRADE_HEAD, (HEAD_TIMEOUT_S + 3) * 1000));
    const closedAfter = await Promise.all(clients.map((c) => c.closed));
    const early = closedAfter.filter((t) => t !== null && t < 1_000);
    expect(early).toHaveLength(10);
    // Another address is not affected, and neither is a complete request from this one once its slots free up.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 30_000);

  test('a kept-alive connection that trickles its second head is cut too', async () => {
    const socket = net.connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.201' });
    sockets.add(socket);
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(data).toMatch(/^HTTP\/1\.1 200/);
    const start = Date.now();
    socket.write(GET_HEAD);
    const t = setInterval(() => socket.write('X-Slow: a\r\n'), 300);
    const closedAfter = await new Promise<number | null>((resolve) => {
      const give = setTimeout(() => resolve(null), (HEAD_TIMEOUT_S + 5) * 1000);
      socket.once('close', () => {
        clearTimeout(give);
        resolve(Date.now() - start);
      });
    });
    clearInterval(t);
    expect(closedAfter).not.toBeNull();
    expect(closedAfter!).toBeLessThanOrEqual((HEAD_TIMEOUT_S + 2) * 1000);
  }, 30_000);
});
