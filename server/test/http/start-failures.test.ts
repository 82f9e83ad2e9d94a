import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestContext, type TestContext } from '../support/harness';
import { spawnServer, type ServerProcess } from '../resilience/support/processes';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

/** Starts server/main.ts and expects it to fail; answers everything it printed. */
async function failedStart(opts: Parameters<typeof spawnServer>[0]): Promise<string> {
  try {
    const s = await spawnServer({ ...opts, readyTimeoutMs: 40_000 });
    await s.kill('SIGKILL');
  } catch (err) {
    return String((err as Error).message);
  }
  throw new Error('the server started');
}

describe('10.11 a start failure says what failed and what to do', () => {
  test('port in use: which port, and PORT=', async () => {
    const busy = net.createServer((c) => c.destroy()); // the readiness poll must not hang on it
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const out = await failedStart({ databaseUrl: ctx.dbUrl, port });
      expect(out).toContain(`Herald failed to start: Port ${port} is already in use`);
      expect(out).toMatch(/PORT=\d+/);
      expect(out).not.toMatch(/undefined/);
    } finally {
      busy.close();
    }
  }, 60_000);

  test('the embedded database already running from the same data folder: that folder, and what to do', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'herald-start-twice-'));
    chmodSync(dataDir, 0o755); // as root, the cluster runs as a separate postgres user that must reach it
    const env = { DATABASE_URL: undefined, HERALD_DATA_DIR: dataDir };
    let first: ServerProcess | undefined;
    try {
      first = await spawnServer({ databaseUrl: '', env, readyTimeoutMs: 60_000 });
      const out = await failedStart({ databaseUrl: '', env });
      expect(out).toContain(`Herald failed to start: The embedded PostgreSQL in ${path.join(dataDir, 'pg')} is already running`);
      expect(out).toContain('HERALD_DATA_DIR=');
      expect(out).not.toMatch(/undefined/);
      // The first one is unharmed.
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    } finally {
      await first?.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
