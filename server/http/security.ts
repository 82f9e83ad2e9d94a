import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config';
import { HttpError } from './errors';

export const XSRF_COOKIE = 'XSRF-TOKEN';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The server's own origin as the browser sees it (scheme + Host). */
export function ownOrigin(req: { protocol: string; get(name: string): string | undefined }): string {
  return `${req.protocol}://${req.get('host')}`;
}

/** True when `origin` is this server's own origin or one of the configured ones. Exact match only. */
export function isAllowedOrigin(origin: string, own: string, allowed: readonly string[]): boolean {
  return origin === own || allowed.includes(origin);
}

const csrf = csrfSync({
  // One token per session, accepted from any of the three places our clients put it.
  getTokenFromRequest: (req) =>
    (req.get('x-csrf-token') ??
      req.get('x-xsrf-token') ??
      (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined)) as string | undefined,
  getTokenFromState: (req) => req.session?.csrfToken,
  storeTokenInState: (req, token) => {
    if (req.session) req.session.csrfToken = token ?? undefined;
  },
  size: 32,
});

/** The session's CSRF token, created on first use. Also mirrored into the XSRF-TOKEN cookie for Angular. */
export function issueCsrfToken(req: Request, res: Response, config: Config, overwrite = false): string {
  const token = csrf.generateToken(req, overwrite);
  if (req.cookies?.[XSRF_COOKIE] !== token) {
    res.cookie(XSRF_COOKIE, token, { httpOnly: false, sameSite: 'lax', secure: config.isProduction, path: '/' });
  }
  return token;
}

/**
 * CSRF defence for every state-changing request, in two layers: a cross-site Origin (or Sec-Fetch-Site) is
 * refused outright, and the request must carry the session's synchronizer token.
 */
export function csrfProtection(config: Config): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.get('origin');
    if (origin !== undefined && !isAllowedOrigin(origin, ownOrigin(req), config.allowedOrigins)) {
      return next(new HttpError(403, 'csrf_origin', 'Cross-origin requests are not allowed here.'));
    }
    if (origin === undefined && req.get('sec-fetch-site') === 'cross-site') {
      return next(new HttpError(403, 'csrf_origin', 'Cross-site requests are not allowed here.'));
    }
    if (!csrf.isRequestValid(req)) {
      return next(new HttpError(403, 'csrf_invalid', 'The CSRF token is missing or invalid. Reload and try again.'));
    }
    next();
  };
}

