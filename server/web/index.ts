import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Config } from '../config';
import { NotFound } from '../errors';
import { bareErrorPage, toHttpError } from '../http/errors';
import { refuseUnstorable } from '../http/input';
import { csrfProtection, issueCsrfToken } from '../http/security';
import type { Logger } from '../logger';
import type { Services } from '../services';
import { authRoutes } from './auth';
import { applicationRoutes } from './applications';
import { type WebDeps, homeFor, isHtmx, renderView, sendPage } from './context';
import { courseRoutes } from './courses';
import { instructorRoutes } from './instructor';
import { notificationRoutes } from './notifications';
import { notificationStateRoutes } from './notification-states';
import { deviceRoutes } from './settings-devices';
import { Renderer } from './render';
import { unsubscribeRoutes } from './unsubscribe';
import { settingsRoutes } from './settings';
import { tokenRoutes } from './tokens';

/**
 * The candidate and instructor pages (Nunjucks + htmx 4). Every page is a plain HTML form app first; htmx
 * (loaded from our own origin) swaps the partials the handlers also render inside full pages.
 */
export function createWeb(deps: { config: Config; logger: Logger; services: Services; renderer?: Renderer }) {
  const web: WebDeps = { ...deps, renderer: deps.renderer ?? new Renderer() };
  const router = Router();

  // Locals first: even a refused (CSRF) request gets an error page with a working nonce.
  router.use(pageLocals(web));
  // The one route outside the CSRF and Origin checks: RFC 8058's one-click POST comes from a mail provider's
  // servers, with no session and no Origin of ours; the signed token in its URL is the authority instead.
  router.use(unsubscribeRoutes(web));
  // 520 fields: the notifications page's selection posts up to 500 ids (one field each) with its action.
  router.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 520 }), refuseUnstorable, csrfProtection(deps.config));

  router.get('/', function home(req, res) {
    res.redirect(303, homeFor(req.user));
  });
  router.use(authRoutes(web));
  router.use(courseRoutes(web));
  router.use(applicationRoutes(web));
  router.use(instructorRoutes(web));
  router.use(notificationRoutes(web));
  router.use(notificationStateRoutes(web));
  router.use(settingsRoutes(web));
  router.use(deviceRoutes(web));
  router.use(tokenRoutes(web));

  router.use(() => {
    throw new NotFound('Page');
  });
  router.use(htmlErrors(web));
  return router;
}

/**
 * Locals every template reads. One URL can answer a page or a fragment, so caches must key on HX-Request;
 * pages carry per-session tokens, so nothing here is stored by shared caches.
 */
function pageLocals(web: WebDeps): RequestHandler {
  return (req, res, next) => {
    res.vary('HX-Request');
    res.set('Cache-Control', 'no-store');
    res.locals.user = req.user ?? null;
    // Anonymous visitors only need a token on the login form (a signed one: no session row); bots get none.
    res.locals.csrfToken = req.user || req.path === '/login' ? issueCsrfToken(req, res, web.config) : '';
    res.locals.nonce = res.locals.cspNonce;
    next();
  };
}

/**
 * The pages' error renderer. A plain request gets a friendly page; an htmx request gets `HX-Reswap: none` and a
 * toast out of band, so an error never lands inside the button or list that asked. A lost session sends the
 * user to the login page either way.
 */
function htmlErrors(web: WebDeps): ErrorRequestHandler {
  return async (err, req, res, _next) => {
    const e = toHttpError(err);
    if (e.status >= 500) web.logger.error({ err, reqId: req.id }, 'page failed');
    if (res.headersSent) return;
    if (e.headers) res.set(e.headers);
    const htmx = isHtmx(req);
    if (e.status === 401) {
      const next = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
      if (htmx) {
        res.set('HX-Redirect', `/login${next}`).status(401).end();
      } else {
        res.redirect(303, `/login${next}`);
      }
      return;
    }
    const message = e.status >= 500 ? 'Something went wrong on our side. Please try again.' : e.message;
    if (htmx) {
      res.set('HX-Reswap', 'none');
      res.status(e.status).type('html').send(renderView(web, req, res, 'partials/toast.njk', { message, tone: 'error', oob: true }));
      return;
    }
    try {
      await sendPage(web, req, res, 'pages/error.njk', { title: titleFor(e.status), status: e.status, message }, e.status);
    } catch (renderErr) {
      // The layout reads the signed-in user's bell: with the database gone (a 503) it fails too.
      web.logger.error({ err: renderErr, reqId: req.id }, 'error page failed');
      if (!res.headersSent) res.status(e.status).type('html').send(bareErrorPage(message));
    }
  };
}

function titleFor(status: number): string {
  if (status === 404) return 'Page not found';
  if (status === 403) return 'Not allowed';
  if (status === 409) return 'Already done';
  if (status === 429) return 'Slow down';
  if (status >= 500) return 'Something went wrong';
  return 'That did not work';
}
