import https from 'node:https';
import webPush from 'web-push';
import { pushMessage, PushSender, retryAfterMs } from '../../../channels/push';
import { createLogger } from '../../../logger';
import type { User } from '../../../models';
import { guardedLookup, type OutboundPolicy } from '../../../outbound';
import { PushSubscriptions } from '../../../services/push-subscriptions';
import { startPushService, type FakeBrowser, type PushService } from '../../support/push-service';
import { createTestContext, type TestContext } from '../../support/harness';

/**
 * The sender against a real push service on loopback (HTTPS, VAPID checked, payload decrypted). Only loopback
 * is ever contacted, under OUTBOUND_ALLOW_PRIVATE's policy; the last test shows the default policy refusing it.
 */
let ctx: TestContext;
let service: PushService;
let other: PushService;
let user: User;
const logs: Array<Record<string, unknown>> = [];
const logger = createLogger('warn', { write: (line: string) => void logs.push(JSON.parse(line)) });
const allowLoopback: OutboundPolicy = { allowPrivate: true };

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.services.pushSubscriptions = new PushSubscriptions({ sequelize: ctx.sequelize, policy: allowLoopback });
  const vapidPublicKey = async () => (await ctx.services.vapid.get()).publicKey;
  service = await startPushService({ vapidPublicKey });
  other = await startPushService({ vapidPublicKey });
  user = await ctx.createUser('candidate');
});
afterAll(async () => {
  await Promise.all([service.close(), other.close()]);
  await ctx.close();
});

function sender(policy = allowLoopback, extra: Partial<ConstructorParameters<typeof PushSender>[0]> = {}) {
  return new PushSender({
    subscriptions: ctx.services.pushSubscriptions,
    vapid: ctx.services.vapid,
    policy,
    logger,
    // The guarded agent, trusting both test certificates.
    agent: new https.Agent({ keepAlive: true, lookup: guardedLookup(policy), ca: [service.ca, other.ca] }),
    ...extra,
  });
}

/** A device of `user` subscribed at `svc`, stored as the API stores it. */
async function device(svc = service, expirationTime: number | null = null): Promise<{ browser: FakeBrowser; id: number }> {
  const browser = svc.subscribe();
  const { id } = await ctx.services.pushSubscriptions.save(user.id, { ...browser.json, expirationTime });
  return { browser, id };
}

async function targetsOf(ids: number[]) {
  const [rows] = await ctx.sequelize.query(
    'SELECT id, user_id, endpoint, p256dh, auth, expiration_time FROM push_subscriptions WHERE id = ANY(CAST(:ids AS integer[]))',
    { replacements: { ids: `{${ids.join(',')}}` } },
  );
  return rows as Awaited<ReturnType<typeof ctx.services.pushSubscriptions.targets>>;
}

const decision = { id: 41, type: 'application_approved' as const, title: 'Application approved', message: 'Welcome to Rust 101', applicationId: 7 };
const announcement = { id: 42, type: 'announcement' as const, title: 'Room change', message: 'B12 today' };

test('a decision arrives encrypted, signed with the published key, a day to live, high urgency, grouped by application', async () => {
  const { browser, id } = await device();
  const report = await sender().send(pushMessage(decision), await targetsOf([id]));
  expect(report).toMatchObject({ sent: [id], gone: [], failed: [], retry: { ids: [] } });
  expect(service.rejected).toEqual([]);
  const got = service.received.find((r) => r.endpoint === browser.endpoint)!;
  expect(got.payload).toEqual({
    id: 41,
    title: 'Application approved',
    body: 'Welcome to Rust 101',
    url: '/notifications/41',
    tag: 'application-7',
    type: 'application_approved',
  });
  expect(got).toMatchObject({ ttl: '86400', urgency: 'high', topic: 'application-7' });
  expect(got.claims.aud).toBe(service.origin);
  const [[row]] = (await ctx.sequelize.query('SELECT last_success_at FROM push_subscriptions WHERE id = :id', { replacements: { id } })) as [
    Array<{ last_success_at: Date | null }>,
    unknown,
  ];
  expect(row.last_success_at).not.toBeNull();
});

