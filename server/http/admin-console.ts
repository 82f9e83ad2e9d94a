import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import type { Logger } from '../logger';

export const ADMIN_ROOT = path.join(__dirname, '..', '..', 'admin');
export const ADMIN_DIST = path.join(ADMIN_ROOT, 'dist', 'browser');

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

/** True when there is no build, or a source file is newer than it (a pull or an edit since the last build). */
export function adminBuildStale(): boolean {
  const index = path.join(ADMIN_DIST, 'index.html');
  return !existsSync(index) || newestMtime(path.join(ADMIN_ROOT, 'src')) > statSync(index).mtimeMs;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Builds the Angular console when there is no build or it is older than its sources, so `npm start` on a fresh
 * clone, or after a pull, serves the console as the code describes it. Returns whether the build is usable.
 */
export function ensureAdminBuild(logger: Pick<Logger, 'info' | 'error'>): boolean {
  if (!existsSync(path.join(ADMIN_ROOT, 'package.json')) || !adminBuildStale()) return true;
  logger.info('building the admin console (about a minute)…');
  const result = spawnSync('npm', ['run', 'build', '--workspace', 'admin'], {
    cwd: path.join(ADMIN_ROOT, '..'),
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  if (result.status === 0) return true;
  logger.error('the admin console failed to build; /admin serves the previous build, or 503 without one');
  return false;
}

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
      res.status(503).type('text').send('The admin console is not built yet: run `npm run build`.');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
