/**
 * An admin's retry of a failed push, end to end: `POST /api/admin/deliveries/{id}/retry/` → the row back to
 * pending with its `push:deliveries` job in the same statement → the job runner the harness starts as main.ts
 * does → the local push service, which checks VAPID and decrypts. Push turned off since: skipped with the
 * reason. A busy push service: the row stays pending, held until its Retry-After, with a follow-up job.
 */
import { QueryTypes } from 'sequelize';
import { PUSH_RETRY_TASK } from '../../../channels/push';
import type { User } from '../../../models';
import { PreferenceService } from '../../../services/preferences';
import { waitFor } from '../../support/wait';
import { createPushContext } from '../../support/push-context';
import type { FakeBrowser, PushService } from '../../support/push-service';
import type { Agent, TestContext } from '../../support/harness';

let ctx: TestContext;
let service: PushService;
let prefs: PreferenceService;
let admin: Agent;

beforeAll(async () => {
  ({ ctx, service } = await createPushContext());
  prefs = new PreferenceService({ sequelize: ctx.sequelize });
  admin = await ctx.login(await ctx.createUser('admin'));
});
afterAll(async () => {
  await ctx.close();
  await service.close();
});

/** A candidate with announcements pushed, one device, and a read announcement whose push failed. */
async function failedPush(): Promise<{ user: User; browser: FakeBrowser; notificationId: number; deliveryId: number }> {
  const user = await ctx.createUser('candidate');
  await prefs.patch(user.id, { types: { announcement: { push: true } } });
  const browser = service.subscribe();
  await ctx.services.pushSubscriptions.save(user.id, browser.json);
  const n = await ctx.models.Notification.create({ recipientId: user.id, type: 'announcement', title: 'Room change', message: 'B12', readAt: new Date() });
  const [claimed] = await ctx.services.deliveries.claim('push', [Number(n.id)]);
  await ctx.services.deliveries.markFailed([{ id: claimed.id, error: 'push service answered 400' }]);
  return { user, browser, notificationId: Number(n.id), deliveryId: claimed.id };
}

async function row(id: number) {
  const [r] = await ctx.sequelize.query<{ status: string; last_error: string | null; claimed_until: Date | null }>(
    'SELECT status, last_error, claimed_until FROM deliveries WHERE id = :id',
    { replacements: { id }, type: QueryTypes.SELECT },
  );
  return r;
}
const retried = () => ctx.jobs!.done.filter((t) => t === PUSH_RETRY_TASK).length;

test('a retried push goes to the live device, read or not, and is recorded sent', async () => {
  const { browser, notificationId, deliveryId } = await failedPush();
  const before = retried();
  await admin.post(`/api/admin/deliveries/${deliveryId}/retry/`).expect(200);
  // The row is marked sent inside the job; the runner reports the job done a moment later.
  await waitFor(async () => (await row(deliveryId)).status === 'sent' && retried() > before);
  const got = service.received.filter((r) => r.endpoint === browser.endpoint);
  expect(got.map((r) => (r.payload as { id: number }).id)).toEqual([notificationId]);
  expect(service.rejected).toEqual([]);
});

test('push turned off for the type since: the retry is skipped with the reason, nothing is sent', async () => {
  const { user, browser, deliveryId } = await failedPush();
  await prefs.patch(user.id, { types: { announcement: { push: false } } });
  await admin.post(`/api/admin/deliveries/${deliveryId}/retry/`).expect(200);
  await waitFor(async () => (await row(deliveryId)).status === 'skipped');
  expect((await row(deliveryId)).last_error).toBe('push turned off for this type since');
  expect(service.received.some((r) => r.endpoint === browser.endpoint)).toBe(false);
});

test('a busy push service: the row stays pending, held until its Retry-After, and the job looks again then', async () => {
  const { browser, deliveryId } = await failedPush();
  service.script(browser.endpoint, { status: 503, headers: { 'Retry-After': '120' } });
  await admin.post(`/api/admin/deliveries/${deliveryId}/retry/`).expect(200);
  await waitFor(() => service.received.some((r) => r.endpoint === browser.endpoint));
  await waitFor(async () => (await row(deliveryId)).claimed_until !== null && (await row(deliveryId)).last_error === 'push service busy or unreachable');
  const held = await row(deliveryId);
  expect(held.status).toBe('pending');
  expect(new Date(held.claimed_until!).getTime() - Date.now()).toBeGreaterThan(110_000);
  await waitFor(async () => {
    const [job] = await ctx.sequelize.query<{ run_at: Date }>('SELECT run_at FROM graphile_worker.jobs WHERE key = :key', {
      replacements: { key: `${PUSH_RETRY_TASK}:later:{${deliveryId}}` },
      type: QueryTypes.SELECT,
    });
    return job !== undefined && new Date(job.run_at).getTime() > Date.now() + 110_000;
  });
});
