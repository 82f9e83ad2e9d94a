import { Client } from 'pg';

export default async function globalTeardown() {
  const g = globalThis as Record<string, unknown>;
  const url = process.env.HERALD_TEST_PG_URL;
  if (url && g.__heraldTemplate) {
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${g.__heraldTemplate} WITH (FORCE)`);
    await admin.end();
  }
  const embedded = g.__heraldEmbedded as { stop(): Promise<void> } | undefined;
  await embedded?.stop();
}
