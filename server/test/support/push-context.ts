import https from 'node:https';
import { guardedLookup } from '../../outbound';
import { createTestContext, type TestContext } from './harness';
import { startPushService, type PushService } from './push-service';

/** A push service for a test context made after it: the context's VAPID key is read when a push first needs it. */
export function startPushServiceFor(ctx: () => TestContext): Promise<PushService> {
  return startPushService({ vapidPublicKey: async () => (await ctx().services.vapid.get()).publicKey });
}

/**
 * createTestContext's options for a job runner that sends pushes to `service` as main.ts's runner sends them, through
 * a guarded keep-alive agent; that agent trusts the service's certificate, and OUTBOUND_ALLOW_PRIVATE lets it reach
 * loopback.
 */
export function pushSenderOptions(service: PushService) {
  const pushAgent = new https.Agent({ keepAlive: true, lookup: guardedLookup({ allowPrivate: true }), ca: service.ca });
  return { jobs: true, pushAgent, env: { OUTBOUND_ALLOW_PRIVATE: 'true' } };
}

/** A test context whose job runner sends pushes to a local push service of its own (close both after the file). */
export async function createPushContext(): Promise<{ ctx: TestContext; service: PushService }> {
  let ctx: TestContext | undefined;
  const service = await startPushServiceFor(() => ctx!);
  ctx = await createTestContext(pushSenderOptions(service));
  return { ctx, service };
}
