import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createSequelize } from '../../server/db';
import { startEmbeddedPostgres } from '../../server/db/embedded';
import { migrate } from '../../server/db/migrate';
import { initModels } from '../../server/models';
import { log } from './log';

/** Where the bench databases live: the server behind DATABASE_URL, or a throwaway embedded cluster. */
export interface PgTarget {
  /** A URL of the server with any database in it; benches swap the database name. */
  adminUrl: string;
  kind: 'external' | 'embedded';
  stop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * DATABASE_URL when given (the local PostgreSQL here and on CI); otherwise the embedded PostgreSQL the way
 * server/db/open.ts starts it, but in a temporary directory that is removed afterwards, so a bench never
 * touches the developer's own .data cluster.
 */
export async function openTarget(): Promise<PgTarget> {
  const url = process.env.DATABASE_URL;
  if (url) return { adminUrl: url, kind: 'external', stop: async () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-pg-'));
  chmodSync(dir, 0o755); // as root the cluster runs as a separate postgres user that must reach it
  const quiet = { info: () => undefined, debug: () => undefined, warn: () => undefined } as never;
  log('starting embedded PostgreSQL (no DATABASE_URL)');
  const embedded = await startEmbeddedPostgres(path.join(dir, 'data'), quiet, { persistent: false });
  return {
    adminUrl: embedded.url,
    kind: 'embedded',
    async stop() {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated database for one bench; dropped by the returned `drop` (FORCE ends leftover sessions). */
export async function createBenchDatabase(target: PgTarget, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = new Client({ connectionString: withDatabase(target.adminUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(target.adminUrl, name);
  const sequelize = createSequelize({ url });
  initModels(sequelize);
  await migrate(sequelize, url);
  await sequelize.close();
  return {
    url,
    async drop() {
      const c = new Client({ connectionString: withDatabase(target.adminUrl, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs `fn` against a fresh bench database on `target` (or a target of its own), always cleaning up. */
export async function withBenchDatabase<T>(
  name: string,
  target: PgTarget | undefined,
  fn: (url: string, target: PgTarget) => Promise<T>,
): Promise<T> {
  const own = target ?? (await openTarget());
  try {
    const db = await createBenchDatabase(own, name);
    try {
      return await fn(db.url, own);
    } finally {
      await db.drop().catch((err) => log(`could not drop ${name}: ${err}`));
    }
  } finally {
    if (!target) await own.stop();
  }
}

/** A few settings that change what the figures mean; recorded beside them. */
export async function serverSettings(url: string): Promise<Record<string, string>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'work_mem')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting]));
  } finally {
    await c.end();
  }
}
