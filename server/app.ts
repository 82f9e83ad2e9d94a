import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Config } from './config';
import type { Logger } from './logger';
import { createApi, jsonErrors } from './api';
import { adminConsole } from './http/admin-console';
import { loadUser } from './http/auth';
import { metricsAccess } from './http/security';
import { bareErrorPage, toHttpError } from './http/errors';
import type { EventStreams } from './realtime/sse';
import type { Services } from './services';
import { createWeb } from './web';

export interface AppDeps {
  config: Config;
  logger: Logger;
  services: Services;
  /** express-session middleware; the WebSocket upgrade reuses the very same one. */
  session: RequestHandler;
  /** Extra routes owned by the process (metrics, readiness), mounted before sessions. */
  probes?: express.Router;
  /** Open WebSocket connections across all processes (server/realtime's openSocketCount), for the admin stats. */
  socketsOpen?: () => Promise<number>;
  /** The in-app channel's server-sent event streams (server/realtime's Realtime), for /api/notifications/stream. */
  eventStreams?: EventStreams;
}

/**
 * Builds the Express app. It never listens and never connects: server/main.ts does that, and tests import this.
 *
 * Order matters: probes and static files skip the session lookup; everything after `session` knows the user.
 * Each sub-app parses its own bodies and then checks CSRF, so the token may also come as a form field.
 */
export function createApp(deps: AppDeps) {
  const { config, logger, services } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy, trust exactly one hop: `true` would let any client pick req.ip with X-Forwarded-For and
  // slip past the per-IP login limit.
  app.set('trust proxy', config.trustProxy ? 1 : false);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
    }),
  );
  // A fresh nonce per response: pages stamp it on their <script> tags and htmx elements (hx-csp checks it).
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64');
    next();
  });
  app.use(
    helmet({
      // Pages: scripts only with this response's nonce (no 'unsafe-inline', no eval), styles and images from us,
      // sockets and fetches to our own origin. /admin (the Angular console) replaces this header with its own.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: [(_req, res) => `'nonce-${(res as express.Response).locals.cspNonce}'`],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          // The Web Push service worker (/sw.js); without it worker-src falls back to the nonce-only script-src.
          workerSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(config.isProduction ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      // Not helmet's default no-referrer: with it Chromium sends `Origin: null` on form posts, which the CSRF
      // origin check must refuse. same-origin keeps full referrers in-house and sends none elsewhere.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );

  // --- probes and static assets (no session)
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/metrics', metricsAccess(config));
  if (deps.probes) app.use(deps.probes);
  app.use('/static', express.static(path.join(__dirname, '..', 'public'), { maxAge: '1h' }));
  app.use('/vendor/htmx', express.static(path.join(__dirname, '..', 'node_modules', 'htmx.org', 'dist'), { maxAge: '1d' }));
  app.use('/admin', adminConsole());

  // --- who is asking, and may they change anything
  app.use(cookieParser());
  app.use(deps.session);
  app.use(loadUser(services.auth));

  // --- the JSON API and the pages
  app.use('/api', createApi({ config, logger, services, socketsOpen: deps.socketsOpen, eventStreams: deps.eventStreams }));
  app.use(createWeb({ config, logger, services }));

  // Last resort: the sub-apps render their own errors; this only catches what happens before them (the session
  // store unreachable while PostgreSQL restarts, say). It still answers in the caller's language: the API's JSON
  // error shape under /api, a small HTML page elsewhere, with the error's headers (Retry-After on a 503).
  const apiErrors = jsonErrors(logger);
  app.use(((err, req, res, next) => {
    if (req.path === '/api' || req.path.startsWith('/api/')) return apiErrors(err, req, res, next);
    const e = toHttpError(err);
    if (e.status >= 500) logger.error({ err, reqId: req.id }, 'request failed');
    if (res.headersSent) return;
    if (e.headers) res.set(e.headers);
    const text = e.status >= 500 && e.status !== 503 ? 'Something went wrong on our side. Please try again.' : e.message;
    res.status(e.status).type('html').send(bareErrorPage(text));
  }) as ErrorRequestHandler);

  return app;
}
