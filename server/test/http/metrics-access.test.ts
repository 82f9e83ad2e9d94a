import request from 'supertest';
import { createApp } from '../../app';
import { loadConfig } from '../../config';
import { createLogger } from '../../logger';
import { createRealtime, LocalBus } from '../../realtime';
import { createTestContext, type TestContext } from '../support/harness';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

const TOKEN = 'metrics-token-for-the-tests-0123456789';

/** The app as main.ts builds it, probes included, with or without METRICS_TOKEN. */
function appWith(metricsToken?: string) {
  const config = { ...ctx.config, metricsToken };
  const logger = createLogger('silent');
  const realtime = createRealtime({
    config,
    logger,
    sequelize: ctx.sequelize,
    services: ctx.services,
    bus: new LocalBus(ctx.events, logger),
    session: ctx.session.middleware,
  });
  return createApp({ config, logger, services: ctx.services, session: ctx.session.middleware, probes: realtime.probes });
}

describe('10.9 /metrics is for operators only', () => {
  test('without METRICS_TOKEN it is not served at all; liveness and readiness stay public', async () => {
    const app = appWith(undefined);
    const res = await request(app).get('/metrics').expect(404);
    expect(res.text).not.toMatch(/herald_/);
    await request(app).get('/metrics').set('Authorization', 'Bearer anything').expect(404);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/readyz').expect(200);
  });

  test('with METRICS_TOKEN it needs exactly that bearer token', async () => {
    const app = appWith(TOKEN);
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
      const t = request(app).get('/metrics');
      const res = await (auth === undefined ? t : t.set('Authorization', auth)).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.text).not.toMatch(/herald_/);
    }
    const ok = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(ok.text).toMatch(/^herald_ws_open_sockets \d/m);
  });

  test('METRICS_TOKEN is read from the environment and must not be trivially short', () => {
    expect(loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(32), METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN);
    expect(() => loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(32), METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
