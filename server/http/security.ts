import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config';
import { HttpError } from '../errors';

export const XSRF_COOKIE = 'XSRF-TOKEN';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The server's own origin as the browser sees it: scheme + Host. Behind a trusted proxy (TRUST_PROXY) the scheme
 * is X-Forwarded-Proto's first value, the rule Express applies to `req.protocol` with 'trust proxy' 1. Works on a
 * bare IncomingMessage, because the WebSocket upgrade never passes through Express.
 */
function ownOrigin(req: IncomingMessage, config: Pick<Config, 'trustProxy'>): string {
  const forwarded = config.trustProxy ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() : '';
  const proto = forwarded || ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  return `${proto}://${req.headers.host ?? ''}`;
}

/** PUBLIC_URL's origin and ALLOWED_ORIGINS, computed once per config. */
const configuredOrigins = new WeakMap<Config, ReadonlySet<string>>();
function originsOf(config: Config): ReadonlySet<string> {
  let set = configuredOrigins.get(config);
  if (!set) {
    set = new Set(config.publicUrl ? [...config.allowedOrigins, new URL(config.publicUrl).origin] : config.allowedOrigins);
    configuredOrigins.set(config, set);
  }
  return set;
}

/**
 * Whether the request's Origin header is one of ours: the origin it reached us on, PUBLIC_URL's, or one of
 * ALLOWED_ORIGINS, compared exactly (no prefixes, no look-alikes). A missing Origin is not allowed; a caller that
 * tolerates one (CSRF, where the token then decides) checks for it first. The one rule for both
 * state-changing HTTP requests and WebSocket upgrades, so a deployment cannot pass one and fail the other.
 */
export function originAllowed(req: IncomingMessage, config: Config): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  return origin === ownOrigin(req, config) || originsOf(config).has(origin);
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
    if (origin !== undefined && !originAllowed(req, config)) {
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

