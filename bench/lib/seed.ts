import { createHmac, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SESSION_COOKIE } from '../../server/http/session';
import { hashPassword } from '../../server/services/auth';
import { log } from './log';

/** What a session cookie needs to match the server: the same secret, idle timeout and `secure` flag. */
export interface SessionOptions {
  secret: string;
  idleMs: number;
  secure: boolean;
}

/** Every bench user can also log in normally with this password (one shared hash, computed once). */
export const BENCH_PASSWORD = 'bench-password-1';

/** express-session's cookie value: `s:` + sid + `.` + base64 HMAC-SHA256 without padding (cookie-signature). */
export function sessionCookie(sid: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

/**
 * Inserts one ready session per user in one statement, shaped as express-session + connect-pg-simple store
 * them, and returns the Cookie header values and CSRF tokens in the users' order.
 */
export async function insertSessions(
  db: Client,
  userIds: number[],
  opts: SessionOptions,
): Promise<{ cookies: string[]; csrfTokens: string[] }> {
  // express-session uses 24 random bytes in base64url for a sid.
  const sids = userIds.map(() => randomBytes(24).toString('base64url'));
  const csrfTokens = userIds.map(() => randomBytes(32).toString('hex'));
  const cookie: Record<string, unknown> = {
    originalMaxAge: opts.idleMs,
    expires: new Date(Date.now() + opts.idleMs).toISOString(),
    ...(opts.secure ? { secure: true } : {}),
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
  await db.query(
    `INSERT INTO session (sid, sess, expire)
     SELECT t.sid, json_build_object('cookie', $4::json, 'userId', t.uid, 'csrfToken', t.csrf),
            (now() + make_interval(secs => $5::double precision / 1000))::timestamp
       FROM unnest($1::text[], $2::int[], $3::text[]) AS t(sid, uid, csrf)`,
    [sids, userIds, csrfTokens, JSON.stringify(cookie), opts.idleMs],
  );
  return { cookies: sids.map((sid) => sessionCookie(sid, opts.secret)), csrfTokens };
}

let sharedHash: Promise<string> | undefined;
function benchHash() {
  sharedHash ??= hashPassword(BENCH_PASSWORD);
  return sharedHash;
}

/** Creates `count` users in one INSERT ... SELECT and returns their ids in order (user i has email index i). */
export async function insertUsers(
  db: Client,
  tag: string,
  prefix: string,
  count: number,
  role: 'candidate' | 'instructor',
): Promise<number[]> {
  if (count === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    `WITH ins AS (
       INSERT INTO users (email, name, role, password_hash)
       SELECT format('%s.%s.%s@bench.herald.test', $1::text, $2::text, g), format('Bench %s %s', $2::text, g), $3, $4
         FROM generate_series(1, $5::int) AS g
       RETURNING id, email)
     SELECT id FROM ins ORDER BY split_part(split_part(email, '@', 1), '.', 3)::int`,
    [tag, prefix, role, await benchHash(), count],
  );
  return rows.map((r) => r.id);
}

export interface SeededCourse {
  courseId: number;
  instructor: { id: number; cookie: string; csrf_token: string; course_id: number };
  studentIds: number[];
  studentCookies: string[];
}

/**
 * One instructor, one course, `students` enrolled students, every one with a ready session. With `among`, the
 * students are spread evenly through `students + among` users created together (the others in no course, without
 * sessions), as a course's students are on a large platform: their rows are scattered over the users table.
 */
export async function seedCourse(
  url: string,
  opts: SessionOptions & { students: number; tag?: string; among?: number },
): Promise<SeededCourse> {
  const tag = opts.tag ?? `b${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  try {
    const t0 = Date.now();
    await db.query('BEGIN');
    const [instructorId] = await insertUsers(db, tag, 'instructor', 1, 'instructor');
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO courses (title, description, instructor_id) VALUES ($1, 'Seeded by the benchmarks.', $2) RETURNING id`,
      [`Bench course ${tag}`, instructorId],
    );
    const courseId = rows[0].id;
    const created = await insertUsers(db, tag, 'student', opts.students + (opts.among ?? 0), 'candidate');
    const step = created.length / opts.students;
    const studentIds = opts.among ? Array.from({ length: opts.students }, (_, i) => created[Math.floor(i * step)]) : created;
    await db.query(
      `INSERT INTO enrollments (course_id, student_id) SELECT $1, unnest($2::int[])`,
      [courseId, studentIds],
    );
    const inst = await insertSessions(db, [instructorId], opts);
    const st = await insertSessions(db, studentIds, opts);
    await db.query('COMMIT');
    await db.query('ANALYZE users, enrollments, session');
    log(`seeded course ${courseId} with ${opts.students} students in ${Date.now() - t0} ms`);
    return {
      courseId,
      instructor: { id: instructorId, cookie: inst.cookies[0], csrf_token: inst.csrfTokens[0], course_id: courseId },
      studentIds,
      studentCookies: st.cookies,
    };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

export interface SeededApplicants {
  applicationIds: number[];
  candidateIds: number[];
  candidateCookies: string[];
}

/** `count` candidates, each with a session and one pending application to `courseId`. */
export async function seedApplicants(
  url: string,
  opts: SessionOptions & { courseId: number; count: number; tag: string },
): Promise<SeededApplicants> {
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  try {
    await db.query('BEGIN');
    const candidateIds = await insertUsers(db, opts.tag, 'candidate', opts.count, 'candidate');
    const { rows } = await db.query<{ id: number; candidate_id: number }>(
      `INSERT INTO applications (course_id, candidate_id, motivation)
       SELECT $1, c, 'Seeded by the benchmarks.' FROM unnest($2::int[]) AS c
       RETURNING id, candidate_id`,
      [opts.courseId, candidateIds],
    );
    const byCandidate = new Map(rows.map((r) => [r.candidate_id, r.id]));
    const { cookies } = await insertSessions(db, candidateIds, opts);
    await db.query('COMMIT');
    await db.query('ANALYZE users, applications, session');
    return { applicationIds: candidateIds.map((c) => byCandidate.get(c)!), candidateIds, candidateCookies: cookies };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

/**
 * Loads many notifications as fast as PostgreSQL takes them: triggers off (session_replication_role = replica),
 * every index that is not a constraint dropped while `fill` inserts, then the id sequence moved past the rows, the
 * indexes rebuilt, the per-group counters rebuilt from the rows (the triggers that keep them did not run) and the
 * table vacuumed and analysed, as autovacuum would leave it at rest. Answers how many indexes were rebuilt.
 */
export async function bulkLoadNotifications(db: Client, fill: () => Promise<void>): Promise<number> {
  await db.query("SET maintenance_work_mem = '512MB'");
  await db.query('SET session_replication_role = replica');
  const { rows: idx } = await db.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
      WHERE i.tablename = 'notifications' AND i.schemaname = current_schema()
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const i of idx) await db.query(`DROP INDEX ${i.indexname}`);
  await fill();
  // Later rows (fan-outs, pushes) continue above the largest id.
  await db.query(`SELECT setval(pg_get_serial_sequence('notifications', 'id'), (SELECT max(id) FROM notifications))`);
  for (const i of idx) await db.query(i.indexdef);
  await db.query('SET session_replication_role = DEFAULT');
  await db.query('SELECT notification_group_counts_rebuild()');
  await db.query('VACUUM (ANALYZE) notifications');
  return idx.length;
}

/**
 * Fills `notifications` to `total` rows, `perUser` of them for one user, spread evenly through the table
 * (every stride-th row) so that user's rows sit on many heap pages, as they would after months of traffic.
 * 5% of that user's rows are unread. The rest go to `fillers` other users.
 *
 * To load millions of rows in seconds rather than minutes, the secondary indexes are dropped and rebuilt from
 * their own definitions, and FK triggers are skipped (session_replication_role = replica, superuser only;
 * every id used exists). A VACUUM ANALYZE then leaves the table as autovacuum would.
 */
export async function seedBigTable(
  url: string,
  opts: { total: number; perUser: number; fillers: number; userId: number; senderId: number; courseId: number; tag: string },
): Promise<{ unread: number; seconds: number }> {
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  const t0 = Date.now();
  try {
    const fillerIds = await insertUsers(db, opts.tag, 'filler', opts.fillers, 'candidate');
    const stride = Math.max(1, Math.floor(opts.total / opts.perUser));
    const chunk = 1_000_000;
    await bulkLoadNotifications(db, async () => {
      for (let from = 1; from <= opts.total; from += chunk) {
        const to = Math.min(opts.total, from + chunk - 1);
        // Target rows: g % stride = 0; fillers cycle through fillerIds. created_at rises with id, one second apart.
        await db.query(
          `INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, course_id, read_at, created_at)
           SELECT CASE WHEN g % $3 = 0 AND g / $3 <= $4 THEN $5 ELSE ($6::int[])[1 + g % $7] END,
                  $8, 'announcement', 'Bench notification ' || g, 'A seeded notification for the query benchmark.',
                  jsonb_build_object('course_id', $9::int), $9,
                  CASE WHEN g % $3 = 0 THEN (CASE WHEN (g / $3) % 20 = 0 THEN NULL ELSE now() END)
                       WHEN g % 10 = 0 THEN NULL ELSE now() END,
                  now() - make_interval(secs => ($2 - g))
             FROM generate_series($1::int, $2::int) AS g`,
          [from, to, stride, opts.perUser, opts.userId, fillerIds, fillerIds.length, opts.senderId, opts.courseId],
        );
        log(`  notifications: ${to.toLocaleString('en')} / ${opts.total.toLocaleString('en')} rows`);
      }
    });
    const { rows } = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL',
      [opts.userId],
    );
    return { unread: Number(rows[0].n), seconds: (Date.now() - t0) / 1000 };
  } finally {
    await db.end();
  }
}
