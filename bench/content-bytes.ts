/**
 * Content stored once (issue 17), measured: one course announcement to `--recipients` students (default 10,000)
 * on a fresh database, written by the checkout at `--root` (default this one) with its own migrations and store.
 * Run it with `--root /path/to/main` for "before" and without for "after": the same seed, the same content.
 *
 *   npx tsx bench/content-bytes.ts [--root ../main] [--recipients 10000] [--runs 5]
 *
 * Reports:
 * - bytes per recipient: pg_total_relation_size('notifications') (heap, TOAST and every index) after minus before,
 *   over the rows written, right after the statement (GIN pending list included) and after VACUUM (the pending
 *   list merged into the index); each index's share; the broadcasts table's growth (its one row);
 * - the fan-out statement itself, `--runs` times: EXPLAIN (ANALYZE, BUFFERS, WAL) of the exact SQL the store
 *   sent (a fresh batch id each run, rolled back so every run writes into the same table).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { intArg, parseArgs } from './lib/args';
import { openTarget, withDatabase } from './lib/database';
import { log } from './lib/log';
import { insertUsers } from './lib/seed';

const MESSAGE =
  'From Thursday the lab sessions move to room B12 (second floor, east wing). Bring your lab coat and safety ' +
  'glasses; the first session starts with a short safety briefing, so please arrive ten minutes early. ' +
  'Questions: reply here.';

interface Sizes {
  total: number;
  heap: number;
  indexes: Record<string, number>;
  broadcasts: number;
}

async function sizes(db: Client): Promise<Sizes> {
  const { rows: [t] } = await db.query<{ total: string; heap: string; broadcasts: string }>(
    `SELECT pg_total_relation_size('notifications') AS total, pg_relation_size('notifications') AS heap,
            pg_total_relation_size('broadcasts') AS broadcasts`,
  );
  const { rows } = await db.query<{ name: string; size: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS size FROM pg_index
      WHERE indrelid = 'notifications'::regclass ORDER BY 1`,
  );
  return {
    total: Number(t.total),
    heap: Number(t.heap),
    broadcasts: Number(t.broadcasts),
    indexes: Object.fromEntries(rows.map((r) => [r.name, Number(r.size)])),
  };
}

function perRecipient(before: Sizes, after: Sizes, n: number) {
  const per = (a: number, b: number) => Math.round(((b - a) / n) * 10) / 10;
  return {
    total: per(before.total, after.total),
    heap: per(before.heap, after.heap),
    indexes: Object.fromEntries(Object.keys(after.indexes).map((k) => [k, per(before.indexes[k] ?? 0, after.indexes[k])])),
    broadcasts_bytes: after.broadcasts - before.broadcasts,
  };
}

interface PlanTop {
  'Execution Time': number;
  'Planning Time': number;
  Plan: Record<string, number>;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(args.get('root') ?? path.join(__dirname, '..'));
  const recipients = intArg(args, 'recipients', 10_000);
  const runs = intArg(args, 'runs', 5);
  // The checkout under test: its migrations (via its migrate) and its store.
  const { createSequelize } = await import(path.join(root, 'server/db/index.ts'));
  const { migrate } = await import(path.join(root, 'server/db/migrate.ts'));
  const { initModels } = await import(path.join(root, 'server/models/index.ts'));
  const { NotificationStore } = await import(path.join(root, 'server/services/notifications/store/index.ts'));

  const target = await openTarget();
  const name = `herald_bench_content_${process.pid}`;
  const admin = new Client({ connectionString: withDatabase(target.adminUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = withDatabase(target.adminUrl, name);
  const statements: string[] = [];
  const sequelize = createSequelize({ url, onQuery: (sql: string) => statements.push(sql) });
  initModels(sequelize);
  await migrate(sequelize, url);
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows: [version] } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const { rows: [migration] } = await db.query<{ name: string }>('SELECT max(name) AS name FROM sequelize_meta');
    const [instructorId] = await insertUsers(db, 'content', 'instructor', 1, 'instructor');
    const { rows: [course] } = await db.query<{ id: number }>(
      "INSERT INTO courses (title, description, instructor_id) VALUES ('Organic Chemistry', 'Bench', $1) RETURNING id",
      [instructorId],
    );
    const students = await insertUsers(db, 'content', 'student', recipients, 'candidate');
    await db.query('INSERT INTO enrollments (course_id, student_id) SELECT $1, unnest($2::int[])', [course.id, students]);
    await db.query('VACUUM ANALYZE');

    const store = new NotificationStore(sequelize);
    const content = {
      type: 'announcement',
      title: 'Lab sessions move to room B12',
      message: MESSAGE,
      data: { room: 'B12', week: 3 },
      senderId: instructorId,
      courseId: course.id,
    };
    const before = await sizes(db);
    statements.length = 0;
    const sent = await store.insertForAudience({ kind: 'course', courseId: course.id }, content, { batchId: randomUUID(), idempotencyKey: null });
    const sql = statements.find((s) => /INSERT INTO notifications/.test(s))!.replace(/^Executing \([^)]*\): /, '');
    const after = await sizes(db);
    await db.query('VACUUM notifications, broadcasts');
    const vacuumed = await sizes(db);
    log(`${sent.recipients} rows written by ${migration.name}`);

    // The same statement again, `runs` times, each with a fresh batch id, rolled back.
    const timings = [];
    for (let i = 0; i < runs; i++) {
      const again = sql.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, randomUUID());
      await db.query('BEGIN');
      const { rows: [{ 'QUERY PLAN': [plan] }] } = await db.query<{ 'QUERY PLAN': PlanTop[] }>(
        `EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${again}`,
      );
      await db.query('ROLLBACK');
      const p = plan.Plan;
      timings.push({
        execution_ms: Math.round(plan['Execution Time'] * 10) / 10,
        planning_ms: Math.round(plan['Planning Time'] * 10) / 10,
        shared_hit: p['Shared Hit Blocks'],
        shared_read: p['Shared Read Blocks'],
        shared_dirtied: p['Shared Dirtied Blocks'],
        shared_written: p['Shared Written Blocks'],
        wal_records: p['WAL Records'],
        wal_fpi: p['WAL FPI'],
        wal_bytes: p['WAL Bytes'],
      });
    }
    const result = {
      root,
      migration: migration.name,
      postgres: version.v,
      recipients: sent.recipients,
      message_chars: MESSAGE.length,
      bytes_per_recipient: perRecipient(before, after, sent.recipients),
      bytes_per_recipient_after_vacuum: perRecipient(before, vacuumed, sent.recipients),
      fanout_statement: timings,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await db.end();
    await sequelize.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await target.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
