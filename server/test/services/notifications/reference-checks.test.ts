/**
 * notifications' references to users and courses, checked by set-based triggers instead of foreign keys (migration
 * set-based-reference-checks): a missing key fails the whole statement with 23503 as before, deleting a user or a
 * course does what ON DELETE CASCADE / SET NULL did, and an insert and a delete racing on one user never leave a
 * row behind, whichever goes first.
 */
import { Client, type DatabaseError } from 'pg';
import { ForeignKeyConstraintError, QueryTypes } from 'sequelize';
import { createMigrator } from '../../../db/migrate';
import type { User } from '../../../models';
import { createTestContext, type TestContext } from '../../support/harness';

const MIGRATION = '20261130003000-set-based-reference-checks.ts';

let ctx: TestContext;
let teacher: User;
let courseId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  teacher = await ctx.createUser('instructor');
  courseId = (await ctx.createCourse(teacher)).id;
});
afterAll(() => ctx.close());

const MISSING = 2_000_000_000;

async function client(): Promise<Client> {
  const c = new Client({ connectionString: ctx.dbUrl });
  await c.connect();
  return c;
}

async function count(sql: string, replacements: Record<string, unknown> = {}): Promise<number> {
  const [row] = await ctx.sequelize.query<{ n: number }>(`SELECT CAST(count(*) AS integer) AS n FROM ${sql}`, {
    replacements,
    type: QueryTypes.SELECT,
  });
  return row.n;
}

type Row = [recipient: number, sender: number | null, course: number | null];

/** One row per [recipient, sender, course], in one INSERT statement; answers the ids. */
async function insert(rows: Row[], db?: Client): Promise<number[]> {
  const values = rows.map((_, i) => `($${3 * i + 1}::int, $${3 * i + 2}::int, 'application_submitted', 'n', $${3 * i + 3}::int)`);
  const sql = `INSERT INTO notifications (recipient_id, sender_id, type, title, course_id) VALUES ${values.join(', ')} RETURNING id`;
  const c = db ?? (await client());
  try {
    const { rows: ids } = await c.query<{ id: string }>(sql, rows.flat());
    return ids.map((r) => Number(r.id));
  } finally {
    if (!db) await c.end();
  }
}

/** Every per-group counter that differs from a live count of the rows. */
function drift(): Promise<unknown[]> {
  return ctx.sequelize.query(
    `WITH live AS (
       SELECT recipient_id, group_key, CAST(count(*) AS integer) AS inbox,
              CAST(count(*) FILTER (WHERE read_at IS NULL) AS integer) AS unread
         FROM notifications WHERE group_key IS NOT NULL AND done_at IS NULL AND snoozed_until IS NULL GROUP BY 1, 2)
     (TABLE live EXCEPT TABLE notification_group_counts) UNION ALL (TABLE notification_group_counts EXCEPT TABLE live)`,
    { type: QueryTypes.SELECT },
  );
}

/** Resolves once `pending` has settled or some session of this database waits for a lock. */
async function settledOrWaiting(pending: Promise<unknown>): Promise<'settled' | 'waiting'> {
  let settled = false;
  pending.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 200; i++) {
    const waiting = await ctx.sequelize.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      { type: QueryTypes.SELECT },
    );
    if (settled) return 'settled';
    if (waiting.length > 0) return 'waiting';
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('neither settled nor waiting');
}

test.each([
  ['recipient_id', 0],
  ['sender_id', 1],
  ['course_id', 2],
])('a missing %s fails the insert with 23503 and writes nothing, alone or as one row of many', async (col, at) => {
  const student = await ctx.createUser('candidate');
  const ok: Row = [student.id, teacher.id, courseId];
  const wrong = ok.map((v, i) => (i === at ? MISSING : v)) as Row;
  for (const rows of [[wrong], [ok, ok, wrong, ok]]) {
    const err = (await insert(rows).catch((e: unknown) => e)) as DatabaseError;
    expect(err).toMatchObject({
      code: '23503',
      constraint: `notifications_${col}_fkey`,
      table: 'notifications',
      detail: `Key (${col})=(${MISSING}) is not present in table "${col === 'course_id' ? 'courses' : 'users'}".`,
    });
    expect(await count('notifications WHERE recipient_id = :u', { u: student.id })).toBe(0);
  }
  // Sequelize still recognises it as a foreign key error (what callers catch).
  const [r, s, c] = wrong;
  await expect(
    ctx.sequelize.query(`INSERT INTO notifications (recipient_id, sender_id, type, title, course_id) VALUES (${r}, ${s}, 'message', 'n', ${c})`),
  ).rejects.toBeInstanceOf(ForeignKeyConstraintError);
  // NULL sender and course need nothing; an insert of no rows passes.
  expect(await insert([[student.id, null, null]])).toHaveLength(1);
  await ctx.sequelize.query("INSERT INTO notifications (recipient_id, type, title) SELECT id, 'message', 'n' FROM users WHERE false");
});

