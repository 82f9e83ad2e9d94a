/** `npm run migrate`: applies pending migrations to the configured (or embedded) database, then exits. */
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from './open';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config, logger);
  await db.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
