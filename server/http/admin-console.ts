import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/** Built by `npm run build` (and by `npm start`'s prestart when missing or stale); the server never builds it. */
export const ADMIN_DIST = path.join(__dirname, '..', '..', 'admin', 'dist', 'browser');

/**
 * The console's own policy: only our scripts, our API and our sockets. Angular Material sets inline styles, so
 * styles allow 'unsafe-inline'; scripts never do.
 */
const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** What /admin answers before the first build (a fresh clone started without `npm start`, say). */
const NOT_BUILT =
  '<!doctype html><html lang="en"><meta charset="utf-8"><title>Herald admin console</title>' +
  '<h1>The admin console is not built yet</h1><p>Run <code>npm run build</code> (or start with ' +
  '<code>npm start</code>, which builds it when missing or stale), then reload this page.</p></html>';

/**
 * Serves the built console at /admin from our own origin (so it shares the session cookie), with the SPA
 * fallback to index.html for deep links. Hashed bundles are cached for long; index.html never is.
 */
export function adminConsole(): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', ADMIN_CSP);
    next();
  });
  router.use(
    express.static(ADMIN_DIST, {
      index: false,
      maxAge: '1y',
      immutable: true,
      setHeaders: (res, file) => {
        if (file.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  router.get('/{*path}', (_req, res) => {
    const index = path.join(ADMIN_DIST, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
