import os from 'node:os';
import path from 'node:path';
import { chmodSync, mkdtempSync } from 'node:fs';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded';
import { createSequelize } from '../../db';
import { migrate } from '../../db/migrate';
import { initModels } from '../../models';

/**
 * Once per `npm test`: a PostgreSQL (DATABASE_URL, else a throwaway embedded cluster) and a migrated template
 * database. Each test file then clones the template into a database of its own and drops it when done, so
 * files never see each other's rows and can run in any order.
 */
export default async function globalSetup() {
  const quiet = { info: () => undefined, debug: () => undefined, warn: () => undefined } as never;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-test-pg-'));
    chmodSync(dir, 0o755); // as root, the cluster runs as a separate postgres user that must reach it
    const embedded = await startEmbeddedPostgres(path.join(dir, 'data'), quiet, { persistent: false });
    (globalThis as Record<string, unknown>).__heraldEmbedded = embedded;
    adminUrl = embedded.url;
  }
  const template = `herald_test_tpl_${process.pid}`;
  const admin = new Client({ connectionString: withDatabase(adminUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const templateUrl = withDatabase(adminUrl, template);
  const sequelize = createSequelize({ url: templateUrl });
  initModels(sequelize);
  await migrate(sequelize, templateUrl);
  await sequelize.close();

  process.env.HERALD_TEST_PG_URL = withDatabase(adminUrl, 'postgres');
  process.env.HERALD_TEST_TEMPLATE = template;
  (globalThis as Record<string, unknown>).__heraldTemplate = template;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
