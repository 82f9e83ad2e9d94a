/**
 * `npm run bench:seed -- --students N --out DIR`
 *
 * Seeds the configured database (DATABASE_URL, else the embedded one, migrated first exactly as the server
 * does) with one instructor, one course and N enrolled students that already have sessions, and writes
 *   DIR/cookies.txt       one Cookie header value per line, line i authenticating student i
 *   DIR/instructor.json   {"cookie", "csrf_token", "course_id"}
 * so any WebSocket load driver can open N authenticated sockets and fire notify-students as the instructor.
 * Sessions are signed with the same SESSION_SECRET the server will use (the dev secret file outside production).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../server/config';
import { openDatabase } from '../server/db/open';
import { createLogger } from '../server/logger';
import { intArg, parseArgs } from './lib/args';
import { seedCourse } from './lib/seed';

async function main() {
  const args = parseArgs();
  const students = intArg(args, 'students', 1000);
  const out = path.resolve(args.get('out') ?? 'bench/fixtures');
  const config = loadConfig();
  const db = await openDatabase(config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel));
  try {
    const seeded = await seedCourse(db.url, {
      students,
      secret: config.sessionSecret,
      idleMs: config.sessionIdleMs,
      secure: config.isProduction,
    });
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'cookies.txt'), seeded.studentCookies.join('\n') + '\n', { mode: 0o600 });
    writeFileSync(path.join(out, 'instructor.json'), JSON.stringify({ cookie: seeded.instructor.cookie, csrf_token: seeded.instructor.csrf_token, course_id: seeded.courseId }, null, 2) + '\n', { mode: 0o600 });
    process.stdout.write(`${students} students in course ${seeded.courseId}; fixtures in ${out}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