test('an announcement lives an hour at normal urgency; its topic is URL-safe base64 of at most 32 characters', async () => {
  const { browser, id } = await device();
  await sender().send(pushMessage(announcement), await targetsOf([id]));
  const got = service.received.find((r) => r.endpoint === browser.endpoint)!;
  expect(got).toMatchObject({ ttl: '3600', urgency: 'normal', topic: 'notification-42' });
  expect(got.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
});

test('410 and 404 delete the subscription at once', async () => {
  const a = await device();
  const b = await device();
  service.script(a.browser.endpoint, { status: 410 });
  service.script(b.browser.endpoint, { status: 404 });
  const report = await sender().send(pushMessage(announcement), await targetsOf([a.id, b.id]));
  expect(report.gone.sort()).toEqual([a.id, b.id].sort());
  expect(await targetsOf([a.id, b.id])).toEqual([]);
});

test('429 with Retry-After holds the rest of that push service and tells the caller when to come back', async () => {
  const first = await device(other);
  const rest = await Promise.all([device(other), device(other), device(other)]);
  other.script('*', { status: 429, headers: { 'Retry-After': '30' } });
  const before = other.received.length;
  const report = await sender(allowLoopback, { perOrigin: 1 }).send(pushMessage(announcement), await targetsOf([first.id, ...rest.map((d) => d.id)]));
  expect(report.sent).toEqual([]);
  expect(report.retry.ids).toHaveLength(4);
  expect(report.retry.retryAfterMs).toBeGreaterThan(29_000);
  expect(report.retry.retryAfterMs).toBeLessThanOrEqual(30_000);
  expect(other.received.length - before).toBe(1); // the others were held, not sent into the throttle

  // The job comes back after Retry-After: the same devices, now accepted.
  const again = await sender().send(pushMessage(announcement), await targetsOf(report.retry.ids));
  expect(again.sent).toHaveLength(4);
});

test('5xx is retryable; 413 is a bug logged with the payload size, not retried', async () => {
  const busy = await device();
  const big = await device();
  service.script(busy.browser.endpoint, { status: 500 });
  service.script(big.browser.endpoint, { status: 413 });
  logs.length = 0;
  const report = await sender().send(pushMessage(announcement), await targetsOf([busy.id, big.id]));
  expect(report.retry).toEqual({ ids: [busy.id] });
  expect(report.failed).toEqual([{ id: big.id, status: 413, reason: 'push service answered 413' }]);
  const bug = logs.find((l) => l.status === 413)!;
  expect(bug).toMatchObject({ level: 50, subscriptionId: big.id, payloadBytes: expect.any(Number) });
});

test('a subscription past its expirationTime is not used', async () => {
  const { browser, id } = await device(service, Date.now() + 60_000);
  await ctx.sequelize.query(`UPDATE push_subscriptions SET expiration_time = now() - interval '1 minute' WHERE id = :id`, { replacements: { id } });
  expect(await ctx.services.pushSubscriptions.targets([user.id])).not.toContainEqual(expect.objectContaining({ id }));
  const report = await sender().send(pushMessage(announcement), await targetsOf([id]));
  expect(report.expired).toEqual([id]);
  expect(service.received.some((r) => r.endpoint === browser.endpoint)).toBe(false);
});

test('many devices over two push services, each group with bounded concurrency: every one is reached once', async () => {
  const devices = await Promise.all(Array.from({ length: 40 }, (_, i) => device(i % 2 ? service : other)));
  const ids = devices.map((d) => d.id);
  const report = await sender(allowLoopback, { perOrigin: 4, origins: 2 }).send(pushMessage(announcement), await targetsOf(ids));
  expect(report.sent.sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  const endpoints = new Set(devices.map((d) => d.browser.endpoint));
  const got = [...service.received, ...other.received].filter((r) => endpoints.has(r.endpoint));
  expect(got).toHaveLength(40);
});

test('under the default policy a loopback push service is refused before any request', async () => {
  const { browser, id } = await device();
  const report = await sender({ allowPrivate: false }).send(pushMessage(announcement), await targetsOf([id]));
  expect(report.failed).toEqual([{ id, reason: expect.stringContaining('not a public address') }]);
  expect(service.received.some((r) => r.endpoint === browser.endpoint)).toBe(false);
});

test('Retry-After as seconds or as an HTTP date', () => {
  expect(retryAfterMs('120')).toBe(120_000);
  const inAMinute = new Date(Date.now() + 60_000).toUTCString();
  expect(retryAfterMs(inAMinute)).toBeGreaterThan(55_000);
  expect(retryAfterMs('soon')).toBeUndefined();
});

test('the test push service itself refuses a push signed with a key other than the published one', async () => {
  const { id } = await device();
  const stranger = { get: async () => ({ ...webPush.generateVAPIDKeys(), subject: 'mailto:x@example.org' }) };
  const before = service.rejected.length;
  const report = await sender(allowLoopback, { vapid: stranger }).send(pushMessage(announcement), await targetsOf([id]));
  expect(report.failed).toEqual([{ id, status: 400, reason: 'push service answered 400' }]);
  expect(service.rejected.slice(before)).toEqual(['signed with another key than the published one']);
});
