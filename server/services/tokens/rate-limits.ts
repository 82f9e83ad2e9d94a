import { QueryTypes, type Sequelize } from 'sequelize';

/** Where a caller stands in its current window. */
export interface RateState {
  /** Requests counted in this window, this one included. */
  used: number;
  /** When the window ends (epoch ms); the budget is whole again after it. */
  resetAt: number;
}

const WINDOW_MS = 60_000;
/** Roughly one request in this many also sweeps windows that ended (no timer, no extra statement per request). */
const SWEEP_ONE_IN = 1_000;

/**
 * The /api request budget: a fixed one-minute window per key (a token, a session), counted in the `rate_limits`
 * table (the layout rate-limiter-flexible's Postgres store uses: key, points, expire in epoch ms) so every process
 * shares one count. One atomic upsert per request, using the database's clock, so processes with drifting clocks
 * still agree on when a window ends.
 */
export class ApiRateLimits {
  readonly #db: Sequelize;

  constructor(deps: { sequelize: Sequelize }) {
    this.#db = deps.sequelize;
  }

  async hit(key: string): Promise<RateState> {
    const [row] = await this.#db.query<{ points: number; expire: string }>(
      `WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now)
       INSERT INTO rate_limits AS r (key, points, expire)
       SELECT :key, 1, now + :window FROM clock
       ON CONFLICT (key) DO UPDATE SET
         points = CASE WHEN r.expire <= (SELECT now FROM clock) THEN 1 ELSE r.points + 1 END,
         expire = CASE WHEN r.expire <= (SELECT now FROM clock) THEN EXCLUDED.expire ELSE r.expire END
       RETURNING points, expire`,
      { replacements: { key, window: WINDOW_MS }, type: QueryTypes.SELECT },
    );
    if (Math.random() * SWEEP_ONE_IN < 1) void this.#sweep();
    return { used: row.points, resetAt: Number(row.expire) };
  }

  async #sweep(): Promise<void> {
    await this.#db
      .query(`DELETE FROM rate_limits WHERE key LIKE 'api:%' AND expire < (extract(epoch FROM now()) * 1000)::bigint`)
      .catch(() => undefined);
  }
}
