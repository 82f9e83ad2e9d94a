import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../errors';
import type { ApiRateLimits } from '../services/tokens/rate-limits';

/**
 * Whose budget a request spends: its token's, else its stored session's (signed in, or holding a CSRF token), else
 * (no session yet: a fresh id each request would be no key at all) its address's.
 */
function keyOf(req: Request): string {
  if (req.token) return `api:t:${req.token.id}`;
  if (req.sessionID && (req.user || req.session?.csrfToken)) return `api:s:${req.sessionID}`;
  return `api:ip:${req.ip ?? 'unknown'}`;
}

/**
 * The /api rate limit, readable by clients: every answer says the budget (`RateLimit-Limit`), what is left of it
 * (`RateLimit-Remaining`) and the seconds until it is whole again (`RateLimit-Reset`), the IETF draft's fields.
 * Past the budget: 429 with `Retry-After`. The count lives in PostgreSQL, so every process spends one budget.
 *
 * Mount it right after bearer authentication and before every other guard, so that their refusals (a body that is
 * not JSON, too large, unstorable; a missing CSRF token) carry the headers the OpenAPI document promises. The
 * first handler is for the one refusal that comes before it, an unknown token's 401: that request still spends
 * (its session's or its address's) budget and says so, and keeps its 401.
 */
export function apiRateLimit(limits: ApiRateLimits, perMinute: number): [ErrorRequestHandler, RequestHandler] {
  const spend = async (req: Request, res: Response) => {
    const { used, resetAt } = await limits.hit(keyOf(req));
    const reset = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
    res.set({
      'RateLimit-Limit': String(perMinute),
      'RateLimit-Remaining': String(Math.max(0, perMinute - used)),
      'RateLimit-Reset': String(reset),
    });
    return { over: used > perMinute, reset };
  };
  return [
    async (err, req, res, next) => {
      await spend(req, res);
      next(err);
    },
    async (req, res, next) => {
      const { over, reset } = await spend(req, res);
      if (over) {
        throw new HttpError(429, 'rate_limited', `Too many requests: at most ${perMinute} a minute. Try again in ${reset} s.`, { retry_after: reset }, {
          'Retry-After': String(reset),
        });
      }
      next();
    },
  ];
}
