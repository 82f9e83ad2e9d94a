/**
 * kill -9 of a real server process in the middle of a notify-students to 10,000 students. After a restart every
 * student has that notification exactly once, or none has it: never some.
 *
 * How the instructor sees whether it was sent: the fan-out's one statement also writes its broadcast row, so after
 * the restart GET /api/courses/:id/broadcasts lists the send (with recipients equal to the rows written) exactly
 * when the students have it, and lists nothing when none has it. Each send carries an Idempotency-Key, so the
 * instructor can simply send again with the same key: it answers with the first result when that committed and
 * sends for the first time when it did not. Either way every student ends with exactly one copy.
 *
 * Four ways to land the kill: while the INSERT waits on a lock we hold (certainly mid-statement; the orphaned
 * statement then completes: "all"), the same with its database backend terminated too ("none"), the moment
 * pg_stat_activity shows the INSERT running, and at a random delay after the request was sent.
 */
import { QueryTypes } from 'sequelize';
import { Client as PgClient } from 'pg';
import { hashPassword } from '../../services/auth';
import { createTestContext, PASSWORD, type TestContext } from '../support/harness';
import { api, login } from '../support/realtime';
import { spawnServer, until, type ServerProcess } from './support/processes';
import { record } from './support/stats';
import { withContent } from '../support/content';

const STUDENTS = Number(process.env.CRASH_STUDENTS ?? 10_000);
let ctx: TestContext;
let server: ServerProcess | undefined;
let courseId: number;
let instructorEmail: string;
const sampleStudents: string[] = [];
/**
 * The fan-out statement as pg_stat_activity shows it: its first two CTEs (`big`, then `aud`), which no other
 * statement opens with. The INSERT itself comes later than the first kilobyte, all pg_stat_activity keeps
 * (track_activity_query_size).
 */
const FANOUT_SQL_LIKE = 'WITH big AS MATERIALIZED (%aud AS MATERIALIZED (%';

