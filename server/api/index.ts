import cors from 'cors';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Logger } from '../logger';
import { HttpError, NotFound } from '../errors';
import { toHttpError } from '../http/errors';
import { bearerAuth } from '../http/bearer';
import { refuseUnstorable } from '../http/input';
import { apiRateLimit } from '../http/rate-limit';
import { csrfProtection } from '../http/security';
import { operationsRouter } from './mount';
import type { ApiDeps, ApiOperation } from './operation';
import { operations as allOperations } from './operations';

export type { ApiDeps } from './operation';

/** A body on a mutating API request must be JSON: anything else (text/plain forgery included) is a 415. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the request body as application/json.');
  }
  next();
};

/** The JSON API: same paths as the original system, cookie sessions, `{error: {code, message, details}}`. */
export function createApi(deps: ApiDeps, operations: readonly ApiOperation[] = allOperations) {
  const { config, logger } = deps;
  const api = Router();
  // CORS only for our own configured origins; any other origin gets no CORS headers at all.
  api.use(
    cors({
      origin: (origin, cb) => cb(null, origin !== undefined && config.allowedOrigins.includes(origin)),
      credentials: true,
      allowedHeaders: ['Content-Type', 'X-CSRF-Token', 'X-XSRF-TOKEN', 'Authorization', 'Last-Event-ID'],
      exposedHeaders: ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'],
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    }),
  );
  const csrf = csrfProtection(config);
  // A bearer token is never sent by a browser on its own: no cookie, no forgery, no CSRF token to ask for.
  const csrfUnlessToken: RequestHandler = (req, res, next) => (req.token ? next() : csrf(req, res, next));
  api.use(
    // Whose budget a request spends depends on its token; every guard after the limit answers with its headers.
    bearerAuth(deps.services.tokens),
    apiRateLimit(deps.services.apiRateLimits, config.apiRateLimitPerMinute),
    requireJson,
    express.json({ limit: '64kb' }),
    refuseUnstorable,
    csrfUnlessToken,
  );

  api.use(operationsRouter(operations, deps));

  api.use(() => {
    throw new NotFound('Endpoint');
  });
  api.use(jsonErrors(logger));
  return api;
}

export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toHttpError(err);
    if (e.status >= 500) logger.error({ err, reqId: req.id }, 'request failed');
    if (res.headersSent) return;
    if (e.headers) res.set(e.headers);
    res.status(e.status).json({ error: { code: e.code, message: e.message, details: e.details ?? null } });
  };
}
