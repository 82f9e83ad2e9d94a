import type { Browser, Page } from 'playwright-core';
import { ensureAdminBuild } from '../../../admin/scripts/build-if-stale';
import type { User } from '../../models';
import { createTestContext, PASSWORD, type TestContext } from '../support/harness';
import { api, login } from '../support/realtime';
import { consoleSignIn, launchChromium, loginAs, newUserContext, screenshot, waitLive, type Problems } from '../support/browser';
import { spawnServer, type ServerProcess } from '../resilience/support/processes';

/**
 * Issue 16 item 2: three tabs (two pages and the admin console) open on a real Herald process; the process stops
 * for about 20 s and a new one starts on the same port and database. Every tab must be live again within 3 s of
 * `/healthz` answering, and show a notification sent 3 s after that, without a reload, and what was sent while it
 * was down (the bell's snapshot; the notifications page's `?since=` replay). hx-ws's default backoff
 * (doubling to 60 s) and the console's former one (to 30 s) took 19-24 s here; what matters is the cap on the
 * wait, which a 20 s outage reaches many times over.
 */
jest.setTimeout(90_000);

/** Kill to /healthz: about 20 s, as in the issue (the new process's start-up is part of it). */
const OUTAGE_MS = 20_000;
const LIVE_WITHIN_MS = 3_000;
/** What a refused socket legitimately logs while the port is closed. */
const OUTAGE_NOISE = /WebSocket connection to .* failed|htmx:ws:error|ERR_CONNECTION_REFUSED/;

let ctx: TestContext;
let server: ServerProcess;
let browser: Browser;
let admin: User;
let candidate: User;
const problems: Problems[] = [];

beforeAll(async () => {
  if (!ensureAdminBuild()) throw new Error('`npm run build` failed');
  ctx = await createTestContext();
  admin = await ctx.createUser('admin', { name: 'Ada Admin' });
  const instructor = await ctx.createUser('instructor', { name: 'Ines Instructor' });
  candidate = await ctx.createUser('candidate', { name: 'Camille Candidate' });
  await ctx.createCourse(instructor, { title: 'Realtime Web', students: [candidate] });
  server = await spawnServer({ databaseUrl: ctx.dbUrl });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill('SIGKILL');
  await ctx?.close();
});

async function tab(user: User): Promise<Page> {
  const c = await newUserContext(browser);
  problems.push(c.problems);
  const page = await c.context.newPage();
  await loginAs(page, server.url, user);
  return page;
}

/** The first moment `/healthz` answers 200 on `url`, polled every 25 ms from `since` on. */
async function healthzUp(url: string, stop: () => boolean): Promise<number> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return Date.now();
    if (stop()) throw new Error('the server never answered /healthz');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const isLive = {
  page: (p: Page) => p.waitForSelector('#connection-status[data-state="live"]', { timeout: 30_000 }),
  console: (p: Page) => p.locator('.live.open').waitFor({ timeout: 30_000 }),
};

