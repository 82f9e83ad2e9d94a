import { Router } from 'express';
import type { Sequelize } from 'sequelize';
import type { Bus } from './bus';
import type { RealtimeMetrics } from './metrics';

/**
 * /metrics (Prometheus text) and /readyz (database and bus reachable, else 503). Mounted before sessions by
 * createApp, so probes never touch the session store. /healthz (liveness) lives in app.ts.
 */
export function createProbes(deps: { sequelize: Sequelize; bus: Bus; metrics: RealtimeMetrics }): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  router.get('/readyz', async (_req, res) => {
    const [database, bus] = await Promise.all([
      check(() => deps.sequelize.query('SELECT 1')),
      check(() => deps.bus.ping()),
    ]);
    const ok = database === 'ok' && bus === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', database, bus });
  });
  return router;
}

async function check(fn: () => Promise<unknown>): Promise<'ok' | 'down'> {
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000).unref())]);
    return 'ok';
  } catch {
    return 'down';
  }
}
