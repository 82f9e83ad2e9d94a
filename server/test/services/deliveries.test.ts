import { DeliveryService } from '../../services/deliveries';
import { createTestContext, type TestContext } from '../support/harness';

/** A job no runner here takes: the retry's reset is what these tests look at (api/admin/delivery-retry.test.ts runs the real ones). */
const noopJob = { task: 'test:noop', spec: { payload: "json_build_object('deliveryIds', json_build_array(r.id))" } };

describe('deliveries', () => {
  let ctx: TestContext;
  let deliveries: DeliveryService;
  let alice: number;
  let bob: number;

  beforeAll(async () => {
    ctx = await createTestContext();
    deliveries = new DeliveryService({ sequelize: ctx.sequelize });
    alice = (await ctx.createUser('candidate')).id;
    bob = (await ctx.createUser('candidate')).id;
  });
  afterAll(() => ctx.close());

  async function notify(recipients: number[]): Promise<number[]> {
    const [rows] = await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title)
       SELECT r, 'announcement', 'Hello' FROM unnest(CAST(:ids AS int[])) r RETURNING id`,
      { replacements: { ids: `{${recipients.join(',')}}` } },
    );
    return (rows as Array<{ id: string }>).map((r) => Number(r.id));
  }

  test('claim inserts and leases; a second claim gets nothing while the lease holds', async () => {
    const ids = await notify([alice, bob]);
    const first = await deliveries.claim('email', ids);
    expect(first.map((c) => c.notificationId).sort()).toEqual([...ids].sort());
    expect(first.every((c) => c.attempts === 1)).toBe(true);
    expect(await deliveries.claim('email', ids)).toEqual([]);
    // Another channel is another delivery.
    expect(await deliveries.claim('push', ids)).toHaveLength(2);
  });

  test('a released row is claimed again by the retry, with its attempt counted', async () => {
    const [id] = await notify([alice]);
    const [c] = await deliveries.claim('email', [id]);
    expect(await deliveries.release([{ id: c.id, error: '451 try later' }])).toBe(1);
    const [again] = await deliveries.claim('email', [id]);
    expect(again).toMatchObject({ id: c.id, attempts: 2 });
    expect((await deliveries.get(c.id)).last_error).toBe('451 try later');
  });

  test('what was recorded as sent is never claimed again, even after the lease ran out', async () => {
    const [id] = await notify([alice]);
    const [c] = await deliveries.claim('email', [id], { leaseSeconds: 0 });
    expect(await deliveries.markSent([{ id: c.id, providerMessageId: '<m1@x>' }])).toBe(1);
    expect(await deliveries.claim('email', [id])).toEqual([]);
    // A duplicate job finishing late cannot record a second send.
    expect(await deliveries.markSent([{ id: c.id, providerMessageId: '<m2@x>' }])).toBe(0);
    const d = await deliveries.get(c.id);
    expect(d).toMatchObject({ status: 'sent', provider_message_id: '<m1@x>', attempts: 1 });
    expect(d.sent_at).not.toBeNull();
  });

  test('a job that died mid-send leaves its rows claimable once the lease runs out', async () => {
    const [id] = await notify([bob]);
    const [c] = await deliveries.claim('email', [id], { leaseSeconds: 0 });
    const [again] = await deliveries.claim('email', [id]);
    expect(again).toMatchObject({ id: c.id, attempts: 2 });
  });

  test('duplicated jobs claiming at once split the rows: none is claimed twice', async () => {
    const ids = await notify(Array.from({ length: 40 }, (_, i) => (i % 2 ? alice : bob)));
    const claims = await Promise.all(Array.from({ length: 4 }, () => deliveries.claim('email', ids)));
    const claimed = claims.flat().map((c) => c.notificationId);
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  test('claim from a query: the choice of recipients and the claim are one statement', async () => {
    const ids = await notify([alice, bob]);
    const claimed = await deliveries.claim('email', {
      sql: `SELECT id AS notification_id, recipient_id FROM notifications WHERE id = ANY(CAST(:ids AS bigint[])) AND recipient_id = :who`,
      replacements: { ids: `{${ids.join(',')}}`, who: bob },
    });
    expect(claimed).toEqual([expect.objectContaining({ notificationId: ids[1], recipientId: bob })]);
  });

  test('failed rows stay failed until an admin retries; only failed rows can be retried', async () => {
    const [id] = await notify([alice]);
    const [c] = await deliveries.claim('email', [id]);
    await deliveries.markFailed([{ id: c.id, error: '550 no such user' }]);
    expect(await deliveries.claim('email', [id])).toEqual([]);
    expect(await deliveries.get(c.id)).toMatchObject({ status: 'failed', last_error: '550 no such user' });
    expect(await deliveries.retry(c.id, noopJob)).toMatchObject({ status: 'pending' });
    const [again] = await deliveries.claim('email', [id]);
    expect(again.id).toBe(c.id);
    await deliveries.markSent([{ id: c.id, providerMessageId: null }]);
    await expect(deliveries.retry(c.id, noopJob)).rejects.toMatchObject({ status: 409 });
    await expect(deliveries.retry(99_999_999, noopJob)).rejects.toMatchObject({ status: 404 });
  });

  test('the admin list filters by channel, status and recipient, newest first, keyset-paged', async () => {
    const ids = await notify([bob, bob, bob, alice]);
    const claimed = await deliveries.claim('webhook', ids);
    await deliveries.markFailed([{ id: claimed[0].id, error: 'boom' }]);
    const page1 = await deliveries.list({ channel: 'webhook', recipient: bob, limit: 2 });
    expect(page1.results.map((d) => d.notification_id)).toEqual([ids[2], ids[1]]);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = await deliveries.list({ channel: 'webhook', recipient: bob, limit: 2, cursor: page1.next_cursor! });
    expect(page2.results.map((d) => d.notification_id)).toEqual([ids[0]]);
    expect(page2.next_cursor).toBeNull();
    const failed = await deliveries.list({ channel: 'webhook', status: 'failed' });
    expect(failed.results.map((d) => d.id)).toEqual([claimed[0].id]);
    await expect(deliveries.list({ status: 'lost' })).rejects.toMatchObject({ status: 400 });
    await expect(deliveries.list({ cursor: 'nope' })).rejects.toMatchObject({ status: 400 });
  });
});