/** notify-students with an Idempotency-Key (the realtime support's `api` sends no extra headers). */
async function notify(who: { cookie: string; csrf: string }, title: string, key: string) {
  const res = await fetch(`${server!.url}/api/courses/${courseId}/notify-students`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': who.csrf, cookie: who.cookie, 'idempotency-key': key },
    body: JSON.stringify({ notification_type: 'message', title, message: 'Sent while the server died.' }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  ctx = await createTestContext();
  const instructor = await ctx.createUser('instructor');
  instructorEmail = instructor.email;
  const course = await ctx.models.Course.create({ title: 'Huge course', instructorId: instructor.id });
  courseId = course.id;
  const hash = await hashPassword(PASSWORD);
  await ctx.sequelize.query(
    `WITH s AS (
       INSERT INTO users (email, name, role, password_hash, is_active, created_at, updated_at)
       SELECT 'crash' || g || '@students.example', 'Student ' || g, 'candidate', :hash, true, now(), now()
         FROM generate_series(1, :n) g RETURNING id)
     INSERT INTO enrollments (course_id, student_id) SELECT :course, id FROM s`,
    { replacements: { hash, n: STUDENTS, course: courseId } },
  );
  sampleStudents.push('crash1@students.example', `crash${Math.ceil(STUDENTS / 2)}@students.example`, `crash${STUDENTS}@students.example`);
  server = await spawnServer({ databaseUrl: ctx.dbUrl });
}, 120_000);

afterAll(async () => {
  await server?.kill('SIGKILL');
  await ctx?.close();
});

/** How many rows, students and batches carry this title. */
async function outcome(title: string) {
  const [row] = await ctx.sequelize.query<{ rows: string; students: string; batches: string; max_per_student: string | null }>(
    `SELECT count(*) AS rows, count(DISTINCT recipient_id) AS students, count(DISTINCT batch_id) AS batches,
            (SELECT max(c) FROM (SELECT count(*) AS c FROM ${withContent()} WHERE title = :title GROUP BY recipient_id) x) AS max_per_student
       FROM ${withContent()} WHERE title = :title`,
    { replacements: { title }, type: QueryTypes.SELECT },
  );
  return { rows: Number(row.rows), students: Number(row.students), batches: Number(row.batches), maxPerStudent: Number(row.max_per_student ?? 0) };
}

async function insertRunning(): Promise<boolean> {
  const rows = await ctx.sequelize.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'active' AND query LIKE :pattern AND pid <> pg_backend_pid()`,
    { replacements: { pattern: FANOUT_SQL_LIKE }, type: QueryTypes.SELECT },
  );
  return Number(rows[0].n) > 0;
}

type Landing = 'lock-held' | 'lock-held, backend terminated' | 'insert-running' | 'random-delay';

async function crashTrial(landing: Landing, n: number) {
  const who = await login(server!.url, { email: instructorEmail });
  const title = `Crash trial ${n} (${landing})`;
  let locker: PgClient | undefined;
  if (landing.startsWith('lock-held')) {
    // The fan-out's INSERT queues behind this lock, so the kill certainly lands while the statement is open.
    locker = new PgClient({ connectionString: ctx.dbUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE notifications IN SHARE MODE');
  }
  const key = `crash-trial-${n}`;
  const sent = notify(who, title, key).catch(() => ({ status: 0, body: undefined }));

  let midStatement = false;
  if (landing === 'random-delay') {
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
    midStatement = await insertRunning();
  } else {
    midStatement = await until('the fan-out INSERT to start', () => insertRunning(), 10_000, 2);
  }
  await server!.kill('SIGKILL');
  const answer = await sent;
  // Under the lock the client can only see the connection die; unlocked, the answer may just beat the kill.
  if (landing.startsWith('lock-held')) expect(answer.status).toBe(0);
  else expect([0, 201]).toContain(answer.status);
  if (landing === 'lock-held, backend terminated') {
    // The database side dies too (an OOM kill, a failover): the open statement must roll back entirely.
    await locker!.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [FANOUT_SQL_LIKE],
    );
  }
  if (locker) {
    await locker.query('COMMIT');
    await locker.end();
  }
  // The orphaned backend either finishes its one statement or is cut off; wait until it is gone either way.
  await until('the orphaned INSERT to end', async () => !(await insertRunning()), 30_000);

  server = await spawnServer({ databaseUrl: ctx.dbUrl });
  const o = await outcome(title);
  record('faults', 'kill -9 during a fan-out', 1);
  record('checked', 'fan-out rows after a crash', o.rows);
  const allOrNothing = (o.rows === 0 && o.batches === 0) || (o.rows === STUDENTS && o.students === STUDENTS && o.batches === 1 && o.maxPerStudent === 1);
  if (!allOrNothing) record('half-written', 'fan-out', 1);
  if (answer.status === 201) expect(o.rows).toBe(STUDENTS);
  expect({ landing, ...o, allOrNothing }).toEqual({ landing, ...o, allOrNothing: true });

  // What the students (a sample, over the restarted server's API) see agrees with the batch.
  for (const email of sampleStudents) {
    const s = await login(server.url, { email });
    const list = await api(server.url, s, 'GET', '/api/notifications?limit=50');
    const copies = (list.body.results as Array<{ title: string }>).filter((x) => x.title === title).length;
    expect(copies).toBe(o.rows === 0 ? 0 : 1);
  }

  // What the instructor sees: the send is listed, with every row it wrote, exactly when it went out.
  const teacher = await login(server.url, { email: instructorEmail });
  const listed = async () => {
    const res = await api(server!.url, teacher, 'GET', `/api/courses/${courseId}/broadcasts`);
    expect(res.status).toBe(200);
    return (res.body.results as Array<{ title: string; recipients: number }>).filter((b) => b.title === title);
  };
  expect(await listed()).toEqual(o.rows === 0 ? [] : [expect.objectContaining({ title, recipients: o.rows })]);

  // Sending again with the same key after the restart: the first result if it went out, else the first send.
  const resent = await notify(teacher, title, key);
  expect(resent).toEqual({
    status: o.rows === 0 ? 201 : 200,
    body: { recipients: STUDENTS, batch_id: expect.any(String), replayed: o.rows > 0 },
  });
  const after = await outcome(title);
  record('checked', 'fan-out rows after a same-key resend', after.rows);
  if (after.maxPerStudent > 1) record('duplicated', 'same-key resend after a crash', after.rows - after.students);
  expect(after).toEqual({ rows: STUDENTS, students: STUDENTS, batches: 1, maxPerStudent: 1 });
  expect(await listed()).toEqual([expect.objectContaining({ title, recipients: STUDENTS })]);
  return { midStatement, sent: o.rows > 0 };
}

test(`kill -9 mid fan-out to ${STUDENTS} students: all or none, exactly once, and the server comes back`, async () => {
  const results: Array<{ landing: Landing; midStatement: boolean; sent: boolean }> = [];
  let n = 0;
  for (const landing of ['lock-held', 'lock-held, backend terminated', 'insert-running', 'random-delay'] as const) {
    results.push({ landing, ...(await crashTrial(landing, ++n)) });
  }
  // The lock made sure the kills landed inside the statement; both outcomes happened.
  expect(results[0]).toMatchObject({ midStatement: true, sent: true });
  expect(results[1]).toMatchObject({ midStatement: true, sent: false });

  // After the crashes a fan-out works normally and reaches everyone once.
  const who = await login(server!.url, { email: instructorEmail });
  const ok = await api(server!.url, who, 'POST', `/api/courses/${courseId}/notify-students`, {
    notification_type: 'message',
    title: 'After the crashes',
    message: 'Business as usual.',
  });
  expect(ok.status).toBe(201);
  expect(ok.body.recipients).toBe(STUDENTS);
  expect(await outcome('After the crashes')).toEqual({ rows: STUDENTS, students: STUDENTS, batches: 1, maxPerStudent: 1 });
  console.log(`crash trials: ${JSON.stringify(results)}`);
}, 240_000);