test('after a 20 s outage every open tab is live within 3 s of /healthz and shows what is sent next', async () => {
  const mine = problems.length;
  const notes = await tab(candidate);
  await notes.goto(`${server.url}/notifications`);
  const catalog = await notes.context().newPage();
  await catalog.goto(`${server.url}/courses`);
  const consolePage = await (async () => {
    const c = await newUserContext(browser);
    problems.push(c.problems);
    const p = await c.context.newPage();
    await consoleSignIn(p, server.url, admin);
    return p;
  })();
  await Promise.all([waitLive(notes), waitLive(catalog), isLive.console(consolePage)]);
  const today = () => consolePage.locator('[data-testid="notifications-today"]').innerText();
  const before = await today();

  const outageFrom = problems.slice(mine).map((p) => p.console.length);
  const stoppedAt = Date.now();
  await server.kill('SIGTERM');
  await Promise.all([notes, catalog].map((p) => p.waitForSelector('#connection-status[data-state="reconnecting"]')));
  await consolePage.locator('.live:not(.open)').waitFor();
  // Committed while no process runs (straight to the database): only the reconnect's snapshot and replay bring it.
  await ctx.services.notifications.fanOut(
    { kind: 'user', userId: candidate.id },
    { type: 'announcement', title: 'Sent while down', message: 'Nobody was connected.', senderId: admin.id },
  );

  // A new process on the same port and database, started so that /healthz answers about OUTAGE_MS after the kill.
  await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - 4_000 - (Date.now() - stoppedAt))));
  let spawned = false;
  const spawning = spawnServer({ databaseUrl: ctx.dbUrl, port: server.port }).finally(() => (spawned = true));
  const up = await healthzUp(server.url, () => spawned);
  server = await spawning;

  // Every tab live again within LIVE_WITHIN_MS of /healthz answering.
  const liveAfter = await Promise.all([
    isLive.page(notes).then(() => Date.now() - up),
    isLive.page(catalog).then(() => Date.now() - up),
    isLive.console(consolePage).then(() => Date.now() - up),
  ]);
  const outage = up - stoppedAt;
  expect({ outageOver15s: outage > 15_000, liveAfter: liveAfter.map((ms) => ms <= LIVE_WITHIN_MS) }).toEqual({
    outageOver15s: true,
    liveAfter: [true, true, true],
  });

  // What was sent while down: in the bell (snapshot) and on the notifications page's list (?since= replay).
  await notes.locator('#notification-list .notification-card', { hasText: 'Sent while down' }).waitFor({ timeout: 2_000 });
  await catalog.locator('#bell-items .bell-item', { hasText: 'Sent while down' }).waitFor({ timeout: 2_000, state: 'attached' });

  // The console refetched its counts on reconnecting: "Sent while down" is in them before anything else is sent.
  await consolePage.waitForFunction((n) => parseInt(document.querySelector('[data-testid="notifications-today"]')?.textContent ?? '', 10) === n, parseInt(before, 10) + 1, { timeout: 5_000 });

  // 3 s after /healthz answered: a notification, through the new process's own API.
  await new Promise((r) => setTimeout(r, Math.max(0, up + 3_000 - Date.now())));
  const who = await login(server.url, admin);
  const sent = await api(server.url, who, 'POST', '/api/admin/notifications/send', {
    audience: { kind: 'user', user_id: candidate.id },
    notification_type: 'announcement',
    title: 'Back after the restart',
    message: 'Sent 3 s after the server answered again.',
  });
  expect(sent.status).toBe(200);
  const shown = { timeout: 5_000 };
  await notes.locator('#notification-list .notification-card', { hasText: 'Back after the restart' }).waitFor(shown);
  await catalog.locator('#bell-items .bell-item', { hasText: 'Back after the restart' }).waitFor({ ...shown, state: 'attached' });
  // The console's dashboard counts follow live (its admin_event; the refetch is throttled to one per 2 s): the
  // reconnect's refetch counted "Sent while down" (below, before the send), the live update counts this one too.
  await consolePage.waitForFunction((n) => parseInt(document.querySelector('[data-testid="notifications-today"]')?.textContent ?? '', 10) === n, parseInt(before, 10) + 2, shown);
  await screenshot(notes, 'reconnect-notifications-after-restart');
  await screenshot(consolePage, 'reconnect-console-after-restart');
  expectNoProblems(problems.slice(mine), outageFrom);
  await notes.context().close();
  await consolePage.context().close();
});

test('back online or shown again: a page reconnects at once instead of waiting out its backoff', async () => {
  const mine = problems.length;
  const online = await tab(candidate);
  await online.goto(`${server.url}/courses`);
  const shown = await online.context().newPage();
  await shown.goto(`${server.url}/notifications`);
  await Promise.all([waitLive(online), waitLive(shown)]);
  const outageFrom = problems.slice(mine).map((p) => p.console.length);
  await server.kill('SIGTERM');
  // Waits of 30 s from now on, so only the event can bring a tab back quickly.
  for (const p of [online, shown]) {
    await p.waitForSelector('#connection-status[data-state="reconnecting"]');
    await p.evaluate(() => {
      const el = document.getElementById('live-connection') as HTMLElement & { _htmx: { ws: { connection: { config: Record<string, number> } } } };
      Object.assign(el._htmx.ws.connection.config, { reconnectDelay: 30_000, reconnectMaxDelay: 30_000, reconnectJitter: 0 });
    });
  }
  await new Promise((r) => setTimeout(r, 3_000)); // the pending short wait fails; a 30 s one is under way
  server = await spawnServer({ databaseUrl: ctx.dbUrl, port: server.port });
  expect(await online.getAttribute('#connection-status', 'data-state')).toBe('reconnecting');

  const t0 = Date.now();
  await online.evaluate(() => window.dispatchEvent(new Event('online')));
  await shown.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await Promise.all([online, shown].map((p) => p.waitForSelector('#connection-status[data-state="live"]', { timeout: 5_000 })));
  expect(Date.now() - t0).toBeLessThan(2_000);
  expectNoProblems(problems.slice(mine), outageFrom);
});

/** No CSP violation, and no console error but a refused socket's once the outage began. */
function expectNoProblems(list: Problems[], outageFrom: number[]) {
  for (const [i, p] of list.entries()) {
    expect(p.csp).toEqual([]);
    expect(p.console.filter((t, j) => !(j >= (outageFrom[i] ?? 0) && OUTAGE_NOISE.test(t)))).toEqual([]);
  }
}
