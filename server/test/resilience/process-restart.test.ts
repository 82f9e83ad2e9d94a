/**
 * The server process restarts with clients connected, gracefully (SIGTERM: clients are told 1012) and not
 * (SIGKILL: they see 1006). Meanwhile the unread counts change behind their backs. Every client reconnects by
 * itself to the new process on the same port, and its first frame shows the right unread count (JSON
 * `connection_established`, or the bell's badge); JSON clients also get every notification they missed, once.
 */
import { QueryTypes } from 'sequelize';
import { createTestContext, type TestContext } from '../support/harness';
import { api, login } from '../support/realtime';
import type { User } from '../../models';
import { bellCount, ReconnectingClient } from './support/reconnecting';
import { spawnServer, until, type ServerProcess } from './support/processes';
import { record } from './support/stats';

const USERS = 24;
let ctx: TestContext;
let server: ServerProcess;
let port: number;
const students: User[] = [];
const clients: Array<{ user: User; rc: ReconnectingClient }> = [];

beforeAll(async () => {
  ctx = await createTestContext();
  const teacher = await ctx.createUser('instructor');
  for (let i = 0; i < USERS; i++) students.push(await ctx.createUser('candidate'));
  await ctx.sequelize.query(
    `INSERT INTO notifications (recipient_id, sender_id, type, title)
     SELECT u, :t, 'message', 'Before ' || g FROM unnest(CAST(:ids AS integer[])) u, generate_series(1, 1 + u % 4) g`,
    { replacements: { t: teacher.id, ids: `{${students.map((s) => s.id).join(',')}}` } },
  );
  server = await spawnServer({ databaseUrl: ctx.dbUrl });
  port = server.port;
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.rc.stop();
  await server?.kill('SIGKILL');
  await ctx?.close();
});

async function unread(userId: number): Promise<number> {
  const [r] = await ctx.sequelize.query<{ n: string }>('SELECT count(*) AS n FROM notifications WHERE recipient_id = :u AND read_at IS NULL', {
    replacements: { u: userId },
    type: QueryTypes.SELECT,
  });
  return Number(r.n);
}

async function allIds(userId: number): Promise<number[]> {
  const rows = await ctx.sequelize.query<{ id: string }>('SELECT id FROM notifications WHERE recipient_id = :u ORDER BY id', {
    replacements: { u: userId },
    type: QueryTypes.SELECT,
  });
  return rows.map((r) => Number(r.id));
}

/** Every client's newest connection opened after `before` connections and its snapshot shows the truth. */
async function expectReconnectedWithTruth(before: Map<ReconnectingClient, number>) {
  for (const { user, rc } of clients) {
    await until(`client of user ${user.id} (${rc.path}) to reconnect`, async () => rc.connections.length > before.get(rc)!, 20_000);
    const first = await rc.firstFrame();
    const truth = await unread(user.id);
    if (rc.path === '/ws/notifications') {
      expect(first.json).toMatchObject({ type: 'connection_established', unread_count: truth });
    } else {
      expect([user.id, bellCount(first.text)]).toEqual([user.id, truth]);
    }
  }
}

test('SIGTERM then SIGKILL with clients connected: all reconnect and show the right unread count', async () => {
  for (const [i, user] of students.entries()) {
    const { cookie } = await login(server.url, user);
    clients.push({ user, rc: new ReconnectingClient(() => `http://127.0.0.1:${port}`, i % 3 === 0 ? '/ws/bell' : '/ws/notifications', cookie) });
  }
  for (const { rc } of clients) await rc.firstFrame();
  // JSON clients start from "now"; a first live notification gives each a last-seen id for its ?since= later.
  const admin = await login(server.url, await ctx.createUser('admin'));
  const sent = await api(server.url, admin, 'POST', '/api/admin/notifications/send', {
    audience: { kind: 'role', role: 'candidate' },
    notification_type: 'message',
    title: 'Before the restarts',
    message: 'm',
  });
  expect(sent.status).toBe(200);
  for (const { rc } of clients.filter((c) => c.rc.path === '/ws/notifications')) {
    await until('the live notification', async () => rc.ids.length > 0, 10_000);
  }

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const before = new Map(clients.map(({ rc }) => [rc, rc.connections.length]));
    await server.kill(signal);
    record('faults', `process ${signal} with clients connected`, 1);
    // While no process runs, the world moves on: new notifications for some, everything read for others.
    const changed = students.filter((_, i) => i % 2 === 0);
    await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title) SELECT u, 'message', 'While down (${signal})' FROM unnest(CAST(:ids AS integer[])) u`,
      { replacements: { ids: `{${changed.map((s) => s.id).join(',')}}` } },
    );
    await ctx.sequelize.query('UPDATE notifications SET read_at = now() WHERE recipient_id = ANY(CAST(:ids AS integer[])) AND read_at IS NULL', {
      replacements: { ids: `{${students.filter((_, i) => i % 5 === 1).map((s) => s.id).join(',')}}` },
    });
    await new Promise((r) => setTimeout(r, 500)); // clients retry against a closed port meanwhile
    server = await spawnServer({ databaseUrl: ctx.dbUrl, port });
    await expectReconnectedWithTruth(before);
    // How the connection that was open at the kill ended (later failed attempts against the closed port are 1006).
    const codes = await Promise.all(clients.map(({ rc }) => rc.connections[before.get(rc)! - 1].closed.then((c) => c.code)));
    expect(new Set(codes)).toEqual(new Set([signal === 'SIGTERM' ? 1012 : 1006]));
  }

  // JSON clients that reconnected with ?since= received the notifications created while they were away, once.
  let checked = 0;
  for (const { user, rc } of clients.filter((c) => c.rc.path === '/ws/notifications')) {
    const mine = await allIds(user.id);
    const seen = rc.ids;
    expect(new Set(seen).size).toBe(seen.length); // no duplicates
    checked += seen.length;
    // The second restart's notification was created after the client had a last id from the first: it must be here.
    if (seen.length > 0) {
      const missing = mine.filter((id) => id > Math.min(...seen) && !seen.includes(id));
      if (missing.length) record('lost', 'notifications across a process restart', missing.length);
      expect(missing).toEqual([]);
    }
  }
  record('checked', 'replayed notifications after restarts', checked);
}, 120_000);
