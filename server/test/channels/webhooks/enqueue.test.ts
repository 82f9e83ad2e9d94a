/**
 * The enqueue statement reads an event's source only when an enabled endpoint listens for its type: a
 * `broadcast.sent` source aggregates a whole fan-out's rows, which a platform with no endpoint must not pay for.
 * The source here fails when it runs (a division by zero only execution reaches), so the statement's answer says
 * whether it ran.
 */
import { QueryTypes } from 'sequelize';
import { enqueueWebhookEvent } from '../../../channels/webhooks/enqueue';
import { eventId, type WebhookEvent } from '../../../channels/webhooks/events';
import type { User } from '../../../models';
import { createTestContext, type TestContext } from '../../support/harness';

let ctx: TestContext;
let admin: User;

beforeAll(async () => {
  ctx = await createTestContext();
  admin = await ctx.createUser('admin');
});
afterAll(() => ctx.close());

const failingSource = (n: number): WebhookEvent => ({
  type: 'broadcast.sent',
  id: eventId(`enqueue-test:${n}`),
  timestamp: new Date().toISOString(),
  // Shaped like the broadcast's source (an aggregate over rows, one row out), which the planner puts outermost.
  source: `SELECT json_build_object('n', 1 / (count(*) - count(*))) AS data, min(CAST(NULL AS integer)) AS course_id
             FROM users HAVING count(*) > 0`,
  replacements: {},
});

async function endpoint(events: string[], enabled = true): Promise<void> {
  await ctx.sequelize.query(
    `INSERT INTO webhook_endpoints (user_id, url, events, secret, enabled) VALUES (:userId, 'https://hooks.example/x', CAST(:events AS text[]), 'whsec_x', :enabled)`,
    { replacements: { userId: admin.id, events: `{${events.join(',')}}`, enabled } },
  );
}

test('no endpoint, or none enabled for the type: the source is not read and nothing is written', async () => {
  expect(await enqueueWebhookEvent(ctx.sequelize, failingSource(1))).toBe(0);
  await endpoint(['notification.created']);
  await endpoint(['broadcast.sent'], false);
  expect(await enqueueWebhookEvent(ctx.sequelize, failingSource(2))).toBe(0);
  const [{ n }] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM webhook_deliveries', { type: QueryTypes.SELECT });
  expect(Number(n)).toBe(0);
});

test('an enabled endpoint for the type: the source runs (and here fails, so the whole statement does)', async () => {
  await endpoint(['broadcast.sent']);
  await expect(enqueueWebhookEvent(ctx.sequelize, failingSource(3))).rejects.toThrow(/division by zero/);
});
