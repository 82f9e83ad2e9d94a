/**
 * A recorded send's progress, live (issue 17; SEND_INLINE_MAX 1, chunks of 2 here): real PostgreSQL, real HTTP, real
 * sockets and a real event stream. Its sender's JSON sockets and streams get `send_progress` with what
 * `GET /api/sends/{id}` answers; the pages (/ws/bell) showing its course get its "Recently sent" row, Cancel
 * included only for whoever may stop it; nobody else gets anything.
 */
import type { User } from '../../models';
import type { HeraldEvent } from '../../services/events';
import { createTestContext, type TestContext } from '../support/harness';
import { api, login, sleep, startServer, type Client, type TestServer } from '../support/realtime';

let ctx: TestContext;
let srv: TestServer;
let aborts: AbortController[] = [];

beforeAll(async () => {
  ctx = await createTestContext({ env: { SEND_INLINE_MAX: '1', SEND_CHUNK_SIZE: '2' } });
  srv = await startServer(ctx);
});
afterAll(async () => {
  for (const a of aborts) a.abort();
  await srv.close();
  await ctx.close();
});
afterEach(() => {
  for (const a of aborts) a.abort();
  aborts = [];
});

type Who = Awaited<ReturnType<typeof login>>;

async function courseOf(students: number) {
  const teacher = await ctx.createUser('instructor');
  const list: User[] = [];
  for (let i = 0; i < students; i++) list.push(await ctx.createUser('candidate'));
  const course = await ctx.createCourse(teacher, { students: list });
  return { teacher, course, students: list };
}

/** A page's socket (/ws/bell) past its snapshot, watching the course as the course page does (live.js). */
async function page(who: Who, courseId: number): Promise<Client> {
  const c = srv.connect('/ws/bell', { cookie: who.cookie });
  await c.next(() => true);
  const before = srv.realtime.hub.watching(courseId)?.size ?? 0;
  c.send({ type: 'watch', courses: [courseId] });
  for (let i = 0; i < 100 && (srv.realtime.hub.watching(courseId)?.size ?? 0) === before; i++) await sleep(10);
  return c;
}

async function jsonSocket(who: Who): Promise<Client> {
  const c = srv.connect('/ws/notifications', { cookie: who.cookie });
  await c.type('connection_established');
  return c;
}

/** The event stream's events as they arrive (a real HTTP response read chunk by chunk). */
function stream(who: Who) {
  const abort = new AbortController();
  aborts.push(abort);
  const events: Array<{ event: string; data: string }> = [];
  const opened = fetch(`${srv.url}/api/notifications/stream/`, { headers: { cookie: who.cookie }, signal: abort.signal }).then(async (res) => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buffer += value;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data });
        }
      }
    })();
  });
  return { opened, events };
}

