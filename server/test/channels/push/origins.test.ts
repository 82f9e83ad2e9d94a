import https from 'node:https';
import type { Duplex } from 'node:stream';
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
 * A chunk is grouped by push service origin across its recipients: two local push services (two origins), one
 * of them throttling. Its rows are held (pending, unclaimable until the Retry-After, a follow-up job then) and
 * it is not asked again by the job, while the other origin's rows, in the same chunks and in later ones, go out.
 */
let ctx: TestContext;
let busy: PushService;
let calm: PushService;
const policy: OutboundPolicy = { allowPrivate: true };

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.services.pushSubscriptions = new PushSubscriptions({ sequelize: ctx.sequelize, policy });
  const vapidPublicKey = async () => (await ctx.services.vapid.get()).publicKey;
  [busy, calm] = await Promise.all([startPushService({ vapidPublicKey }), startPushService({ vapidPublicKey })]);
});
afterAll(async () => {
  await Promise.all([busy.close(), calm.close()]);
  await ctx.close();
});

type CreateConnection = (this: https.Agent, options: https.RequestOptions, cb?: (err: Error | null, socket: Duplex) => void) => Duplex;
const baseCreateConnection = (https.Agent.prototype as unknown as { createConnection: CreateConnection }).createConnection;

/** The guarded agent trusting both services, counting the sockets it opens to each origin. */
class CountingAgent extends https.Agent {
  readonly opened = new Map<string, number>();
  override createConnection(options: https.RequestOptions, cb?: (err: Error | null, socket: Duplex) => void): Duplex {
    const origin = `https://${options.host}:${options.port}`;
    this.opened.set(origin, (this.opened.get(origin) ?? 0) + 1);
    return baseCreateConnection.call(this, options, cb);
  }
}

function setup(perOrigin: number) {
  const agent = new CountingAgent({ keepAlive: true, lookup: guardedLookup(policy), ca: [busy.ca, calm.ca] });
  const sender = new PushSender({ subscriptions: ctx.services.pushSubscriptions, vapid: ctx.services.vapid, policy, logger: createLogger('silent'), agent, perOrigin });
  const tasks = pushTasks({
    sequelize: ctx.sequelize,
    deliveries: new DeliveryService({ sequelize: ctx.sequelize }),
    subscriptions: ctx.services.pushSubscriptions,
    sender,
    chunk: 4,
    source: (job: PushJob, chunk: number) => ({
      sql: `SELECT n.id AS notification_id, n.recipient_id FROM notifications n
             WHERE n.id = ANY(CAST(:ids AS bigint[])) AND ${noVisibleTab('n.recipient_id')}
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.channel = 'push'
                                AND NOT (d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < now())))
             ORDER BY n.id LIMIT ${chunk}`,
      replacements: { ids: `{${(job.notificationIds ?? []).join(',')}}` },
    }),
    leaseEnd: async (job) => {
      const [row] = await ctx.sequelize.query<{ until: Date | null }>(
        `SELECT max(claimed_until) AS until FROM deliveries WHERE notification_id = ANY(CAST(:ids AS bigint[])) AND claimed_until > now()`,
        { type: QueryTypes.SELECT, replacements: { ids: `{${(job.notificationIds ?? []).join(',')}}` } },
      );
      return row?.until ? new Date(row.until) : null;
    },
  });
  const added: Array<{ task: string; spec: { runAt?: Date; jobKey?: string } }> = [];
  const helpers = {
    addJob: async (task: string, _payload: unknown, spec: { runAt?: Date; jobKey?: string } = {}) => {
      added.push({ task, spec });
      return {} as never;
    },
    logger: { info: () => undefined } as never,
  };
  return { run: (job: PushJob) => tasks[PUSH_TASK](job, helpers), added, agent };
}

/** `count` candidates, alternately on the busy and the calm push service, one notification each. */
async function recipients(count: number) {
  const out: Array<{ notificationId: number; service: PushService; endpoint: string }> = [];
  for (let i = 0; i < count; i++) {
    const user: User = await ctx.createUser('candidate');
    const service = i % 2 ? calm : busy;
    const browser = service.subscribe();
    await ctx.services.pushSubscriptions.save(user.id, browser.json);
    const n = await ctx.models.Notification.create({ recipientId: user.id, type: 'announcement', title: `Note ${i}`, message: 'Room change' });
    out.push({ notificationId: Number(n.id), service, endpoint: browser.endpoint });
  }
  return out;
}

