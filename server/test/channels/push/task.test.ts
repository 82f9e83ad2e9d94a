import https from 'node:https';
import { QueryTypes } from 'sequelize';
import { noVisibleTab, PushSender, pushTasks, PUSH_TASK, type ClaimedPush, type PushDeliveries, type PushJob } from '../../../channels/push';
import { createLogger } from '../../../logger';
import type { User } from '../../../models';
import { guardedLookup, type OutboundPolicy } from '../../../outbound';
import { PushSubscriptions } from '../../../services/push-subscriptions';
import { startPushService, type PushService } from '../../support/push-service';
import { createTestContext, type TestContext } from '../../support/harness';

/**
 * The push job task against the local push service and real PostgreSQL. This branch predates the deliveries
 * table (issue 12's branch has it), so the record is a small stand-in with DeliveryService's contract: a row per
 * (notification, push), claimed while pending and free, never claimed again once sent, failed or skipped.
 */
let ctx: TestContext;
let service: PushService;
let user: User;
let other: User;
const policy: OutboundPolicy = { allowPrivate: true };

class DeliveryRecord implements PushDeliveries {
  rows = new Map<number, { id: number; notificationId: number; recipientId: number; status: string; error?: string; claimed: boolean }>();
  #seq = 0;
  async claim(_channel: 'push', source: { sql: string; replacements?: Record<string, unknown> }): Promise<ClaimedPush[]> {
    const src = await ctx.sequelize.query<{ notification_id: string; recipient_id: number }>(source.sql, {
      replacements: source.replacements,
      type: QueryTypes.SELECT,
    });
    const out: ClaimedPush[] = [];
    for (const s of src) {
      const nid = Number(s.notification_id);
      let row = [...this.rows.values()].find((r) => r.notificationId === nid);
      if (!row) this.rows.set(++this.#seq, (row = { id: this.#seq, notificationId: nid, recipientId: s.recipient_id, status: 'pending', claimed: false }));
      if (row.status !== 'pending' || row.claimed) continue;
      row.claimed = true;
      out.push({ id: row.id, notificationId: nid, recipientId: row.recipientId });
    }
    return out;
  }
  #set(status: string, rows: Array<{ id: number; error?: string }>) {
    for (const r of rows) Object.assign(this.rows.get(r.id)!, { status, error: r.error, claimed: false });
    return Promise.resolve(rows.length);
  }
  markSent = (rows: Array<{ id: number }>) => this.#set('sent', rows);
  markFailed = (rows: Array<{ id: number; error: string }>) => this.#set('failed', rows);
  markSkipped = (rows: Array<{ id: number; error: string }>) => this.#set('skipped', rows);
  release = (rows: Array<{ id: number; error: string }>) => this.#set('pending', rows);
  status = (notificationId: number) => [...this.rows.values()].find((r) => r.notificationId === notificationId)?.status;
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

function setup() {
  const record = new DeliveryRecord();
  const sender = new PushSender({
    subscriptions: ctx.services.pushSubscriptions,
    vapid: ctx.services.vapid,
    policy,
    logger: createLogger('silent'),
    agent: new https.Agent({ keepAlive: true, lookup: guardedLookup(policy), ca: service.ca }),
  });
  const tasks = pushTasks({
    sequelize: ctx.sequelize,
    deliveries: record,
    subscriptions: ctx.services.pushSubscriptions,
    sender,
    // The lead's source adds the preference and quiet-hours join; the visibility rule is this branch's.
    source: (job: PushJob) => ({
      sql: `SELECT n.id AS notification_id, n.recipient_id FROM notifications n
             WHERE n.id = ANY(CAST(:ids AS bigint[])) AND ${noVisibleTab('n.recipient_id')}`,
      replacements: { ids: `{${(job.notificationIds ?? []).join(',')}}` },
    }),
  });
  const added: Array<{ task: string; payload: unknown; spec: { runAt?: Date; jobKey?: string } }> = [];
  const helpers = {
    addJob: async (task: string, payload: unknown, spec: { runAt?: Date; jobKey?: string } = {}) => {
      added.push({ task, payload, spec });
      return {} as never;
    },
    logger: { info: () => undefined } as never,
  };
  return { record, run: (job: PushJob) => tasks[PUSH_TASK](job, helpers), added };
}

const note = (recipient: User, title = 'Application approved') =>
  ctx.models.Notification.create({ recipientId: recipient.id, type: 'application_approved', title, message: 'Welcome' }).then((n) => Number(n.id));

test('one delivery per notification: sent when a device accepted it, never sent twice; no device means skipped', async () => {
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(user.id, browser.json);
  const [mine, theirs] = [await note(user), await note(other)];
  const { record, run } = setup();
  await run({ notificationIds: [mine, theirs] });
  expect(record.status(mine)).toBe('sent');
  expect(record.status(theirs)).toBe('skipped');
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
  const { record, run, added } = setup();
  await run({ notificationIds: [id] });
  expect(record.status(id)).toBe('pending');
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ task: PUSH_TASK, payload: { notificationIds: [id] }, spec: { jobKey: `${PUSH_TASK}:retry:${id}` } });
  expect(added[0].spec.runAt!.getTime() - Date.now()).toBeGreaterThan(55_000);

  await run({ notificationIds: [id] }); // the rescheduled job: accepted now
  expect(record.status(id)).toBe('sent');
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
  const { record, run } = setup();
  await run({ notificationIds: [id] });
  expect(record.status(id)).toBeUndefined();
  expect(service.received.some((r) => r.endpoint === browser.endpoint)).toBe(false);
});
