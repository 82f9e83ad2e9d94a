/**
 * The sender's safety limits (issue 15), each against a real receiver on loopback run by the job runner as main.ts
 * runs it: a 3xx is an answer, never followed; a receiver that does not answer in time is cut and the try logged as
 * a timeout; a receiver that streams without end is cut at the excerpt cap. Production's retry schedule: a failed
 * first try is retried 5-15 s later, after these tests have looked at it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryTypes } from 'sequelize';
import { EXCERPT_BYTES } from '../../../channels/webhooks';
import type { Course } from '../../../models';
import { waitFor } from '../../support/wait';
import type { Agent } from '../../support/harness';
import { createWebhookContext, type WebhookContext } from '../../support/webhook-receiver';

/** The try's time limit here (production: 10 s); long enough for a loaded machine to connect and send. */
const TIMEOUT_MS = 1_500;

interface Peer {
  url: string;
  /** When each request arrived, and when its connection was closed (by us, the sender: the peer never closes). */
  requests: { at: number; closedAt?: number; written: number }[];
  close(): Promise<void>;
}

let ctx: WebhookContext;
let admin: Agent;
let course: Course;
const peers: Peer[] = [];

beforeAll(async () => {
  ctx = await createWebhookContext({ webhookTimeoutMs: TIMEOUT_MS });
  admin = await ctx.login(await ctx.createUser('admin'));
  course = await ctx.createCourse(await ctx.createUser('instructor'), { students: [await ctx.createUser('candidate')] });
});
afterAll(async () => {
  await ctx.close();
  for (const p of peers) await p.close();
});

