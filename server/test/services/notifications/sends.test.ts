/**
 * Recorded sends (issue 17) with a small threshold (SEND_INLINE_MAX 5, chunks of 4): real PostgreSQL, real HTTP, real
 * sockets over the in-process bus. A "crash" is a throw from a test seam at the chosen step (what kill -9 leaves
 * behind: a rolled-back chunk, or a committed chunk never published); the job is then run again, as graphile-worker
 * would. The real kill -9 of a job process is server/test/resilience/chunked-send-crash.test.ts.
 */
import { QueryTypes } from 'sequelize';
import type { User } from '../../../models';
import type { HeraldEvent } from '../../../services/events';
import { startProcessRunner } from '../../../jobs';
import { notificationTasks } from '../../../services/notifications/tasks';
import { NotificationStore } from '../../../services/notifications/store';
import { createTestContext, type TestContext } from '../../support/harness';
import { api, login, sleep, startServer, type Client, type TestServer } from '../../support/realtime';
import { waitFor } from '../../support/wait';

let ctx: TestContext;
let srv: TestServer;
let admin: User;
let adminSession: { cookie: string; csrf: string };

beforeAll(async () => {
  ctx = await createTestContext({ env: { SEND_INLINE_MAX: '5', SEND_CHUNK_SIZE: '4' } });
  srv = await startServer(ctx);
  admin = await ctx.createUser('admin');
  adminSession = await login(srv.url, admin);
});
afterAll(async () => {
  await srv.close();
  await ctx.close();
});

/** A course with `n` students, the first `connected` of them with an open JSON socket past its snapshot. */
async function course(n: number, connected = 0) {
  const teacher = await ctx.createUser('instructor');
  const students: User[] = [];
  for (let i = 0; i < n; i++) students.push(await ctx.createUser('candidate'));
  const c = await ctx.createCourse(teacher, { students });
  const sockets: Client[] = [];
  for (const s of students.slice(0, connected)) {
    sockets.push(await srv.tabOf(s));
  }
  return { course: c, students, sockets, teacher };
}

