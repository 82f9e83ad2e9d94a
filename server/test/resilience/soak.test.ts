/**
 * Soak: one real server process under connect/disconnect churn, fan-outs and reads for SOAK_SECONDS (default
 * 30 minutes; 120 s when CI=true). Its heap, RSS, handles and open sockets are sampled from /metrics all along
 * and reported as a curve in the summary. Properties:
 *  - sent == received: every steady client gets every fan-out exactly once; every churning client, across all of
 *    its reconnects (each with ?since=<last id seen>), ends up with exactly the notifications the database holds
 *    for it, none twice;
 *  - open sockets and active handles return to their baseline once the churn stops (nothing left behind);
 *  - heap and RSS stay flat: the last quarter's median is within bounds of the second quarter's.
 */
import { QueryTypes } from 'sequelize';
import { createTestContext, type TestContext } from '../support/harness';
import { api, Client, login, sleep, wsUrl } from '../support/realtime';
import type { User } from '../../models';
import { spawnServer, TEST_METRICS_TOKEN, until, type ServerProcess } from './support/processes';
import { note, record } from './support/stats';

const SECONDS = Number(process.env.SOAK_SECONDS ?? (process.env.CI === 'true' ? 120 : 1800));
const STEADY = 10;
const CHURN_JSON = 20;
const CHURN_BELL = 8;
let ctx: TestContext;
let server: ServerProcess;

beforeAll(async () => {
  ctx = await createTestContext();
  server = await spawnServer({ databaseUrl: ctx.dbUrl });
}, 60_000);

afterAll(async () => {
  await server?.kill('SIGKILL');
  await ctx?.close();
});

interface Sample {
  t: number;
  rss: number;
  heap: number;
  handles: number;
  sockets: number;
}

