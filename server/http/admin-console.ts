import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';

/** Built by `npm run build` (and by `npm start`'s prestart when missing or stale); the server never builds it. */
export const ADMIN_DIST = path.join(__dirname, '..', '..', 'admin', 'dist', 'browser');

/**
 * The console's own policy: only our scripts, our API and our sockets. Styles: our stylesheets, plus the
 * `<style>` elements Angular (and the CDK's media-query matcher) create at run time, each carrying this
 * response's nonce, which Angular reads from `ngCspNonce` on the root element. No 'unsafe-inline': a `style`
 * attribute in markup is refused; Material sets its dynamic styles through CSSOM, which CSP does not govern.
 */
function adminCsp(nonce?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${nonce ? ` 'nonce-${nonce}'` : ''}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

/** The assets' policy is the same for every answer: built once. index.html gets its own nonce (below). */
const ASSET_CSP = adminCsp();

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
    res.setHeader('Content-Security-Policy', ASSET_CSP);
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
    const html = indexHtml();
    if (html === null) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    // A fresh nonce per answer (app.ts makes one for every response); Angular stamps it on its style elements.
    const nonce = (res as Response).locals.cspNonce as string;
    res.setHeader('Content-Security-Policy', adminCsp(nonce));
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html.replace('<app-root>', `<app-root ngCspNonce="${nonce}">`));
  });
  return router;
}

let cached: { mtimeMs: number; html: string } | undefined;

/** The built index.html, read again only when a rebuild changed it; null before the first build. */
function indexHtml(): string | null {
  const file = path.join(ADMIN_DIST, 'index.html');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(file, 'utf8') };
  return cached.html;
}