/** An HTTP server on loopback answering each request with `answer` (which may never finish it). */
async function peer(answer: (req: http.IncomingMessage, res: http.ServerResponse, seen: Peer['requests'][number]) => void): Promise<Peer> {
  const requests: Peer['requests'] = [];
  const server = http.createServer((req, res) => {
    const seen = { at: Date.now(), written: 0 } as Peer['requests'][number];
    requests.push(seen);
    req.socket.once('close', () => (seen.closedAt = Date.now()));
    req.resume();
    req.on('end', () => answer(req, res, seen));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p: Peer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  peers.push(p);
  return p;
}

/** Registers `url` for broadcasts; returns the endpoint's id. */
async function register(url: string): Promise<number> {
  return (await admin.post('/api/admin/webhooks/', { url, events: ['broadcast.sent'], description: 'limits' }).expect(201)).body.id;
}

interface Attempt {
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
}
interface Delivery {
  status: string;
  attempts: Attempt[];
}

/** The endpoint's one delivery, once its first try is logged. */
async function firstTry(endpointId: number): Promise<Delivery> {
  let d: Delivery | undefined;
  await waitFor(async () => {
    [d] = (await admin.get(`/api/admin/webhooks/${endpointId}/deliveries/`).expect(200)).body.results;
    return (d?.attempts.length ?? 0) > 0;
  }, 15_000, 100);
  return d!;
}

/** Whether the try after the first is queued (the failure was taken as one the schedule retries). */
async function retryQueued(endpointId: number): Promise<boolean> {
  const [row] = await ctx.sequelize.query<{ n: number }>(
    // The public jobs view has no payload; the table behind it does.
    `SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN webhook_deliveries d ON j.key = 'webhook:deliver:' || d.id
      WHERE d.endpoint_id = :endpointId AND (j.payload->>'attempt')::int = 2 AND j.run_at > now()`,
    { type: QueryTypes.SELECT, replacements: { endpointId } },
  );
  return row.n === 1;
}

const broadcast = (title: string) =>
  ctx.services.notifications.fanOut({ kind: 'course', courseId: course.id }, { type: 'announcement', title, message: '', senderId: null });

async function unregister(...ids: number[]) {
  for (const id of ids) await admin.delete(`/api/admin/webhooks/${id}/`).expect(204);
}

test('a 3xx is the answer, never followed: the redirect target hears nothing, the try is a failure with its status', async () => {
  const target = await ctx.receiver();
  const codes = [301, 302, 303, 307, 308];
  const ids: number[] = [];
  for (const code of codes) {
    const p = await peer((_req, res) => res.writeHead(code, { location: target.url }).end('moved'));
    ids.push(await register(p.url));
  }
  await broadcast('Redirected');
  const tries = await Promise.all(ids.map(firstTry));
  // The follow-up a redirect-following client would make leaves at once; give it time to land, on a loaded machine.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(target.received).toEqual([]);
  expect(tries.map((d) => [d.status, d.attempts.map((a) => [a.attempt, a.status_code, a.error, a.response_excerpt])])).toEqual(
    codes.map((code) => ['pending', [[1, code, null, 'moved']]]),
  );
  for (const id of ids) expect(await retryQueued(id)).toBe(true);
  await unregister(...ids);
});

test('a receiver that does not answer within the time limit is cut and the try logged as a timeout; a 2xx that came in time counts', async () => {
  // One never answers at all; one sends its status line at once and then a byte a second, never reaching the cap.
  const silent = await peer(() => undefined);
  const trickle = await peer((_req, res, seen) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x', () => (seen.written += 1)), 1_000);
    res.on('close', () => clearInterval(timer));
  });
  const [quiet, slow] = [await register(silent.url), await register(trickle.url)];
  await broadcast('Too slow');
  const [q, s] = await Promise.all([quiet, slow].map(firstTry));
  expect(q.status).toBe('pending');
  expect(q.attempts).toHaveLength(1);
  expect([q.attempts[0].status_code, q.attempts[0].error]).toEqual([null, `no answer within ${TIMEOUT_MS} ms`]);
  // "A 2xx within 10 s counts": the status came at once; only the body's reading was cut at the limit.
  expect(s.status).toBe('succeeded');
  expect([s.attempts[0].status_code, s.attempts[0].error]).toEqual([200, null]);
  for (const d of [q, s]) {
    expect(d.attempts[0].latency_ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(d.attempts[0].latency_ms).toBeLessThan(TIMEOUT_MS + 2_000);
  }
  // The connections were closed by the sender when the limit ran out, not left to the peers.
  for (const p of [silent, trickle]) {
    await waitFor(() => p.requests[0]?.closedAt !== undefined, 3_000);
    const held = p.requests[0].closedAt! - p.requests[0].at;
    expect(held).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(held).toBeLessThan(TIMEOUT_MS + 2_000);
  }
  expect(await retryQueued(quiet)).toBe(true);
  await unregister(quiet, slow);
});

test('a receiver that streams a body without end is cut at the excerpt cap; the try keeps its status and 1 KB of it', async () => {
  // 64 KiB chunks for as long as the connection lasts: the sender must stop reading, not the peer stop writing.
  const chunk = 'y'.repeat(64 * 1024);
  const ids: number[] = [];
  const streams: Peer[] = [];
  for (const status of [200, 503]) {
    const p = await peer((_req, res, seen) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) seen.written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    streams.push(p);
    ids.push(await register(p.url));
  }
  await broadcast('Firehose');
  const [ok, failing] = await Promise.all(ids.map(firstTry));
  for (const [d, status] of [[ok, 200], [failing, 503]] as const) {
    const [a] = d.attempts;
    expect([a.status_code, a.error]).toEqual([status, null]);
    expect(a.response_excerpt).toBe('y'.repeat(EXCERPT_BYTES));
    // Cut by the cap, long before the time limit would have cut it.
    expect(a.latency_ms).toBeLessThan(TIMEOUT_MS);
  }
  expect(ok.status).toBe('succeeded');
  expect(failing.status).toBe('pending');
  expect(await retryQueued(ids[1])).toBe(true);
  for (const p of streams) {
    await waitFor(() => p.requests[0]?.closedAt !== undefined, 3_000);
    // What the peer got out before the cut is what loopback's socket buffers hold, not an unbounded read.
    expect(p.requests[0].written).toBeLessThan(16 * 1024 * 1024);
  }
  await unregister(...ids);
});