async function sample(t0: number): Promise<Sample> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).text();
  const metric = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    if (!m) throw new Error(`metric ${name} missing from /metrics`);
    return Number(m[1]);
  };
  return {
    t: Math.round((Date.now() - t0) / 1000),
    rss: metric('herald_process_resident_memory_bytes'),
    heap: metric('herald_nodejs_heap_size_used_bytes'),
    handles: metric('herald_nodejs_active_handles_total'),
    sockets: metric('herald_ws_open_sockets'),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)}`;

test(`soak: ${SECONDS} s of churn, fan-outs and reads; nothing lost, nothing leaks`, async () => {
  const teacher = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Soak 101', instructorId: teacher.id });
  const users: User[] = [];
  for (let i = 0; i < STEADY + CHURN_JSON + CHURN_BELL; i++) {
    const u = await ctx.createUser('candidate');
    await ctx.models.Enrollment.create({ courseId: course.id, studentId: u.id });
    users.push(u);
  }
  const cookies = new Map<number, { cookie: string; csrf: string }>();
  for (const u of users) cookies.set(u.id, await login(server.url, u));
  const t = await login(server.url, teacher);

  // Steady clients: connected from start to end, never reconnecting.
  const steady = users.slice(0, STEADY).map((u) => new Client(wsUrl(server.url, '/ws/notifications'), { cookie: cookies.get(u.id)!.cookie }));
  for (const c of steady) await c.type('connection_established');
  const t0 = Date.now();
  const samples: Sample[] = [];
  const [{ max }] = await ctx.sequelize.query<{ max: string | null }>('SELECT max(id) AS max FROM notifications', { type: QueryTypes.SELECT });
  const startId = Number(max ?? 0);
  let fanouts = 0;
  let reads = 0;
  let connects = 0;
  const errors: string[] = [];
  const seen = new Map<number, number[]>();
  for (const u of users.slice(STEADY, STEADY + CHURN_JSON)) seen.set(u.id, []);

  /** One stretch of load; `sampling` adds the samples to the curve. */
  const phase = async (seconds: number, sampling: boolean) => {
    const deadline = Date.now() + seconds * 1000;
    const running = () => Date.now() < deadline;

    const fanoutLoop = async () => {
      while (running()) {
        const res = await api(server.url, t, 'POST', `/api/courses/${course.id}/notify-students`, {
          notification_type: 'message',
          title: `Soak ${fanouts + 1}`,
          message: 'Steady as she goes.',
        });
        if (res.status !== 201 || res.body.recipients !== users.length) errors.push(`fan-out answered ${res.status}`);
        else fanouts += 1;
        await sleep(400 + Math.random() * 400);
      }
    };
    // JSON churners: connect with ?since=<last seen>, stay a moment, vanish (sometimes rudely), again and again.
    const churnJson = async (u: User) => {
      const ids = seen.get(u.id)!;
      while (running()) {
        const since = ids.length ? Math.max(...ids) : startId;
        const c = new Client(wsUrl(server.url, `/ws/notifications?since=${since}`), { cookie: cookies.get(u.id)!.cookie });
        connects += 1;
        c.ws.on('message', (d) => {
          const m = JSON.parse(d.toString());
          if (m.type === 'notification') ids.push(m.notification.id);
        });
        await c.type('connection_established', { timeoutMs: 10_000 }).catch((err: Error) => errors.push(`churn connect: ${err.message.slice(0, 200)}`));
        await sleep(100 + Math.random() * 1500);
        if (Math.random() < 0.5) c.ws.close(1000);
        else c.ws.terminate();
        await c.closed;
        await sleep(Math.random() * 300);
      }
    };
    // Bell churners: a snapshot every time, then gone.
    const churnBell = async (u: User) => {
      while (running()) {
        const c = new Client(wsUrl(server.url, '/ws/bell'), { cookie: cookies.get(u.id)!.cookie });
        connects += 1;
        await c.next(() => true, { timeoutMs: 10_000 }).catch((err: Error) => errors.push(`bell connect: ${err.message.slice(0, 200)}`));
        await sleep(100 + Math.random() * 1000);
        c.ws.terminate();
        await c.closed;
      }
    };
    const readLoop = async () => {
      while (running()) {
        const u = users[Math.floor(Math.random() * users.length)];
        const who = cookies.get(u.id)!;
        const which = reads % 4;
        const res =
          which === 0
            ? await api(server.url, who, 'GET', '/api/notifications/unread_count')
            : which === 1
              ? await api(server.url, who, 'GET', '/api/notifications?limit=10')
              : which === 2
                ? await fetch(`${server.url}/notifications`, { headers: { cookie: who.cookie } }).then(async (r) => ({ status: r.status, text: await r.text() }))
                : await api(server.url, who, 'POST', '/api/notifications/mark_all_read', {});
        if (res.status !== 200) errors.push(`read answered ${res.status}`);
        reads += 1;
        await sleep(50);
      }
    };
    const sampler = async () => {
      const every = Math.max(2_000, (seconds * 1000) / 60);
      while (running()) {
        await sleep(Math.min(every, Math.max(0, deadline - Date.now())));
        samples.push(await sample(t0));
      }
    };
    await Promise.all([
      fanoutLoop(),
      readLoop(),
      ...(sampling ? [sampler()] : []),
      ...users.slice(STEADY, STEADY + CHURN_JSON).map(churnJson),
      ...users.slice(STEADY + CHURN_JSON).map(churnBell),
    ]);
  };

  /** Churn over: only the steady sockets remain; client keep-alives (4 s) and close timers (2 s) run out. */
  const quiet = async () => {
    await until('open sockets back to the steady ones', async () => (await sample(t0)).sockets === STEADY, 15_000, 250);
    await sleep(5_000);
    return sample(t0);
  };

  // A short warm-up fills the pools and caches; the baseline is taken after it, at rest.
  await phase(Math.min(10, Math.max(3, SECONDS / 10)), false);
  const baseline = await quiet();
  samples.push(baseline);
  await phase(SECONDS, true);
  const end = await quiet();
  samples.push(end);

  record('seconds', 'soak', SECONDS);
  record('inputs', 'soak connects', connects);
  record('inputs', 'soak reads', reads);
  record('inputs', 'soak fan-outs', fanouts);
  const curve = samples
    .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || i === samples.length - 1)
    .map((s) => `${s.t}s rss ${mb(s.rss)} heap ${mb(s.heap)} MB h ${s.handles} ws ${s.sockets}`)
    .join(' | ');
  note(`soak ${SECONDS}s, ${fanouts} fan-outs to ${users.length}, ${connects} connects, ${reads} reads. Curve: ${curve}`);

  expect(errors.slice(0, 5)).toEqual([]);
  expect(fanouts).toBeGreaterThan(0);

  // --- sent == received
  await sleep(1_000); // the last fan-out's pushes
  const sentToSteady = fanouts * STEADY;
  let receivedBySteady = 0;
  for (const c of steady) {
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    const ids = c.frames.filter((f) => f.json?.type === 'notification').map((f) => (f.json!.notification as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    receivedBySteady += ids.length;
  }
  record('checked', 'soak: steady deliveries', receivedBySteady);
  if (receivedBySteady !== sentToSteady) record('lost', 'soak steady deliveries', sentToSteady - receivedBySteady);
  expect(receivedBySteady).toBe(sentToSteady);

  // Each JSON churner catches up once more, then must hold exactly the database's rows for it.
  let churnChecked = 0;
  for (const [userId, ids] of seen) {
    const since = ids.length ? Math.max(...ids) : startId;
    const c = new Client(wsUrl(server.url, `/ws/notifications?since=${since}`), { cookie: cookies.get(userId)!.cookie });
    await c.type('connection_established');
    await sleep(300);
    for (const f of c.frames) if (f.json?.type === 'notification') ids.push((f.json.notification as { id: number }).id);
    c.close();
    const rows = await ctx.sequelize.query<{ id: string }>('SELECT id FROM notifications WHERE recipient_id = :u AND id > :s ORDER BY id', {
      replacements: { u: userId, s: startId },
      type: QueryTypes.SELECT,
    });
    const dbIds = rows.map((r) => Number(r.id));
    const dupes = ids.length - new Set(ids).size;
    const missing = dbIds.filter((id) => !ids.includes(id));
    if (dupes) record('duplicated', 'soak churn deliveries', dupes);
    if (missing.length) record('lost', 'soak churn deliveries', missing.length);
    expect({ userId, dupes, missing }).toEqual({ userId, dupes: 0, missing: [] });
    churnChecked += ids.length;
  }
  record('checked', 'soak: churning deliveries', churnChecked);
  for (const c of steady) c.close();

  // --- nothing leaks
  expect(end.sockets).toBe(STEADY);
  expect(end.handles).toBeLessThanOrEqual(baseline.handles + 10);
  const q = Math.max(1, Math.floor(samples.length / 4));
  const warm = samples.slice(q, 2 * q);
  const last = samples.slice(-q);
  const heapWarm = median(warm.map((s) => s.heap));
  const heapEnd = median(last.map((s) => s.heap));
  const rssWarm = median(warm.map((s) => s.rss));
  const rssEnd = median(last.map((s) => s.rss));
  // GC makes the heap saw-tooth; a leak is growth well past that noise.
  expect(heapEnd).toBeLessThan(heapWarm * 1.5 + 16 * 1024 * 1024);
  expect(rssEnd).toBeLessThan(rssWarm * 1.5 + 48 * 1024 * 1024);
}, (SECONDS + 180) * 1000);
