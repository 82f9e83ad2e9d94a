/**
 * `npm start`'s prestart step: builds the console when there is no build or a source file is newer than it
 * (a fresh clone, a pull, an edit), so the server, which only serves admin/dist, serves the console as the code
 * describes it. A failed build does not stop the start: /admin then serves the previous build, or a page saying
 * to run `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ADMIN_ROOT = path.join(__dirname, '..');
const INDEX = path.join(ADMIN_ROOT, 'dist', 'browser', 'index.html');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** True when there is no build, or a source file is newer than it. */
export function adminBuildStale(): boolean {
  return !existsSync(INDEX) || newestMtime(path.join(ADMIN_ROOT, 'src')) > statSync(INDEX).mtimeMs;
}

/** Runs `npm run build` (API types, then ng build) when the build is stale. Returns whether a build is usable. */
export function ensureAdminBuild(log: (line: string) => void = () => undefined): boolean {
  if (!adminBuildStale()) return true;
  log('building the admin console (about a minute)…');
  const result = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: path.join(ADMIN_ROOT, '..'),
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  return result.status === 0;
}

if (require.main === module) {
  if (!ensureAdminBuild((line) => console.log(line))) {
    console.error('the admin console failed to build; /admin serves the previous build, or asks for `npm run build`');
  }
}