async function until(fn: () => boolean, what: string) {
  for (let i = 0; i < 300; i++) {
    if (fn()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function notify(who: Who, courseId: number, title: string) {
  const res = await api(srv.url, who, 'POST', `/api/courses/${courseId}/notify-students`, { notification_type: 'announcement', title });
  expect(res.status).toBe(202);
  return res.body.send as { id: string; status_url: string };
}

/** What the socket got for this send: progress frames (JSON) or row pushes (bell). */
const progressOf = (c: Client, id: string) => c.frames.filter((f) => f.json?.type === 'send_progress' && (f.json.send as { id: string }).id === id).map((f) => f.json!.send as Record<string, unknown>);
const rowsOf = (c: Client, id: string) => c.frames.filter((f) => f.json === undefined && f.text.includes(`id="send-${id}"`)).map((f) => f.text);

test('the sender’s sockets and event stream follow the send to its end; the last frame is its status URL’s answer', async () => {
  const { teacher, course } = await courseOf(5);
  const who = await login(srv.url, teacher);
  const [a, b] = [await jsonSocket(who), await jsonSocket(who)];
  const sse = stream(who);
  await sse.opened;
  await until(() => sse.events.some((e) => e.event === 'connection_established'), 'the stream’s snapshot');
  const from = ctx.published.length;
  const send = await notify(who, course.id, 'Progress <b>live</b>');
  await ctx.services.sends.run(send.id);
  // Recorded (queued), started, then one per chunk of 2 (the last, short one finishes it).
  const events = ctx.published.slice(from).filter((e) => e.type === 'broadcast.progress').length;
  expect(events).toBe(5);
  await srv.dispatcher.idle();
  const final = (await api(srv.url, who, 'GET', send.status_url)).body;
  expect(final).toMatchObject({ status: 'finished', recipients: 5, total: 5 });
  for (const c of [a, b]) {
    await until(() => progressOf(c, send.id).some((s) => s.status === 'finished'), 'the finished frame');
    const frames = progressOf(c, send.id);
    expect(frames.at(-1)).toEqual(final);
    // Never backwards, whatever was coalesced; at most one frame per event.
    const counts = frames.map((s) => s.recipients as number);
    expect([...counts].sort((x, y) => x - y)).toEqual(counts);
    expect(frames.length).toBeLessThanOrEqual(events);
    expect(frames.every((s) => s.title === 'Progress <b>live</b>')).toBe(true);
  }
  await until(() => sse.events.some((e) => e.event === 'send_progress' && JSON.parse(e.data).send.status === 'finished'), 'the stream’s finished event');
  expect(JSON.parse(sse.events.filter((e) => e.event === 'send_progress').at(-1)!.data)).toEqual({ type: 'send_progress', send: final });
});

test('a burst for one send is at most two frames (one reading, one queued), the last carrying the newest state', async () => {
  const { teacher, course } = await courseOf(3);
  const who = await login(srv.url, teacher);
  const c = await jsonSocket(who);
  const send = await notify(who, course.id, 'Burst');
  await ctx.services.sends.run(send.id);
  await srv.dispatcher.idle();
  await until(() => progressOf(c, send.id).some((s) => s.status === 'finished'), 'the run’s frames');
  const from = c.frames.length;
  const event: HeraldEvent = { type: 'broadcast.progress', batchId: send.id, status: 'running', recipients: 1, total: 3, senderId: teacher.id, courseId: course.id };
  for (let i = 0; i < 50; i++) ctx.events.publish(event);
  await srv.dispatcher.idle();
  await sleep(50);
  const burst = c.frames.slice(from).filter((f) => f.json?.type === 'send_progress');
  // The events reach this process one bus message at a time: the first may start its push (and stop coalescing)
  // before the next arrives, and every later one then joins the one queued push. Never one frame per event.
  expect(burst.length).toBeGreaterThanOrEqual(1);
  expect(burst.length).toBeLessThanOrEqual(2);
  // The events said "running, 1"; the frames say what the send is now.
  for (const f of burst) expect(f.json!.send).toMatchObject({ status: 'finished', recipients: 3 });
});

test('pages showing the course get the row; Cancel only for the sender and admins; students and others get nothing', async () => {
  const { teacher, course, students } = await courseOf(4);
  const admin = await ctx.createUser('admin');
  const stranger = await ctx.createUser('instructor');
  const [whoT, whoA, whoS, whoX] = await Promise.all([teacher, admin, students[0], stranger].map((u) => login(srv.url, u)));
  // The teacher's page, an admin's page on the course, a student's page on it, another instructor's page on it.
  const [tPage, aPage, sPage, xPage] = [await page(whoT, course.id), await page(whoA, course.id), await page(whoS, course.id), await page(whoX, course.id)];
  const tJson = await jsonSocket(whoT);
  const aJson = await jsonSocket(whoA);

  // The admin sends to the course: the admin is the sender, the teacher its instructor (sees it, cannot cancel).
  const send = await notify(whoA, course.id, 'From <i>admin</i>');
  const running = (c: Client) => rowsOf(c, send.id).some((t) => t.includes('recent-running'));
  // Held after the first chunk until both pages showed it running (pushes read the send as it is when they run).
  await ctx.services.sends.run(send.id, { afterCommit: async (n) => (n === 1 ? until(() => running(tPage) && running(aPage), 'the running rows') : undefined) });
  await srv.dispatcher.idle();
  await until(() => rowsOf(tPage, send.id).some((t) => t.includes('recent-finished')), 'the instructor’s finished row');
  await until(() => rowsOf(aPage, send.id).some((t) => t.includes('recent-finished')), 'the admin’s finished row');
  for (const rows of [rowsOf(tPage, send.id), rowsOf(aPage, send.id)]) {
    for (const html of rows) {
      expect(html).toMatch(new RegExp(`^\\s*<li id="send-${send.id}" class="tone-[a-z]+ recent-send recent-[a-z]+" hx-swap-oob="outerHTML">`));
      expect(html).toContain('From &lt;i&gt;admin&lt;/i&gt;');
      expect(html).not.toMatch(/\shx-(get|post|on|vals|headers)|<script|_csrf/);
    }
  }
  // While it ran: "N of M", Cancel for the admin (the sender) only, and the insert for a tab that lacks the row.
  // The last running row: the first ones may say "of …" (the job counts the audience after its first chunk).
  const runningA = rowsOf(aPage, send.id).filter((t) => t.includes('recent-running')).at(-1)!;
  const runningT = rowsOf(tPage, send.id).filter((t) => t.includes('recent-running')).at(-1)!;
  expect(runningA).toMatch(/\d of 4 students/);
  expect(runningA).toContain(`action="/courses/${course.id}/sends/${send.id}/cancel"`);
  expect(runningA).toContain(`hx-swap-oob='afterbegin target:"#notify-${course.id}-sends:not(:has(#send-${send.id}))"'`);
  expect(runningT).toMatch(/\d of 4 students/);
  expect(runningT).not.toContain('/cancel');
  // The finished row has no Cancel and no insert.
  const finished = rowsOf(aPage, send.id).at(-1)!;
  expect(finished).not.toContain('/cancel');
  expect(finished).not.toContain('afterbegin');
  // JSON: the sender's socket only.
  expect(progressOf(aJson, send.id).at(-1)).toMatchObject({ status: 'finished', recipients: 4 });
  await sleep(50);
  expect(progressOf(tJson, send.id)).toEqual([]);
  expect(rowsOf(sPage, send.id)).toEqual([]);
  expect(rowsOf(xPage, send.id)).toEqual([]);
});

test('cancel: the sender’s tabs see the row stop (no Cancel), and no further chunk is written', async () => {
  const { teacher, course } = await courseOf(6);
  const who = await login(srv.url, teacher);
  const tPage = await page(who, course.id);
  const tJson = await jsonSocket(who);
  const send = await notify(who, course.id, 'Stopped');
  await ctx.services.sends.run(send.id, {
    afterCommit: async (n) => {
      if (n === 1) expect((await api(srv.url, who, 'POST', `/api/sends/${send.id}/cancel`)).status).toBe(200);
    },
  });
  await srv.dispatcher.idle();
  // The cancel came before the job counted the audience (in its first chunk's afterCommit): the job still counts
  // it, and the last frame says how far the send got of how many.
  await until(() => progressOf(tJson, send.id).some((s) => s.status === 'cancelled' && s.total === 6), 'the cancelled frame');
  expect(progressOf(tJson, send.id).at(-1)).toMatchObject({ status: 'cancelled', recipients: 2, total: 6 });
  await until(() => rowsOf(tPage, send.id).some((t) => t.includes('recent-cancelled') && t.includes('of 6')), 'the cancelled row');
  const row = rowsOf(tPage, send.id).at(-1)!;
  expect(row).toMatch(/Cancelled at 2 of 6 students/);
  expect(row).not.toContain('/cancel');
});
