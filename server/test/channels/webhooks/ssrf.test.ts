/**
 * Server-side request forgery, at registration and at delivery, under the production policy (no
 * OUTBOUND_ALLOW_PRIVATE). Nothing leaves the machine: names resolve through a stub, and the only server is a
 * receiver on loopback that must never be reached.
 */
import { QueryTypes } from 'sequelize';
import { enqueueWebhookEvent, notificationEvent, WebhookSender, webhookTasks } from '../../../channels/webhooks';
import { createLogger } from '../../../logger';
import type { User } from '../../../models';
import type { Resolver } from '../../../outbound';
import { WEBHOOK_TASK, WebhookService } from '../../../services/webhooks';
import { createTestContext, type TestContext } from '../../support/harness';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver';

let ctx: TestContext;
let receiver: WebhookReceiver;
let admin: User;

/** `hooks.example.test` was public when registered and points at loopback now (DNS rebinding). */
const names: Record<string, string[]> = {
  'hooks.example.test': ['93.184.215.14'],
  'loopback.example.test': ['127.0.0.1'],
  'mixed.example.test': ['93.184.215.14', '10.0.0.7'],
};
const stub: Resolver = async (host) => {
  const addrs = names[host];
  if (!addrs) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const policy = { allowPrivate: false, resolve: stub };

beforeAll(async () => {
  ctx = await createTestContext();
  expect(ctx.config.outboundAllowPrivate).toBe(false);
  receiver = await startWebhookReceiver();
  admin = await ctx.createUser('admin');
});
afterAll(async () => {
  await ctx.close();
  await receiver.close();
});

describe('at registration: 400 forbidden_target, nothing stored', () => {
  test.each([
    'https://127.0.0.1/hook',
    'https://10.1.2.3/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'http://127.0.0.1/hook', // and plain http is refused outright in production
    'https://user:pass@hooks.example.test/hook',
  ])('%s over the API', async (url) => {
    const agent = await ctx.login(admin);
    const res = await agent.post('/api/admin/webhooks/', { url, events: ['broadcast.sent'] }).expect(400);
    expect(res.body.error.code).toBe('forbidden_target');
  });

  test('a name resolving to loopback, or to a private address among public ones', async () => {
    const webhooks = new WebhookService({ sequelize: ctx.sequelize, policy });
    for (const host of ['loopback.example.test', 'mixed.example.test', 'unknown.example.test']) {
      await expect(webhooks.create(admin, { url: `https://${host}/hook`, events: ['broadcast.sent'], description: '' })).rejects.toMatchObject({
        status: 400,
        code: 'forbidden_target',
      });
    }
    const ok = await webhooks.create(admin, { url: 'https://hooks.example.test/hook', events: ['broadcast.sent'], description: '' });
    expect(ok.url).toBe('https://hooks.example.test/hook');
    const [{ n }] = await ctx.sequelize.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints', { type: QueryTypes.SELECT });
    expect(n).toBe(1);
  });
});

describe('at delivery: resolved again as the socket connects', () => {
  const port = () => new URL(receiver.url).port;

  test('a name that now resolves to loopback is refused before connecting', async () => {
    names['hooks.example.test'] = ['127.0.0.1'];
    const sender = new WebhookSender({ policy });
    const r = await sender.send({ url: `http://hooks.example.test:${port()}/hook`, secret: 'whsec_AAAA' }, { id: 'msg_1', body: '{}' });
    expect(r).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/not a public address/) });
    const literal = await sender.send({ url: `http://127.0.0.1:${port()}/hook`, secret: 'whsec_AAAA' }, { id: 'msg_2', body: '{}' });
    expect(literal).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/not a public address/) });
    expect(receiver.received).toHaveLength(0);
  });

  test('the refused try is logged and retried; an endpoint failing for the disable period is disabled and its owner told', async () => {
    names['hooks.example.test'] = ['127.0.0.1'];
    const [endpoint] = await ctx.sequelize.query<{ id: number }>('SELECT id FROM webhook_endpoints', { type: QueryTypes.SELECT });
    const student = await ctx.createUser('candidate');
    const course = await ctx.createCourse(await ctx.createUser('instructor'), { students: [student] });
    const fan = await ctx.services.notifications.fanOut({ kind: 'course', courseId: course.id }, { type: 'announcement', title: 'x', message: '', senderId: null });
    expect(await enqueueWebhookEvent(ctx.sequelize, notificationEvent({ batchId: fan.batchId }, Date.now()))).toBe(1);
    const [delivery] = await ctx.sequelize.query<{ id: string }>('SELECT id FROM webhook_deliveries', { type: QueryTypes.SELECT });

    const logger = createLogger('silent');
    const run = (disableAfterMs: number) =>
      webhookTasks({ sequelize: ctx.sequelize, sender: new WebhookSender({ policy }), notifications: ctx.services.notifications, logger, disableAfterMs })[
        WEBHOOK_TASK
      ]({ deliveryId: Number(delivery.id) });

    await run(86_400_000); // refused and logged; the next try queued (no runner here: the job waits)
    const [queued] = await ctx.sequelize.query<{ payload: object }>(`SELECT payload FROM graphile_worker._private_jobs WHERE key = :key`, {
      type: QueryTypes.SELECT,
      replacements: { key: `${WEBHOOK_TASK}:${delivery.id}` },
    });
    expect(queued.payload).toEqual({ deliveryId: Number(delivery.id), attempt: 2 });
    await run(0); // failing "for a day" already: disabled
    const log = await ctx.services.webhooks.deliveries(endpoint.id);
    expect(log[0]).toMatchObject({ status: 'failed' });
    expect(log[0].attempts.map((a) => [a.attempt, a.statusCode, /not a public address/.test(a.error ?? '')])).toEqual([
      [1, null, true],
      [2, null, true],
    ]);
    const [ep] = await ctx.services.webhooks.list();
    expect(ep).toMatchObject({ enabled: false, disabledAt: expect.any(Date) });
    const inbox = await ctx.services.notifications.list(admin.id, { status: 'all', limit: 5 });
    expect(inbox.results[0]).toMatchObject({ title: 'A webhook endpoint was disabled' });
    expect(receiver.received).toHaveLength(0);
  });
});
