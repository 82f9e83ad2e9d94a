/**
 * Two real server processes (server/main.ts via tsx) on one database and different ports: a client on one
 * receives what was committed through the other, over the PostgreSQL bus and over the Redis bus. Also the
 * acceptance walk-through: a process dies, its clients reconnect to the other, and their first frame is a
 * correct snapshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../db/embedded';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { api, Client, login, REDIS_URL, redisAvailable, sleep, wsUrl } from '../support/realtime';

const ROOT = path.join(__dirname, '..', '..', '..');
let ctx: TestContext;
const children = new Set<ChildProcess>();
const clients: Client[] = [];
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', killAll); // a crashed test run must not leave servers behind

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  for (const c of clients) c.close();
  killAll();
  await Promise.all([...children].map((c) => (c.exitCode !== null || c.signalCode ? undefined : new Promise((r) => c.once('exit', r)))));
  process.off('exit', killAll);
  await ctx.close();
});

interface Proc {
  url: string;
  child: ChildProcess;
  output: () => string;
}

const METRICS_TOKEN = 'metrics-token-for-the-tests-0123456789';

async function startProcess(extraEnv: Record<string, string | undefined>): Promise<Proc> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: ctx.dbUrl,
    SESSION_SECRET: 'test-secret-test-secret-test-secret-123', // the harness's, so one login works on both
    SEED_DEMO: 'false',
    WEB_CONCURRENCY: '1',
    LOG_LEVEL: 'warn',
    ALLOWED_ORIGINS: '',
    REDIS_URL: undefined,
    METRICS_TOKEN,
    ...extraEnv,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server not ready in time:\n${out}`);
    await sleep(100);
  }
  return { url, child, output: () => out };
}

function connect(p: Proc, cookie: string) {
  const c = new Client(wsUrl(p.url, '/ws/notifications'), { cookie });
  clients.push(c);
  return c;
}

async function setup() {
  const instructor = await ctx.createUser('instructor');
  const candidate = await ctx.createUser('candidate');
  const course = await ctx.models.Course.create({ title: `Course ${Date.now()}`, instructorId: instructor.id });
  return { instructor, candidate, course };
}

async function unreadInDb(u: User) {
  return ctx.models.Notification.count({ where: { recipientId: u.id, readAt: null } });
}

test('PostgreSQL bus: approve on A, the candidate’s tabs on B and A get it; B dies, its clients resume on A', async () => {
  const [a, b] = await Promise.all([startProcess({}), startProcess({})]);
  const { instructor, candidate, course } = await setup();
  const inst = await login(a.url, instructor);
  const cand = await login(b.url, candidate);

  const onB = connect(b, cand.cookie);
  const secondTab = connect(a, cand.cookie); // "their second tab", served by the other process
  await Promise.all([onB.type('connection_established'), secondTab.type('connection_established')]);

  const applied = await api(b.url, cand, 'POST', `/api/courses/${course.id}/applications/`, { motivation: 'please' });
  expect(applied.status).toBe(201);
  const approved = await api(a.url, inst, 'POST', `/api/applications/${applied.body.id}/approve/`);
  expect(approved.status).toBe(200);
  for (const tab of [onB, secondTab]) {
    const f = await tab.type('notification', { timeoutMs: 5_000 });
    expect(f.notification).toMatchObject({ type: 'application_approved', course_id: course.id, is_read: false });
  }

  // Committed just before the kill, through A: the snapshot on reconnect must count it.
  await api(a.url, inst, 'POST', `/api/courses/${course.id}/notify-students/`, {
    notification_type: 'announcement',
    title: 'Welcome aboard',
    message: 'see you Monday',
  });
  b.child.kill('SIGKILL');
  expect((await onB.closed).code).toBe(1006); // hx-ws reconnects after 1006
  const resumed = connect(a, cand.cookie);
  await resumed.next(() => true);
  expect(resumed.frames[0].json).toEqual({ type: 'connection_established', unread_count: await unreadInDb(candidate) });
  expect(resumed.frames[0].json!.unread_count).toBeGreaterThanOrEqual(1);

  // Read on A in one tab: the other tab hears it.
  resumed.send({ type: 'mark_all_as_read' });
  expect(await secondTab.type('notification_read', { timeoutMs: 5_000 })).toEqual({ type: 'notification_read', ids: [], all: true });
  a.child.kill('SIGTERM');
});

test('SIGTERM lets a running request finish, and its event still reaches the other process', async () => {
  const [a, b] = await Promise.all([startProcess({}), startProcess({})]);
  const { instructor, candidate, course } = await setup();
  const inst = await login(a.url, instructor);
  const cand = await login(b.url, candidate);
  const onA = connect(a, inst.cookie);
  await onA.type('connection_established');

  // An application to B whose body is still on its way when B is told to stop.
  const body = JSON.stringify({ motivation: 'just in time' });
  const req = http.request(`${b.url}/api/courses/${course.id}/applications/`, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
      cookie: cand.cookie,
      'x-csrf-token': cand.csrf,
    },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 5));
  await sleep(200);
  const exited = new Promise<number | null>((resolve) => b.child.once('exit', (code) => resolve(code)));
  b.child.kill('SIGTERM');
  await sleep(1_000); // long enough for the sockets to be closed (and, before the fix, the bus to be stopped)
  req.end(body.slice(5));
  expect(await status).toBe(201);
  const f = await onA.type('notification', { timeoutMs: 5_000 });
  expect(f.notification).toMatchObject({ type: 'application_submitted', course_id: course.id });
  expect(await exited).toBe(0);
});

test('Redis bus: a notification committed through A reaches a client on B', async () => {
  if (!(await redisAvailable())) return;
  const [a, b] = await Promise.all([startProcess({ REDIS_URL }), startProcess({ REDIS_URL })]);
  const { instructor, candidate, course } = await setup();
  const inst = await login(a.url, instructor);
  const cand = await login(b.url, candidate);
  const onB = connect(b, cand.cookie);
  const onA = connect(a, cand.cookie);
  await Promise.all([onB.type('connection_established'), onA.type('connection_established')]);

  const applied = await api(b.url, cand, 'POST', `/api/courses/${course.id}/applications/`, { motivation: 'redis please' });
  await api(a.url, inst, 'POST', `/api/applications/${applied.body.id}/approve/`);
  for (const tab of [onB, onA]) {
    expect((await tab.type('notification', { timeoutMs: 5_000 })).notification).toMatchObject({ type: 'application_approved' });
  }
  const ready = await fetch(`${b.url}/readyz`).then((r) => r.json());
  expect(ready).toEqual({ status: 'ok', database: 'ok', bus: 'ok' });
  const metrics = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(await metrics.text()).toMatch(/^herald_bus_connected 1/m);
});