async function statuses(ids: number[]) {
  const rows = await ctx.sequelize.query<{ notification_id: string; status: string; claimed_until: Date | null }>(
    `SELECT notification_id, status, claimed_until FROM deliveries WHERE channel = 'push' AND notification_id = ANY(CAST(:ids AS bigint[]))`,
    { type: QueryTypes.SELECT, replacements: { ids: `{${ids.join(',')}}` } },
  );
  return new Map(rows.map((r) => [Number(r.notification_id), r]));
}

test('a 429 from one push service holds only its rows; the other origin’s rows go on, across chunks', async () => {
  const all = await recipients(12); // 3 chunks of 4, each with both origins
  const ids = all.map((r) => r.notificationId);
  busy.script('*', { status: 429, headers: { 'Retry-After': '60' } });
  const { run, added, agent } = setup(2);
  const before = { busy: busy.received.length, calm: calm.received.length };

  await run({ notificationIds: ids });

  const rows = await statuses(ids);
  // A request already in flight when the 429 came back may have been accepted: that row is sent, the rest held.
  const acceptedBusy = new Set(busy.received.slice(before.busy).filter((r) => r.status === 201).map((r) => r.endpoint));
  for (const r of all) {
    const row = rows.get(r.notificationId)!;
    if (r.service === calm || acceptedBusy.has(r.endpoint)) expect(row.status).toBe('sent');
    else {
      expect(row.status).toBe('pending');
      // Held until the Retry-After, so no other job claims it sooner.
      expect(new Date(row.claimed_until!).getTime() - Date.now()).toBeGreaterThan(55_000);
    }
  }
  expect(calm.received.length - before.calm).toBe(6);
  // At most the requests already in flight when the 429 came back reached the busy service: not one per row.
  expect(busy.received.length - before.busy).toBeLessThanOrEqual(2);
  expect(busy.rejected).toEqual([]);
  // Bounded per origin: never more sockets to one push service than requests allowed in flight to it.
  expect(agent.opened.get(calm.origin)).toBeLessThanOrEqual(2);
  expect(agent.opened.get(busy.origin)).toBeLessThanOrEqual(2);

  // One follow-up, keyed, just after the Retry-After.
  expect(added).toHaveLength(1);
  expect(added[0].spec.jobKey).toBe(`${PUSH_TASK}:retry:${ids.join(',')}`);
  expect(added[0].spec.runAt!.getTime() - Date.now()).toBeGreaterThan(55_000);

  // A run before then asks the busy service nothing.
  const asked = busy.received.length;
  await run({ notificationIds: ids });
  expect(busy.received.length).toBe(asked);

  // After the Retry-After the follow-up sends the held rows, once each.
  await ctx.sequelize.query(`UPDATE deliveries SET claimed_until = now() - interval '1 second' WHERE notification_id = ANY(CAST(:ids AS bigint[]))`, {
    replacements: { ids: `{${ids.join(',')}}` },
  });
  await run({ notificationIds: ids });
  const after = await statuses(ids);
  expect(ids.every((id) => after.get(id)!.status === 'sent')).toBe(true);
  const busyEndpoints = new Set(all.filter((r) => r.service === busy).map((r) => r.endpoint));
  const accepted = busy.received.filter((r) => busyEndpoints.has(r.endpoint) && r.status === 201);
  expect(accepted).toHaveLength(6);
});

test('a recipient with devices on both push services is sent when the calm one accepts', async () => {
  const user = await ctx.createUser('candidate');
  const [a, b] = [busy.subscribe(), calm.subscribe()];
  await ctx.services.pushSubscriptions.save(user.id, a.json);
  await ctx.services.pushSubscriptions.save(user.id, b.json);
  const n = await ctx.models.Notification.create({ recipientId: user.id, type: 'announcement', title: 'Both', message: 'x' });
  busy.script(a.endpoint, { status: 503, headers: { 'Retry-After': '30' } });
  const { run, added } = setup(4);
  await run({ notificationIds: [Number(n.id)] });
  expect((await statuses([Number(n.id)])).get(Number(n.id))!.status).toBe('sent');
  expect(added).toEqual([]);
});