test('changing a row to a missing recipient, sender or course is refused; changing a referenced user or course id too', async () => {
  const student = await ctx.createUser('candidate');
  const [id] = await insert([[student.id, teacher.id, courseId]]);
  for (const col of ['recipient_id', 'sender_id', 'course_id']) {
    await expect(ctx.sequelize.query(`UPDATE notifications SET ${col} = ${MISSING} WHERE id = ${id}`)).rejects.toMatchObject({
      parent: { code: '23503', constraint: `notifications_${col}_fkey` },
    });
  }
  await ctx.sequelize.query(`UPDATE notifications SET sender_id = NULL, course_id = NULL WHERE id = ${id}`);
  await expect(ctx.sequelize.query(`UPDATE users SET id = ${MISSING} WHERE id = ${student.id}`)).rejects.toMatchObject({
    parent: { code: '23503', constraint: 'notifications_recipient_id_fkey' },
  });
  const lone = await ctx.createUser('instructor');
  const course = await ctx.createCourse(lone);
  await insert([[student.id, null, course.id]]);
  await expect(ctx.sequelize.query(`UPDATE courses SET id = ${MISSING} WHERE id = ${course.id}`)).rejects.toMatchObject({
    parent: { code: '23503', constraint: 'notifications_course_id_fkey' },
  });
});

test('deleting a user deletes their rows and deliveries and forgets them as sender; deleting a course forgets it', async () => {
  const [gone, stays] = [await ctx.createUser('candidate'), await ctx.createUser('candidate')];
  const sender = await ctx.createUser('instructor');
  const course = await ctx.createCourse(sender);
  const ids = await insert([[gone.id, sender.id, course.id], [gone.id, stays.id, course.id], [stays.id, gone.id, course.id], [stays.id, sender.id, course.id]]);
  await ctx.sequelize.query(
    `INSERT INTO deliveries (notification_id, recipient_id, channel) VALUES (${ids[0]}, ${gone.id}, 'email'), (${ids[2]}, ${stays.id}, 'email')`,
  );
  expect(await drift()).toEqual([]);

  await ctx.sequelize.query(`DELETE FROM users WHERE id = ${gone.id}`);
  expect(await count('notifications WHERE recipient_id = :u', { u: gone.id })).toBe(0);
  expect(await count('deliveries WHERE recipient_id = :u OR notification_id IN (:ids)', { u: gone.id, ids: ids.slice(0, 2) })).toBe(0);
  const kept = await ctx.sequelize.query<{ id: string; sender_id: number | null }>(
    `SELECT id, sender_id FROM notifications WHERE recipient_id = ${stays.id} ORDER BY id`,
    { type: QueryTypes.SELECT },
  );
  expect(kept).toEqual([{ id: String(ids[2]), sender_id: null }, { id: String(ids[3]), sender_id: sender.id }]);
  expect(await count('deliveries WHERE notification_id = :id', { id: ids[2] })).toBe(1);
  expect(await drift()).toEqual([]);

  // The course's applications go with it (their own cascade); its notifications stay, without the course.
  await ctx.sequelize.query(`DELETE FROM courses WHERE id = ${course.id}`);
  expect(await count('notifications WHERE id IN (:ids) AND course_id IS NULL', { ids: ids.slice(2) })).toBe(2);
  expect(await drift()).toEqual([]);
});

