/**
 * A job runner alone in a process, for the kill -9 test: the email tasks against DATABASE_URL, sending to
 * SMTP_URL one message at a time (so at most one is ever between "accepted" and "recorded"), with a short lease.
 * Prints "ready" once it takes jobs.
 */
import { createMailer, emailTasks } from '../../../channels/email';
import { createSequelize } from '../../../db';
import { startProcessRunner } from '../../../jobs';

async function main() {
  const databaseUrl = process.env.DATABASE_URL!;
  const sequelize = createSequelize({ url: databaseUrl });
  const mailer = createMailer(
    { smtpUrl: process.env.SMTP_URL, from: 'herald@test.example', unreadDelaySeconds: 0, mailDir: '/nonexistent' },
    { maxConnections: 1 },
  );
  await startProcessRunner({
    databaseUrl,
    log: { info: () => undefined },
    tasks: emailTasks({
      sequelize,
      mailer,
      site: { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' },
      chunkSize: 5,
      concurrency: 1,
      leaseSeconds: Number(process.env.LEASE_SECONDS ?? 3),
    }),
    pollInterval: 200,
  });
  process.stdout.write('ready\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
