import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config';
import { HttpError } from '../errors';

export const XSRF_COOKIE = 'XSRF-TOKEN';
/** The anonymous client's random value its CSRF token is bound to (see anonymousToken). */
export const ANON_CSRF_COOKIE = 'herald.csrf';
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
  getTokenFromRequest: tokenFromRequest,
  getTokenFromState: (req) => req.session?.csrfToken,
  storeTokenInState: (req, token) => {
    if (req.session) req.session.csrfToken = token ?? undefined;
  },
  size: 32,
});

function tokenFromRequest(req: Request): string | undefined {
  return (req.get('x-csrf-token') ??
    req.get('x-xsrf-token') ??
    (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined)) as string | undefined;
}

/**
 * Anonymous clients (the login form, a console before login) get a signed double-submit token instead of a
 * session: a random value in an httpOnly cookie, and the token is its HMAC under the session secret. A cross-site
 * page can neither read the cookie nor compute the token, so login stays CSRF-protected, and no session row is
 * written until someone logs in (an anonymous session per visitor was a table anyone could fill).
 */
function anonymousToken(config: Config, value: string): string {
  return createHmac('sha256', config.sessionSecret).update(`herald-anonymous-csrf:${value}`).digest('hex');
}

const ANON_VALUE = /^[A-Za-z0-9_-]{43}$/;
/** The value set on this very response, which req.cookies cannot show yet. */
const issuedAnon = new WeakMap<Request, string>();

function anonymousValue(req: Request): string | undefined {
  const v = issuedAnon.get(req) ?? req.cookies?.[ANON_CSRF_COOKIE];
  return typeof v === 'string' && ANON_VALUE.test(v) ? v : undefined;
}

/** A session holds its own synchronizer token once someone logged in; before that, the request is anonymous. */
function hasSessionToken(req: Request): boolean {
  return req.session?.userId !== undefined || typeof req.session?.csrfToken === 'string';
}

/**
 * The client's CSRF token: the session's (created on first use) once logged in, else the anonymous signed one.
 * Also mirrored into the XSRF-TOKEN cookie for Angular.
 */
export function issueCsrfToken(req: Request, res: Response, config: Config, overwrite = false): string {
  let token: string;
  if (overwrite || hasSessionToken(req)) {
    token = csrf.generateToken(req, overwrite);
  } else {
    let value = anonymousValue(req);
    if (!value) {
      value = randomBytes(32).toString('base64url');
      issuedAnon.set(req, value);
      res.cookie(ANON_CSRF_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: config.isProduction, path: '/' });
    }
    token = anonymousToken(config, value);
  }
  if (req.cookies?.[XSRF_COOKIE] !== token) {
    res.cookie(XSRF_COOKIE, token, { httpOnly: false, sameSite: 'lax', secure: config.isProduction, path: '/' });
  }
  return token;
}

function csrfValid(req: Request, config: Config): boolean {
  if (hasSessionToken(req)) return csrf.isRequestValid(req);
  const value = anonymousValue(req);
  const given = tokenFromRequest(req);
  if (!value || typeof given !== 'string') return false;
  return sameSecret(given, anonymousToken(config, value));
}

/**
 * CSRF defence for every state-changing request, in two layers: a cross-site Origin (or Sec-Fetch-Site) is
 * refused outright, and the request must carry the session's synchronizer token (or, before login, the anonymous
 * signed token).
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
    if (!csrfValid(req, config)) {
      return next(new HttpError(403, 'csrf_invalid', 'The CSRF token is missing or invalid. Reload and try again.'));
    }
    next();
  };
}


/**
 * /metrics is for operators only: it reveals traffic, socket counts and process internals. Served with
 * `Authorization: Bearer $METRICS_TOKEN` (compared in constant time); without METRICS_TOKEN it is not served at all.
 */
export function metricsAccess(config: Pick<Config, 'metricsToken'>): RequestHandler {
  const expected = config.metricsToken ? Buffer.from(`Bearer ${config.metricsToken}`) : undefined;
  return (req, res, next) => {
    if (!expected) return res.status(404).type('text').send('Not Found');
    if (sameSecret(req.get('authorization') ?? '', expected)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text').send('Unauthorized');
  };
}
