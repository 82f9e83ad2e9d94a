import https from 'node:https';
import { QueryTypes } from 'sequelize';
import { noVisibleTab, PushSender, pushTasks, PUSH_TASK, type PushJob } from '../../../channels/push';
import { createLogger } from '../../../logger';
import type { User } from '../../../models';
import { guardedLookup, type OutboundPolicy } from '../../../outbound';
import { DeliveryService } from '../../../services/deliveries';
import { PushSubscriptions } from '../../../services/push-subscriptions';
import { startPushService, type PushService } from '../../support/push-service';
import { createTestContext, type TestContext } from '../../support/harness';

/**
 * The push job task against the local push service, real PostgreSQL and the real deliveries record: a row per
 * (notification, push), claimed while pending and free, never claimed again once sent, failed or skipped.
 */
let ctx: TestContext;
let service: PushService;
let user: User;
let other: User;
const policy: OutboundPolicy = { allowPrivate: true };

async function status(notificationId: number): Promise<string | undefined> {
  const [row] = await ctx.sequelize.query<{ status: string }>(
    "SELECT status FROM deliveries WHERE notification_id = :id AND channel = 'push'",
    { replacements: { id: notificationId }, type: QueryTypes.SELECT },
  );
  return row?.status;
}

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.services.pushSubscriptions = new PushSubscriptions({ sequelize: ctx.sequelize, policy });
  service = await startPushService({ vapidPublicKey: async () => (await ctx.services.vapid.get()).publicKey });
  user = await ctx.createUser('candidate');
  other = await ctx.createUser('candidate');
});
afterAll(async () => {
  await service.close();
  await ctx.close();
});

type Source = (job: PushJob) => { sql: string; replacements?: Record<string, unknown> };
const byIds = (job: PushJob, extra = '') => ({
  sql: `SELECT n.id AS notification_id, n.recipient_id FROM notifications n
         WHERE n.id = ANY(CAST(:ids AS bigint[])) AND ${noVisibleTab('n.recipient_id')} ${extra}`,
  replacements: { ids: `{${(job.notificationIds ?? []).join(',')}}` },
});

function setup(opts: { source?: Source; unwanted?: Source } = {}) {
  const sender = new PushSender({
    subscriptions: ctx.services.pushSubscriptions,
    vapid: ctx.services.vapid,
    policy,
    logger: createLogger('silent'),
    agent: new https.Agent({ keepAlive: true, lookup: guardedLookup(policy), ca: service.ca }),
  });
  const tasks = pushTasks({
    sequelize: ctx.sequelize,
    deliveries: new DeliveryService({ sequelize: ctx.sequelize }),
    subscriptions: ctx.services.pushSubscriptions,
    sender,
    // A bare source (ids, no visible tab); the channel's own pushSource is exercised end to end in wiring.test.ts.
    source: opts.source ?? ((job: PushJob) => byIds(job)),
    unwanted: opts.unwanted,
  });
  const added: Array<{ task: string; payload: unknown; spec: { runAt?: Date; jobKey?: string } }> = [];
  const helpers = {
    addJob: async (task: string, payload: unknown, spec: { runAt?: Date; jobKey?: string } = {}) => {
      added.push({ task, payload, spec });
      return {} as never;
    },
    logger: { info: () => undefined } as never,
  };
  return { run: (job: PushJob) => tasks[PUSH_TASK](job, helpers), added };
}

const note = (recipient: User, title = 'Application approved') =>
  ctx.models.Notification.create({ recipientId: recipient.id, type: 'application_approved', title, message: 'Welcome' }).then((n) => Number(n.id));

test('one delivery per notification: sent when a device accepted it, never sent twice; no device means skipped', async () => {
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(user.id, browser.json);
  const [mine, theirs] = [await note(user), await note(other)];
  const { run } = setup();
  await run({ notificationIds: [mine, theirs] });
  expect(await status(mine)).toBe('sent');
  expect(await status(theirs)).toBe('skipped');
  expect(service.received.filter((r) => r.endpoint === browser.endpoint).map((r) => (r.payload as { id: number }).id)).toEqual([mine]);

  await run({ notificationIds: [mine, theirs] }); // a duplicated job
  expect(service.received.filter((r) => r.endpoint === browser.endpoint)).toHaveLength(1);
});

test('a busy push service leaves the delivery pending and reschedules the job after its Retry-After', async () => {
  const busy = await ctx.createUser('candidate');
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(busy.id, browser.json);
  const id = await note(busy, 'Busy');
  service.script(browser.endpoint, { status: 429, headers: { 'Retry-After': '60' } });
  const { run, added } = setup();
  await run({ notificationIds: [id] });
  expect(await status(id)).toBe('pending');
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ task: PUSH_TASK, payload: { notificationIds: [id] }, spec: { jobKey: `${PUSH_TASK}:retry:${id}` } });
  expect(added[0].spec.runAt!.getTime() - Date.now()).toBeGreaterThan(55_000);

  // Until the Retry-After the row stays held: a run in between (a duplicate job) does not ask again.
  const asked = service.received.length + service.rejected.length;
  await run({ notificationIds: [id] });
  expect(await status(id)).toBe('pending');
  expect(service.received.length + service.rejected.length).toBe(asked);

  await ctx.sequelize.query(`UPDATE deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = :id`, { replacements: { id } });
  await run({ notificationIds: [id] }); // the rescheduled job, after the Retry-After: accepted now
  expect(await status(id)).toBe('sent');
});

test('a held row read before the push service is free again is cancelled, not left pending for good', async () => {
  const busy = await ctx.createUser('candidate');
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(busy.id, browser.json);
  const id = await note(busy, 'Held, then read');
  service.script(browser.endpoint, { status: 429, headers: { 'Retry-After': '60' } });
  // The channel's rule (source.ts), narrowed to what this test changes: read ones are no longer picked, nor wanted.
  const { run } = setup({
    source: (job) => byIds(job, 'AND n.read_at IS NULL'),
    unwanted: (job) => byIds(job, 'AND n.read_at IS NOT NULL'),
  });
  await run({ notificationIds: [id] });
  expect(await status(id)).toBe('pending');
  // While held, reading it cancels nothing yet (the row is leased until the Retry-After): the held run decides.
  await ctx.sequelize.query('UPDATE notifications SET read_at = now() WHERE id = :id', { replacements: { id } });
  await run({ notificationIds: [id] });
  expect(await status(id)).toBe('pending');
  await ctx.sequelize.query(`UPDATE deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = :id`, { replacements: { id } });
  const asked = service.received.length + service.rejected.length;
  await run({ notificationIds: [id] });
  expect(await status(id)).toBe('cancelled');
  expect(service.received.length + service.rejected.length).toBe(asked);
});

test('a user with a visible tab gets no push: the tab shows it itself', async () => {
  const watching = await ctx.createUser('candidate');
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(watching.id, browser.json);
  await ctx.sequelize.query(
    `INSERT INTO realtime_presence (instance_id, sockets, updated_at) VALUES ('task-test', 1, now());
     INSERT INTO realtime_visible (user_id, instance_id) VALUES (${watching.id}, 'task-test')`,
  );
  const id = await note(watching, 'Seen in the tab');
  const { run } = setup();
  await run({ notificationIds: [id] });
  expect(await status(id)).toBeUndefined();
  expect(service.received.some((r) => r.endpoint === browser.endpoint)).toBe(false);
});