function send(courseId: number, title: string, key?: string) {
  const body = { audience: { kind: 'course', course_id: courseId }, notification_type: 'announcement', title, message: 'Hi' };
  return fetch(`${srv.url}/api/admin/notifications/send`, {
    method: 'POST',
    headers: {
      cookie: adminSession.cookie,
      'x-csrf-token': adminSession.csrf,
      'content-type': 'application/json',
      origin: srv.url,
      ...(key && { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
}

async function rowsPerRecipient(batchId: string): Promise<Map<number, number>> {
  const rows = await ctx.sequelize.query<{ recipient_id: number; n: string }>(
    'SELECT recipient_id, count(*) AS n FROM notifications WHERE batch_id = :batchId GROUP BY recipient_id',
    { replacements: { batchId }, type: QueryTypes.SELECT },
  );
  return new Map(rows.map((r) => [r.recipient_id, Number(r.n)]));
}

/** The notification frames a socket got for this send's title, after the delivery queue drained. */
async function framesFor(ws: Client, title: string): Promise<number> {
  await srv.dispatcher.idle();
  await sleep(50);
  return ws.frames.filter((f) => f.json?.type === 'notification' && (f.json.notification as { title?: string }).title === title).length;
}

function expectExactlyOnce(rows: Map<number, number>, students: User[]) {
  expect([...rows.keys()].sort((a, b) => a - b)).toEqual(students.map((s) => s.id).sort((a, b) => a - b));
  expect([...rows.values()].every((n) => n === 1)).toBe(true);
}

test('up to SEND_INLINE_MAX a send stays one statement (200); above it, 202 at once and chunks reach everyone once', async () => {
  const small = await course(5);
  const inline = await send(small.course.id, 'Inline');
  expect(inline.status).toBe(200);
  expect(await inline.json()).toEqual({ recipients: 5 });

  const { course: c, students, sockets } = await course(10, 3);
  const from = ctx.published.length;
  const res = await send(c.id, 'Chunked');
  expect(res.status).toBe(202);
  const body = (await res.json()) as { id: string; status: string; status_url: string; recipients: number };
  expect(body).toMatchObject({ status: 'queued', recipients: 0, status_url: `/api/sends/${body.id}` });
  expect((await rowsPerRecipient(body.id)).size).toBe(0); // recorded, nothing written by the request

  const done = await ctx.services.sends.run(body.id);
  expect(done).toMatchObject({ status: 'finished', recipients: 10, total: 10 });
  expectExactlyOnce(await rowsPerRecipient(body.id), students);
  for (const ws of sockets) expect(await framesFor(ws, 'Chunked')).toBe(1);

  // Progress: queued at the POST, running, one per chunk (4 + 4 + 2), then finished.
  const progress = ctx.published.slice(from).filter((e): e is Extract<HeraldEvent, { type: 'broadcast.progress' }> => e.type === 'broadcast.progress');
  expect(progress.map((e) => [e.status, e.recipients])).toEqual([
    ['queued', 0], ['running', 0], ['running', 4], ['running', 8], ['finished', 10],
  ]);
  // The audience is counted after the first chunk's frames went out, not before them (on a million users the
  // count is a scan): no total until then, and the first fan-out event comes before the first total.
  expect(progress.map((e) => e.total)).toEqual([null, null, 10, 10, 10]);
  const after = ctx.published.slice(from);
  const firstTotal = after.findIndex((e) => e.type === 'broadcast.progress' && e.total !== null);
  expect(after.findIndex((e) => e.type === 'notification.fanout')).toBeLessThan(firstTotal);
  // One fan-out event per chunk, each for its own recipient range.
  const chunks = after.filter((e) => e.type === 'notification.fanout');
  expect(chunks).toHaveLength(3);

  const status = await api(srv.url, adminSession, 'GET', body.status_url);
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({ id: body.id, status: 'finished', recipients: 10, total: 10 });
  expect(status.body.started_at).not.toBeNull();
  expect(status.body.finished_at).not.toBeNull();

  // Content stored once: the chunks wrote no copy of it; every row reads the recorded send's.
  const copies = await ctx.sequelize.query<{ n: string }>(
    'SELECT count(*) AS n FROM notifications WHERE batch_id = :id AND (title IS NOT NULL OR message IS NOT NULL OR search_vector IS NOT NULL)',
    { replacements: { id: body.id }, type: QueryTypes.SELECT },
  );
  expect(Number(copies[0].n)).toBe(0);
  const [first] = await new NotificationStore(ctx.sequelize).own(students[9].id, { status: 'all', limit: 1 });
  expect(first.n).toMatchObject({ title: 'Chunked', message: 'Hi', sender: { id: admin.id } });

  // Running it again (a retried job) writes and pushes nothing.
  await ctx.services.sends.run(body.id);
  expectExactlyOnce(await rowsPerRecipient(body.id), students);
  for (const ws of sockets) expect(await framesFor(ws, 'Chunked')).toBe(1);
});

test('a course with more enrolments than SEND_INLINE_MAX but no more active students stays inline', async () => {
  // Its enrolments (8) pass the threshold, so the statement counts the active students exactly (5): one statement.
  const { course: c, students } = await course(8);
  await ctx.sequelize.query('UPDATE users SET is_active = false WHERE id IN (:ids)', { replacements: { ids: students.slice(5).map((s) => s.id) } });
  const res = await send(c.id, 'Active only');
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ recipients: 5 });
  const { course: full } = await course(6);
  expect((await send(full.id, 'Six active')).status).toBe(202);
});

test('a crash inside a chunk rolls it back; the resumed job writes every row and frame once', async () => {
  const { course: c, students, sockets } = await course(10, 10);
  const { id } = (await (await send(c.id, 'Mid-chunk')).json()) as { id: string };
  await expect(
    ctx.services.sends.run(id, { beforeCommit: async (n) => { if (n === 2) throw new Error('killed mid-chunk'); } }),
  ).rejects.toThrow('killed mid-chunk');
  expect((await rowsPerRecipient(id)).size).toBe(4);
  expect((await ctx.services.sends.status(admin, id)).cursor).toBe(students[3].id);

  await ctx.services.sends.run(id);
  expectExactlyOnce(await rowsPerRecipient(id), students);
  for (const ws of sockets) expect(await framesFor(ws, 'Mid-chunk')).toBe(1);
});

test('a crash between a chunk’s commit and its push: the resumed job pushes that chunk, once', async () => {
  const { course: c, students, sockets } = await course(10, 10);
  const { id } = (await (await send(c.id, 'Between')).json()) as { id: string };
  await expect(
    ctx.services.sends.run(id, { afterCommit: async (n) => { if (n === 2) throw new Error('killed after commit'); } }),
  ).rejects.toThrow('killed after commit');
  // Chunk 2's rows committed and nobody of it got a frame yet.
  expect((await rowsPerRecipient(id)).size).toBe(8);
  expect(await framesFor(sockets[5], 'Between')).toBe(0);

  await ctx.services.sends.run(id);
  expectExactlyOnce(await rowsPerRecipient(id), students);
  for (const ws of sockets) expect(await framesFor(ws, 'Between')).toBe(1);
});

test('a chunk published twice (the job died after publishing, before recording it) is pushed once', async () => {
  const { course: c, students, sockets } = await course(6, 6);
  const { id } = (await (await send(c.id, 'Twice')).json()) as { id: string };
  await ctx.services.sends.run(id);
  // What the dead job leaves: pushed_to behind the cursor although the frames went out.
  await ctx.sequelize.query("UPDATE broadcasts SET pushed_to = 0, cursor = :last, status = 'running' WHERE id = :id", {
    replacements: { id, last: students[3].id },
  });
  await ctx.services.sends.run(id);
  for (const ws of sockets) expect(await framesFor(ws, 'Twice')).toBe(1);
  expectExactlyOnce(await rowsPerRecipient(id), students);
});

test('cancel stops further chunks; what was written stays', async () => {
  const { course: c } = await course(10);
  const { id } = (await (await send(c.id, 'Cancelled')).json()) as { id: string };
  let cancelled: unknown;
  await ctx.services.sends.run(id, {
    afterCommit: async (n) => {
      if (n === 1) cancelled = await api(srv.url, adminSession, 'POST', `/api/sends/${id}/cancel`);
    },
  });
  expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', recipients: 4 } });
  expect((await rowsPerRecipient(id)).size).toBe(4);
  const status = await api(srv.url, adminSession, 'GET', `/api/sends/${id}`);
  expect(status.body).toMatchObject({ status: 'cancelled', recipients: 4, total: 10 });
});

test('the idempotency key answers the recorded send again, and records nothing new', async () => {
  const { course: c } = await course(7);
  const first = await send(c.id, 'Keyed', 'key-recorded-1');
  const again = await send(c.id, 'Keyed', 'key-recorded-1');
  expect(first.status).toBe(202);
  expect(again.status).toBe(202);
  const a = (await first.json()) as { id: string };
  expect(((await again.json()) as { id: string }).id).toBe(a.id);
  // Below the HTTP layer too (its first answer lost, the request ran again): the same send.
  const replay = await ctx.services.compose.send(admin, { kind: 'course', courseId: c.id }, { type: 'announcement', title: 'Keyed', message: 'Hi' }, { idempotencyKey: 'key-recorded-1' });
  expect(replay).toMatchObject({ batchId: a.id, replayed: true });
  const [n] = await ctx.sequelize.query<{ n: string }>("SELECT count(*) AS n FROM broadcasts WHERE title = 'Keyed'", { type: QueryTypes.SELECT });
  expect(Number(n.n)).toBe(1);
});

test('the audience is fixed when the send is recorded: a user created or enrolled after the POST gets nothing', async () => {
  const { course: c, students } = await course(6);
  const { id } = (await (await send(c.id, 'Fixed')).json()) as { id: string };
  const late = await ctx.createUser('candidate');
  await ctx.models.Enrollment.create({ courseId: c.id, studentId: late.id });
  await ctx.services.sends.run(id);
  expectExactlyOnce(await rowsPerRecipient(id), students);
  expect((await ctx.services.sends.status(admin, id)).total).toBe(6);
});

test('a send’s status is the sender’s or an admin’s: another instructor gets a 404', async () => {
  const { course: c, teacher } = await course(6);
  const teacherSession = await login(srv.url, teacher);
  const res = await api(srv.url, teacherSession, 'POST', `/api/courses/${c.id}/notify-students/`, {
    notification_type: 'announcement', title: 'From the teacher', message: 'Hi',
  });
  expect(res.status).toBe(202);
  const sendId = (res.body as { send: { id: string } }).send.id;
  expect((await api(srv.url, teacherSession, 'GET', `/api/sends/${sendId}`)).status).toBe(200);
  expect((await api(srv.url, adminSession, 'GET', `/api/sends/${sendId}`)).status).toBe(200);
  const other = await login(srv.url, await ctx.createUser('instructor'));
  expect((await api(srv.url, other, 'GET', `/api/sends/${sendId}`)).status).toBe(404);
  expect((await api(srv.url, other, 'POST', `/api/sends/${sendId}/cancel`)).status).toBe(404);
  expect((await api(srv.url, teacherSession, 'GET', '/api/sends/not-a-uuid')).status).toBe(400);
});

test('the queued job (notifications:send, keyed per send) writes the send on a real runner', async () => {
  const { course: c, students } = await course(9);
  const { id } = (await (await send(c.id, 'By the runner')).json()) as { id: string };
  const jobs = await ctx.sequelize.query<{ task: string }>('SELECT task_identifier AS task FROM graphile_worker.jobs WHERE key = :key', {
    replacements: { key: `notifications:send:${id}` },
    type: QueryTypes.SELECT,
  });
  expect(jobs).toEqual([{ task: 'notifications:send' }]);
  const runner = await startProcessRunner({
    databaseUrl: ctx.dbUrl,
    log: { info: () => undefined },
    tasks: notificationTasks({ notifications: ctx.services.notifications, sends: ctx.services.sends }),
    pollInterval: 100,
  });
  try {
    await waitFor(async () => (await ctx.services.sends.status(admin, id)).status === 'finished', 20_000);
  } finally {
    await runner.stop();
  }
  expectExactlyOnce(await rowsPerRecipient(id), students);
});