test('an insert for a user being deleted waits for the delete, then fails; a delete waits for the insert, then takes its row', async () => {
  const [a, b] = [await client(), await client()];
  try {
    // Insert first: the delete waits for it, then deletes its (now committed) row too.
    const first = await ctx.createUser('candidate');
    await a.query('BEGIN');
    await insert([[first.id, teacher.id, courseId]], a);
    const deleting = b.query('DELETE FROM users WHERE id = $1', [first.id]);
    const state = await settledOrWaiting(deleting);
    await a.query('COMMIT');
    await deleting;
    expect({ state, orphans: await count('notifications WHERE recipient_id = :u', { u: first.id }) }).toEqual({ state: 'waiting', orphans: 0 });

    // Delete first: the insert waits for it, then finds the user gone.
    const second = await ctx.createUser('candidate');
    await b.query('BEGIN');
    await b.query('DELETE FROM users WHERE id = $1', [second.id]);
    const inserting = insert([[second.id, teacher.id, courseId]], a);
    const state2 = await settledOrWaiting(inserting);
    await b.query('COMMIT');
    const err = await inserting.then(() => null, (e: DatabaseError) => e.code);
    expect({ state: state2, err, orphans: await count('notifications WHERE recipient_id = :u', { u: second.id }) }).toEqual({
      state: 'waiting',
      err: '23503',
      orphans: 0,
    });
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

test('an insert locks no users row: a send to everyone does not write a lock into each of their rows', async () => {
  const [a, b] = [await client(), await client()];
  try {
    const student = await ctx.createUser('candidate');
    await a.query('BEGIN');
    await insert([[student.id, teacher.id, courseId]], a);
    // A foreign key's check holds FOR KEY SHARE on both users rows until commit: FOR UPDATE NOWAIT would fail (55P03).
    for (const id of [student.id, teacher.id]) {
      await expect(b.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE NOWAIT', [id])).resolves.toMatchObject({ rowCount: 1 });
    }
    await a.query('COMMIT');
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

test('an insert into a group and the deletion of its recipient, both queued behind a third insert, do not deadlock', async () => {
  // Order matters: the insert takes the references' lock before the group counter, and the deletion takes it
  // before touching counters too; taken the other way round, the two wait for each other.
  const [a, b, c] = [await client(), await client(), await client()];
  try {
    const user = await ctx.createUser('candidate');
    await c.query('BEGIN');
    await insert([[user.id, teacher.id, courseId]], c); // holds the references' lock (shared) and the group's counter
    const deleting = b.query('DELETE FROM users WHERE id = $1', [user.id]);
    expect(await settledOrWaiting(deleting)).toBe('waiting');
    const inserting = insert([[user.id, teacher.id, courseId]], a);
    await new Promise((r) => setTimeout(r, 100)); // a reaches its first lock wait
    await c.query('COMMIT');
    const outcomes = await Promise.allSettled([deleting, inserting]);
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as DatabaseError).code));
    expect(codes[0]).toBe('ok');
    expect(['ok', '23503']).toContain(codes[1]);
    expect(await count('notifications WHERE recipient_id = :u', { u: user.id })).toBe(0);
    expect(await drift()).toEqual([]);
  } finally {
    await Promise.all([a.end(), b.end(), c.end()]);
  }
});

test('TRUNCATE users or courses still needs notifications truncated too (through applications), and CASCADE empties it', async () => {
  const student = await ctx.createUser('candidate');
  await insert([[student.id, teacher.id, courseId]]);
  const c = await client();
  try {
    for (const table of ['users', 'courses']) {
      await expect(c.query(`TRUNCATE ${table}`)).rejects.toMatchObject({ code: '0A000' });
      await c.query('BEGIN');
      await c.query(`TRUNCATE ${table} CASCADE`);
      expect((await c.query('SELECT count(*) AS n FROM notifications')).rows).toEqual([{ n: '0' }]);
      await c.query('ROLLBACK');
    }
  } finally {
    await c.end();
  }
});

test('down restores the foreign keys, up replaces them again; deleting a user cascades through both', async () => {
  const constraints = () =>
    ctx.sequelize.query<{ conname: string; def: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'notifications'::regclass AND contype = 'f' ORDER BY conname`,
      { type: QueryTypes.SELECT },
    );
  const before = await constraints();
  expect(before.map((c) => c.conname)).toEqual(['notifications_application_id_fkey']);
  const migrator = createMigrator(ctx.sequelize);
  await migrator.down({ to: MIGRATION });
  expect(await constraints()).toEqual([
    ...before,
    { conname: 'notifications_course_id_fkey', def: 'FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE SET NULL' },
    { conname: 'notifications_recipient_id_fkey', def: 'FOREIGN KEY (recipient_id) REFERENCES users(id) ON DELETE CASCADE' },
    { conname: 'notifications_sender_id_fkey', def: 'FOREIGN KEY (sender_id) REFERENCES users(id) ON DELETE SET NULL' },
  ]);
  const user = await ctx.createUser('candidate');
  await insert([[user.id, teacher.id, courseId]]);
  await ctx.sequelize.query(`DELETE FROM users WHERE id = ${user.id}`);
  expect(await count('notifications WHERE recipient_id = :u', { u: user.id })).toBe(0);

  await migrator.up();
  expect(await constraints()).toEqual(before);
  const again = await ctx.createUser('candidate');
  await insert([[again.id, teacher.id, courseId]]);
  await expect(insert([[MISSING, teacher.id, courseId]])).rejects.toMatchObject({ code: '23503' });
  await ctx.sequelize.query(`DELETE FROM users WHERE id = ${again.id}`);
  expect(await count('notifications WHERE recipient_id = :u', { u: again.id })).toBe(0);
});
